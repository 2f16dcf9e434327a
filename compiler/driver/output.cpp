#include "driver/output.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.h"

namespace kc2cpp::driver {
namespace {

// ---- paths ------------------------------------------------------------------------------------

// strerror(e) with a lower-case first letter, to continue a sentence ("no space left on device").
std::string reason(int e) {
  std::string s = std::strerror(e);
  if (s.size() > 1 && s[0] >= 'A' && s[0] <= 'Z' && !(s[1] >= 'A' && s[1] <= 'Z')) s[0] = static_cast<char>(s[0] - 'A' + 'a');
  return s;
}

std::string directory_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string name_of(const std::string& path) { return path.substr(path.find_last_of('/') + 1); }

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

[[noreturn]] void refuse(const std::string& path, const std::string& why) { throw Error(path + ": " + why); }

// Which file a path names: an existing file by its device and inode (name empty); a file still to
// be made by its directory's device and inode and its name.
struct Identity {
  dev_t dev = 0;
  ino_t ino = 0;
  std::string name;
  bool operator==(const Identity& o) const { return dev == o.dev && ino == o.ino && name == o.name; }
};

// The directory `path` will be written in exists, is a directory and is writable.
Identity check_directory(const std::string& path) {
  const std::string dir = directory_of(path);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    const int e = errno;
    if (e == ENOENT) refuse(path, "cannot write: the directory '" + dir + "' does not exist; create it first");
    if (e == ENOTDIR) refuse(path, "cannot write: '" + dir + "' is not a directory");
    refuse(path, "cannot write: the directory '" + dir + "' cannot be accessed (" + reason(e) + ")");
  }
  if (!S_ISDIR(st.st_mode)) refuse(path, "cannot write: '" + dir + "' is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    refuse(path, "cannot write: the directory '" + dir + "' is not writable (" + reason(errno) + ")");
  return {st.st_dev, st.st_ino, name_of(path)};
}

std::string link_target(const std::string& path) {
  char buf[4096];
  const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("?");
}

// One output path by the rules in output.h.
Identity check_output(const std::string& path) {
  if (path.empty() || path.back() == '/')
    refuse(path, "cannot write: this names a directory, not a file; pass a file name such as model.cpp");
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    const int e = errno;
    Identity id = check_directory(path);  // reports a missing or unusable directory first
    if (e != ENOENT) refuse(path, "cannot write: " + reason(e));
    return id;
  }
  if (S_ISLNK(st.st_mode))
    refuse(path, "is a symbolic link (to '" + link_target(path) +
                     "'); kc2cpp neither replaces a link nor writes through one: pass the path of the file itself");
  if (!S_ISREG(st.st_mode))
    refuse(path, std::string("is ") + kind_of(st.st_mode) +
                     ", not a regular file; kc2cpp writes only regular files: pass a file path such as model.cpp" +
                     (S_ISCHR(st.st_mode) ? " (to check a model without writing anything, run 'kc2cpp inspect')" : ""));
  check_directory(path);
  return {st.st_dev, st.st_ino, ""};
}

// ---- temporary files and signals ----------------------------------------------------------------

// The temporary files a signal handler must remove. A slot is filled (after its file is created)
// and emptied (after the rename) with the handled signals blocked, so the handler only ever sees
// complete paths of files this process created and has not yet renamed.
constexpr int kSlots = 64;  // outputs of one run (eval writes one per model output)
constexpr size_t kMaxPath = 4096;
char g_temp_path[kSlots][kMaxPath];
volatile sig_atomic_t g_temp_live[kSlots];
constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};

// Async-signal-safe: unlink and raise only. SA_RESETHAND has restored the default action, so the
// raised signal terminates the process as it would have without the handler.
extern "C" void remove_temporaries_and_die(int sig) {
  for (int i = 0; i < kSlots; ++i)
    if (g_temp_live[i]) ::unlink(g_temp_path[i]);
  ::raise(sig);
}

sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kSignals) sigaddset(&set, sig);
  return set;
}

// Blocks SIGINT, SIGTERM and SIGHUP for its lifetime.
class SignalsBlocked {
 public:
  SignalsBlocked() {
    const sigset_t set = handled_signals();
    ::sigprocmask(SIG_BLOCK, &set, &old_);
  }
  ~SignalsBlocked() { ::sigprocmask(SIG_SETMASK, &old_, nullptr); }
  SignalsBlocked(const SignalsBlocked&) = delete;
  SignalsBlocked& operator=(const SignalsBlocked&) = delete;

 private:
  sigset_t old_;
};

