// load_model: load_model_in_process run in a child process, so that a crash inside libhdf5 on a
// damaged file becomes an Error instead of killing the compiler.
//
// The child loads the model, then writes one message to a pipe and exits with _exit (no atexit
// handlers, no stdio flush of the parent's buffers):
//   'M' model   - the loaded model (format below), or
//   'E' text    - the kc2cpp::Error message.
// Model format (native byte order; both ends are the same executable):
//   str keras_version, str backend, str cbor(config), u64 layer count,
//   per layer: str name, u64 array count, per array: str name, u64 rank, i64 dims[rank], u64 n, f32 data[n].
//   str = u64 size + bytes. CBOR keeps NaN and infinities that JSON text cannot.
// The parent reads while the child runs (no pipe deadlock), then waits; a child killed by a signal
// gives "crashed" whatever it wrote. A child that sends nothing before a deadline (libhdf5 can also
// loop forever on a damaged file) is killed.
#include "error.h"
#include "load/keras_model.h"

#if defined(__unix__) || defined(__APPLE__)
#include <poll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <type_traits>

namespace kc2cpp::load {
namespace {

class PipeWriter {
 public:
  explicit PipeWriter(int fd) : fd_(fd) {}
  void bytes(const void* p, size_t n) {
    const char* c = static_cast<const char*>(p);
    while (n > 0) {
      ssize_t w = ::write(fd_, c, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return;  // the parent went away; nothing left to do
      c += w;
      n -= static_cast<size_t>(w);
    }
  }
  template <typename T>
  void pod(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    bytes(&v, sizeof v);
  }
  void str(const std::string& s) {
    pod<uint64_t>(s.size());
    bytes(s.data(), s.size());
  }

 private:
  int fd_;
};

// Reads the child's message; any short read throws (the caller then looks at how the child ended).
class PipeReader {
 public:
  explicit PipeReader(int fd) : fd_(fd) {}
  void bytes(void* p, size_t n) {
    char* c = static_cast<char*>(p);
    while (n > 0) {
      ssize_t r = ::read(fd_, c, n);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) throw std::runtime_error("short message");
      c += r;
      n -= static_cast<size_t>(r);
    }
  }
  // Waits until data (or EOF) is available; false if `deadline` passes first.
  bool wait_until(std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1 << 30)));
      if (n > 0) return true;
      if (n < 0 && errno != EINTR) return true;  // let the read report the problem
    }
  }
  template <typename T>
  T pod() {
    T v;
    bytes(&v, sizeof v);
    return v;
  }
  uint64_t count() {
    uint64_t n = pod<uint64_t>();
    if (n > (uint64_t{1} << 40)) throw std::runtime_error("implausible count");
    return n;
  }
  std::string str() {
    std::string s(count(), '\0');
    bytes(s.data(), s.size());
    return s;
  }
  void drain() {
    char buf[4096];
    for (;;) {
      ssize_t r = ::read(fd_, buf, sizeof buf);
      if (r > 0 || (r < 0 && errno == EINTR)) continue;
      return;
    }
  }

 private:
  int fd_;
};

void write_model(PipeWriter& w, const KerasModel& m) {
  w.str(m.keras_version);
  w.str(m.backend);
  std::vector<uint8_t> cbor = nlohmann::json::to_cbor(m.config);
  w.str(std::string(cbor.begin(), cbor.end()));
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

[[noreturn]] void run_child(int fd, const std::string& path, const std::string& weights) {
  rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);  // a crash in libhdf5 must not leave a core file behind
  PipeWriter w(fd);
  try {
    KerasModel m = load_model_in_process(path, weights);
    w.pod<char>('M');
    write_model(w, m);
  } catch (const Error& e) {
    w.pod<char>('E');
    w.str(e.what());
  } catch (const std::exception& e) {
    w.pod<char>('E');
    w.str(path + ": internal error while loading the model: " + e.what());
  }
  ::close(fd);
  ::_exit(0);
}

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

KerasModel load_model(const std::string& path, const std::string& weights) {
  const std::chrono::milliseconds timeout = load_timeout(path, weights);
  const std::string& hdf5_file = weights.empty() ? path : weights;  // where libhdf5 reads
  auto deadline = std::chrono::steady_clock::now() + timeout;
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
    run_child(fds[1], path, weights);
  }
  ::close(fds[1]);
  PipeReader r(fds[0]);
  char tag = 0;
  KerasModel model;
  std::string error;
  bool complete = false;
  if (!r.wait_until(deadline)) {
    ::kill(pid, SIGKILL);
    ::close(fds[0]);
    wait_for(pid);
    throw Error(hdf5_file + ": the HDF5 library did not finish reading this file within " +
                std::to_string(timeout.count() / 1000) +
                " s; the file is probably damaged: copy it again or save the model again with "
                "model.save('model.h5')");
  }
  try {
    tag = r.pod<char>();
    if (tag == 'M') model = read_model(r, path);
    else if (tag == 'E') error = r.str();
    complete = tag == 'M' || tag == 'E';
  } catch (const std::exception&) {
    complete = false;
  }
  r.drain();
  ::close(fds[0]);
  std::string ended = wait_for(pid);
  if (!ended.empty() || !complete)
    throw Error(hdf5_file + ": the HDF5 library crashed while reading this file (" +
                (ended.empty() ? std::string("incomplete result") : ended) +
                "); the file is damaged: copy it again or save the model again with model.save('model.h5')");
  if (tag == 'E') throw Error(error);
  return model;
}

}  // namespace kc2cpp::load

#else  // no fork(): load in process

namespace kc2cpp::load {
KerasModel load_model(const std::string& path, const std::string& weights) {
  return load_model_in_process(path, weights);
}
}  // namespace kc2cpp::load

#endif
