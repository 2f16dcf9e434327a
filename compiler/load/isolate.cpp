// load_model: load_model_in_process run in a child process, so that a crash inside libhdf5 on a
// damaged file becomes an Error instead of killing the compiler. The parts that the reader of HDF5
// data files shares (data/data.cpp) are declared in load/isolate.h.
//
// The child dies with its parent (PR_SET_PDEATHSIG, then a check that the parent is still the one
// that forked it), has no core dumps and an address-space limit (RLIMIT_AS; under sanitizers, whose
// shadow memory needs terabytes of address space, the parent kills a child whose resident memory
// goes above the limit instead). It loads the model, then writes its answer
// to a pipe and exits with _exit (no atexit handlers, no stdio flush of the parent's buffers):
//   'L'         - loading finished (what follows is kc2cpp's own code, not libhdf5), then
//   'M' model   - the loaded model (format below); or instead of both:
//   'E' text    - the kc2cpp::Error message;
//   'O' text    - memory ran out (under the limit).
// Model format (native byte order; both ends are the same executable):
//   str keras_version, str backend, str cbor(config), u64 layer count,
//   per layer: str name, u64 array count, per array: str name, u64 rank, i64 dims[rank], u64 n, f32 data[n].
//   str = u64 size + bytes. CBOR keeps NaN and infinities that JSON text cannot.
// The parent reads while the child runs (no pipe deadlock), then waits; a child killed by a signal
// gives "crashed" whatever it wrote (blamed on libhdf5 before 'L', on kc2cpp after it). A child that
// sends nothing before a deadline (libhdf5 can also loop forever on a damaged file) is killed.
#include "error.h"
#include "load/keras_model.h"

#if defined(__unix__) || defined(__APPLE__)
#include "load/isolate.h"

#include <poll.h>
#if defined(__linux__)
#include <link.h>
#include <ucontext.h>
#endif
#if defined(__linux__)
#include <sys/prctl.h>
#endif
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <type_traits>

namespace kc2cpp::load {
namespace {

using namespace child;

// `cbor` is m.config encoded before anything is written, so that running out of memory while
// encoding cannot cut a message in half.
void write_model(PipeWriter& w, const KerasModel& m, const std::vector<uint8_t>& cbor) {
  w.str(m.keras_version);
  w.str(m.backend);
  w.pod<uint64_t>(cbor.size());
  w.bytes(cbor.data(), cbor.size());
  w.pod<uint64_t>(m.layers.size());
  for (const LayerWeights& l : m.layers) {
    w.str(l.layer);
    w.pod<uint64_t>(l.arrays.size());
    for (const NamedArray& a : l.arrays) {
      w.str(a.name);
      w.pod<uint64_t>(a.shape.size());
      for (int64_t d : a.shape) w.pod<int64_t>(d);
      w.pod<uint64_t>(a.data.size());
      w.bytes(a.data.data(), a.data.size() * sizeof(float));
    }
  }
}

KerasModel read_model(PipeReader& r, const std::string& path) {
  KerasModel m;
  m.path = path;
  m.keras_version = r.str();
  m.backend = r.str();
  m.config = nlohmann::json::from_cbor(r.str());
  m.layers.resize(r.count());
  for (LayerWeights& l : m.layers) {
    l.layer = r.str();
    l.arrays.resize(r.count());
    for (NamedArray& a : l.arrays) {
      a.name = r.str();
      a.shape.resize(r.count());
      for (int64_t& d : a.shape) d = r.pod<int64_t>();
      a.data.resize(r.count());
      r.bytes(a.data.data(), a.data.size() * sizeof(float));
    }
  }
  return m;
}

}  // namespace

namespace child {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kLimitAddressSpace = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
constexpr bool kLimitAddressSpace = false;
#else
constexpr bool kLimitAddressSpace = true;
#endif
#else
constexpr bool kLimitAddressSpace = true;
#endif

// Soft and hard limit, never above the hard limit kc2cpp itself runs under.
void limit_address_space(uint64_t bytes) {
  if (!kLimitAddressSpace) return;
  rlimit now{};
  if (::getrlimit(RLIMIT_AS, &now) != 0) return;
  rlim_t want = static_cast<rlim_t>(bytes);
  if (now.rlim_max != RLIM_INFINITY && want > now.rlim_max) want = now.rlim_max;
  rlimit lim{want, want};
  ::setrlimit(RLIMIT_AS, &lim);
}

// Under sanitizers (no RLIMIT_AS) the parent watches the child's resident memory instead: true once
// it is above `limit`.
bool resident_above(pid_t pid, uint64_t limit) {
  if (kLimitAddressSpace) return false;
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/statm").c_str(), "r");
  if (f == nullptr) return false;
  unsigned long long pages = 0, resident = 0;
  const bool read = std::fscanf(f, "%llu %llu", &pages, &resident) == 2;
  std::fclose(f);
  return read && resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)) > limit;
}

}  // namespace child