// The temporary files of one write_outputs call. While it lives, SIGINT/SIGTERM/SIGHUP remove them
// (a signal the process ignores, e.g. SIGHUP under nohup, stays ignored). The destructor removes
// every file not yet renamed and restores the previous signal actions.
class Temporaries {
 public:
  Temporaries() {
    struct sigaction act {};
    act.sa_handler = remove_temporaries_and_die;
    act.sa_mask = handled_signals();
    act.sa_flags = SA_RESETHAND;
    for (int i = 0; i < kSignalCount; ++i) {
      ::sigaction(kSignals[i], nullptr, &old_[i]);
      installed_[i] = old_[i].sa_handler != SIG_IGN && ::sigaction(kSignals[i], &act, nullptr) == 0;
    }
  }
  ~Temporaries() {
    {
      SignalsBlocked blocked;
      for (int i = 0; i < kSlots; ++i)
        if (g_temp_live[i]) {
          ::unlink(g_temp_path[i]);
          g_temp_live[i] = 0;
        }
    }
    for (int i = 0; i < kSignalCount; ++i)
      if (installed_[i]) ::sigaction(kSignals[i], &old_[i], nullptr);
  }
  Temporaries(const Temporaries&) = delete;
  Temporaries& operator=(const Temporaries&) = delete;

  // Creates a new, empty temporary file beside `target`; returns its descriptor and sets `slot`.
  int create(const std::string& target, int& slot);
  // Renames the complete temporary file in `slot` over `target`.
  void commit(int slot, const std::string& target);

 private:
  static constexpr int kSignalCount = sizeof kSignals / sizeof kSignals[0];
  struct sigaction old_[kSignalCount] {};
  bool installed_[kSignalCount] = {};
};

std::string create_error(const std::string& target, int e) {
  const std::string dir = directory_of(target);
  if (e == ENOENT) return "cannot write: the directory '" + dir + "' does not exist; create it first";
  if (e == EACCES || e == EPERM) return "cannot write: permission denied: the directory '" + dir + "' is not writable";
  return "cannot write: " + reason(e);
}

int Temporaries::create(const std::string& target, int& slot) {
  slot = 0;
  while (slot < kSlots && g_temp_live[slot]) ++slot;
  if (slot == kSlots) refuse(target, "cannot write: too many output files at once");
  const std::string base = target + ".kc2cpp-tmp-" + std::to_string(::getpid());
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::string temp = attempt == 0 ? base : base + "-" + std::to_string(attempt);
    if (temp.size() >= kMaxPath) refuse(target, "cannot write: the path is too long");
    SignalsBlocked blocked;
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd >= 0) {
      std::memcpy(g_temp_path[slot], temp.c_str(), temp.size() + 1);
      g_temp_live[slot] = 1;
      return fd;
    }
    if (errno != EEXIST && errno != EINTR) refuse(target, create_error(target, errno));
  }
  refuse(target, "cannot write: cannot find a free temporary name beside it; remove old '" + name_of(base) +
                     "*' files");
}

void Temporaries::commit(int slot, const std::string& target) {
  SignalsBlocked blocked;
  if (::rename(g_temp_path[slot], target.c_str()) != 0) {
    const int e = errno;
    refuse(target, "cannot move the finished file into place: " + reason(e));
  }
  g_temp_live[slot] = 0;
}

void write_all(int fd, const std::string& text, const std::string& target) {
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int e = n < 0 ? errno : EIO;
      ::close(fd);
      refuse(target, "cannot write: " + reason(e));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::close(fd) != 0) refuse(target, "cannot write: " + reason(errno));
}

}  // namespace

void check_outputs(const std::vector<std::string>& inputs, const std::vector<std::string>& outputs) {
  std::vector<Identity> seen;
  for (const std::string& path : outputs) {
    const Identity id = check_output(path);
    for (size_t k = 0; k < inputs.size(); ++k) {
      struct stat in {};
      if (id.name.empty() && ::stat(inputs[k].c_str(), &in) == 0 && id.dev == in.st_dev && id.ino == in.st_ino)
        refuse(path, std::string("is the input ") + (k == 0 ? "model " : "") + "file '" + inputs[k] +
                         "'; writing it would destroy it: pass another output path");
    }
    for (size_t k = 0; k < seen.size(); ++k)
      if (seen[k] == id)
        refuse(path, "is the same file as the output '" + outputs[k] + "'; pass a different path for each output");
    seen.push_back(id);
  }
}

void write_outputs(const std::vector<std::string>& inputs, const std::vector<OutputFile>& files) {
  std::vector<std::string> paths;
  for (const OutputFile& f : files) paths.push_back(f.path);
  check_outputs(inputs, paths);
  Temporaries temps;
  std::vector<int> slots;
  for (const OutputFile& f : files) {
    int slot = 0;
    const int fd = temps.create(f.path, slot);
    slots.push_back(slot);
    write_all(fd, f.text, f.path);
  }
  check_outputs(inputs, paths);  // again: the targets may have changed while the files were written
  for (size_t i = 0; i < files.size(); ++i) temps.commit(slots[i], files[i].path);
}

}  // namespace kc2cpp::driver