namespace {

// A crash signal in the child while loading, with errno ENOMEM (a failed allocation that libhdf5
// did not check, or a stack that could not grow under the limit) reports 'O' instead of a crash.
// Any other crash first says where it happened, from the faulting instruction's address: 'H' in
// the file-format libraries (libhdf5, zlib, libzip, szip), 'K' in kc2cpp itself, 'U' elsewhere
// (libc, libstdc++: called by either). Async-signal-safe: reads errno and memory, write, _exit,
// signal, raise. Runs on its own stack.
volatile sig_atomic_t g_answer_fd = -1;  // the pipe while nothing has been written to it, else -1

#if defined(__linux__)
struct CodeRange {
  uintptr_t begin = 0, end = 0;
  char where = 'U';
};
CodeRange g_ranges[32];
int g_range_count = 0;

// The executable segments of kc2cpp and of the file-format libraries (dl_iterate_phdr, before any crash).
int note_code_ranges(dl_phdr_info* info, size_t, void*) {
  const char* name = info->dlpi_name ? info->dlpi_name : "";
  char where = 'U';
  if (name[0] == '\0') where = 'K';  // the main program
  for (const char* lib : {"libhdf5", "libz.", "libzip", "libsz", "libaec"})
    if (std::strstr(name, lib) != nullptr) where = 'H';
  if (where == 'U') return 0;
  for (int i = 0; i < info->dlpi_phnum && g_range_count < 32; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X)) continue;
    const uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
    g_ranges[g_range_count++] = {begin, begin + ph.p_memsz, where};
  }
  return 0;
}

char where_crashed(const void* context) {
  uintptr_t pc = 0;
#if defined(__x86_64__)
  pc = static_cast<uintptr_t>(static_cast<const ucontext_t*>(context)->uc_mcontext.gregs[REG_RIP]);
#elif defined(__aarch64__)
  pc = static_cast<uintptr_t>(static_cast<const ucontext_t*>(context)->uc_mcontext.pc);
#endif
  for (int i = 0; i < g_range_count; ++i)
    if (pc >= g_ranges[i].begin && pc < g_ranges[i].end) return g_ranges[i].where;
  return 'U';
}
#else
char where_crashed(const void*) { return 0; }  // unknown: the parent's message blames libhdf5
#endif

extern "C" void on_child_crash(int sig, siginfo_t*, void* context) {
  const int fd = g_answer_fd;
  if (errno == ENOMEM && fd >= 0) {
    const char answer[1 + sizeof(uint64_t)] = {'O'};  // tag, then an empty text
    if (::write(fd, answer, sizeof answer) == static_cast<ssize_t>(sizeof answer)) ::_exit(0);
  }
  if (const char where = where_crashed(context); fd >= 0 && where != 0) {
    [[maybe_unused]] const ssize_t w = ::write(fd, &where, 1);  // if it fails, the parent blames libhdf5
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

}  // namespace

namespace child {

void report_memory_crashes(int fd) {
  if (!kLimitAddressSpace) return;  // sanitizers report crashes with their own handlers
  static char alt_stack[1 << 16];
  stack_t ss{};
  ss.ss_sp = alt_stack;
  ss.ss_size = sizeof alt_stack;
  if (::sigaltstack(&ss, nullptr) != 0) return;
  g_answer_fd = fd;
#if defined(__linux__)
  dl_iterate_phdr(note_code_ranges, nullptr);
#endif
  struct sigaction act {};
  act.sa_sigaction = on_child_crash;
  act.sa_flags = SA_ONSTACK | SA_RESETHAND | SA_SIGINFO;
  for (int sig : {SIGSEGV, SIGBUS, SIGABRT}) ::sigaction(sig, &act, nullptr);
}

// Right after fork: die with the parent. PDEATHSIG only acts on a parent that dies from now on, so
// a parent that is already gone (getppid() changed) is checked once by hand.
void die_with_parent(pid_t parent) {
#if defined(__linux__)
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
  if (::getppid() != parent) ::_exit(1);
}

void enter_child(pid_t parent, uint64_t max_memory) {
  die_with_parent(parent);
  rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);  // a crash in libhdf5 must not leave a core file behind
  limit_address_space(max_memory);
}

}  // namespace child

namespace {

[[noreturn]] void run_child(int fd, const std::string& path, const std::string& weights, pid_t parent,
                            uint64_t max_memory) {
  enter_child(parent, max_memory);
  report_memory_crashes(fd);
  PipeWriter w(fd);
  bool loaded = false;
  try {
    KerasModel m = load_model_in_process(path, weights);
    g_answer_fd = -1;
    w.pod<char>('L');
    loaded = true;
    const std::vector<uint8_t> cbor = nlohmann::json::to_cbor(m.config);
    w.pod<char>('M');
    write_model(w, m, cbor);
  } catch (const OutOfMemory& e) {
    g_answer_fd = -1;
    w.pod<char>('O');
    w.str(e.what());
  } catch (const std::bad_alloc&) {
    g_answer_fd = -1;
    w.pod<char>('O');
    w.str(path + (loaded ? ": out of memory while passing the model on" : ": out of memory while loading"));
  } catch (const Error& e) {
    g_answer_fd = -1;
    w.pod<char>('E');
    w.str(e.what());
  } catch (const std::exception& e) {
    g_answer_fd = -1;
    w.pod<char>('E');
    w.str(path + ": internal error while loading the model: " + e.what());
  }
  ::close(fd);
  ::_exit(0);
}

}  // namespace

namespace child {

// How the child ended: "" for a normal exit with status 0, else a description.
std::string wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return std::string("waitpid failed: ") + std::strerror(errno);
  }
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* name = ::strsignal(sig);
    return "signal " + std::to_string(sig) + (name ? std::string(" (") + name + ")" : "");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  return "exit status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

}  // namespace child

namespace {

uint64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && st.st_size > 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

// libhdf5 1.10 can also loop forever on a damaged file. The child gets 30 s plus 1 s per 20 MB
// (reading runs at hundreds of MB/s) to load the model before it is killed.
std::chrono::milliseconds load_timeout(const std::string& path, const std::string& weights) {
  uint64_t size = 0;
  for (const std::string* p : {&path, &weights}) {
    struct stat st {};
    if (!p->empty() && ::stat(p->c_str(), &st) == 0) size += static_cast<uint64_t>(st.st_size);
  }
  return std::chrono::milliseconds(30000 + size / 20000);
}

}  // namespace

namespace child {

// Gigabytes (2^30 bytes) as "8" or "1.5".
std::string gigabytes(uint64_t bytes) {
  char buf[32];
  const double gb = static_cast<double>(bytes) / double(uint64_t{1} << 30);
  std::snprintf(buf, sizeof buf, gb == std::floor(gb) ? "%.0f" : "%.2f", gb);
  return buf;
}

// The child's limit: `requested`, else KC2CPP_MAX_MEMORY, else the default (keras_model.h).
uint64_t memory_limit(uint64_t requested, const std::string& path) {
  if (requested != 0) return requested;
  if (const char* env = std::getenv("KC2CPP_MAX_MEMORY"); env != nullptr && *env != '\0') {
    char* end = nullptr;
    const double gb = std::strtod(env, &end);
    if (end == env || *end != '\0' || !(gb >= 0.01 && gb <= 1048576.0))
      throw Error(std::string("KC2CPP_MAX_MEMORY='") + env +
                  "' is not a number of gigabytes between 0.01 and 1048576 (e.g. KC2CPP_MAX_MEMORY=16)");
    return static_cast<uint64_t>(gb * double(uint64_t{1} << 30));
  }
  const uint64_t size = file_size(path);
  return size > kDefaultMaxMemory / 4 ? 4 * size : kDefaultMaxMemory;
}

}  // namespace child

namespace {

std::string memory_message(const std::string& path, uint64_t limit) {
  return path + ": the file asks for more than " + gigabytes(limit) +
         " GB of memory (the loader's limit); if the model really is that big, raise the limit with "
         "--max-memory <GB> or the environment variable KC2CPP_MAX_MEMORY=<GB>";
}

// The message for a child that did not give a complete answer. `where`: the crash tag ('H', 'K', 'U'),
// or 0 if the child sent none (no handler under sanitizers, or not a crash).
std::string failure_message(const std::string& path, const std::string& ended, bool loaded, char where) {
  if (loaded)
    return path + ": kc2cpp failed while passing the loaded model on (" + ended +
           "); this is a bug in kc2cpp, not a problem of the file: please report it";
  if (where == 'K')
    return path + ": kc2cpp's own reading code crashed on this file (" + ended +
           "); this is a bug in kc2cpp: please report it with the file. The file is probably damaged too: "
           "copy it again or save the model again with model.save('model.h5')";
  if (where == 'U')
    return path + ": the process reading this file crashed (" + ended +
           ", in a system library called by libhdf5 or by kc2cpp); the file is probably damaged: copy it again "
           "or save the model again with model.save('model.h5')";
  if (ended.rfind("signal " + std::to_string(SIGKILL) + " ", 0) == 0)
    return path + ": the process reading this file was killed (" + ended +
           "; the system's out-of-memory killer does this when memory runs out); if the model is very large, "
           "free memory or lower the limit with --max-memory so that the loader stops with a clear error";
  return path + ": the HDF5 library crashed while reading this file (" + ended +
         "); the file is damaged: copy it again or save the model again with model.save('model.h5')";
}

}  // namespace

KerasModel load_model(const std::string& path, const std::string& weights, uint64_t max_memory,
                      std::chrono::milliseconds timeout_or_zero) {
  require_not_special(path);  // a FIFO would block the reading child until the timeout
  if (!weights.empty()) require_not_special(weights);
  const std::string& hdf5_file = weights.empty() ? path : weights;  // where libhdf5 reads
  const uint64_t limit = memory_limit(max_memory, hdf5_file);
  const std::chrono::milliseconds timeout =
      timeout_or_zero.count() > 0 ? timeout_or_zero : load_timeout(path, weights);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  const pid_t parent = ::getpid();
  int fds[2];
  if (::pipe(fds) != 0) return load_model_in_process(path, weights);
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return load_model_in_process(path, weights);
  }
  if (pid == 0) {
    ::close(fds[0]);
    run_child(fds[1], path, weights, parent, limit);
  }
  ::close(fds[1]);
  PipeReader r(fds[0]);
  char tag = 0;
  KerasModel model;
  std::string error;
  bool complete = false, loaded = false;
  bool over_limit = false;
  if (!r.wait_until(deadline, [&] { return over_limit = resident_above(pid, limit); })) {
    ::kill(pid, SIGKILL);
    ::close(fds[0]);
    wait_for(pid);
    if (over_limit) throw Error(memory_message(hdf5_file, limit));
    throw Error(hdf5_file + ": the HDF5 library did not finish reading this file within " +
                std::to_string(timeout.count() / 1000) +
                " s; the file is probably damaged: copy it again or save the model again with "
                "model.save('model.h5')");
  }
  char crash = 0;  // where the child crashed, if it said so
  try {
    tag = r.pod<char>();
    if (tag == 'H' || tag == 'K' || tag == 'U') crash = tag;
    if (tag == 'L') {
      loaded = true;
      tag = r.pod<char>();
    }
    if (tag == 'M') model = read_model(r, path);
    else if (tag == 'E' || tag == 'O') error = r.str();
    complete = tag == 'M' || tag == 'E' || tag == 'O';
  } catch (const std::exception&) {
    complete = false;
  }
  r.drain();
  ::close(fds[0]);
  std::string ended = wait_for(pid);
  if (!ended.empty() || !complete)
    throw Error(failure_message(hdf5_file, ended.empty() ? std::string("incomplete answer") : ended, loaded, crash));
  if (tag == 'O') throw Error(memory_message(hdf5_file, limit));
  if (tag == 'E') throw Error(error);
  return model;
}

}  // namespace kc2cpp::load

#else  // no fork(): load in process

namespace kc2cpp::load {
KerasModel load_model(const std::string& path, const std::string& weights, uint64_t, std::chrono::milliseconds) {
  require_not_special(path);
  if (!weights.empty()) require_not_special(weights);
  return load_model_in_process(path, weights);
}
}  // namespace kc2cpp::load

#endif
