// The parts of the loader's child process (isolate.cpp) that other readers of untrusted files share:
// data/data.cpp reads HDF5 data files in such a child too. POSIX only.
#pragma once

#include <poll.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace kc2cpp::load::child {

// The child's end of a pipe: writes give up quietly once the parent is gone.
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
  // Waits until data (or EOF) is available, looking at `stop()` every 50 ms; false if `deadline`
  // passes or `stop()` returns true first.
  template <typename Stop>
  bool wait_until(std::chrono::steady_clock::time_point deadline, Stop stop) {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || stop()) return false;
      pollfd p{fd_, POLLIN, 0};
      int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 50)));
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

// Right after fork, in the child: dies with `parent` (PR_SET_PDEATHSIG, and gone already: exits), writes
// no core file, and may use at most `max_memory` bytes of address space (RLIMIT_AS; not under sanitizers,
// where the parent watches resident_above instead).
void enter_child(pid_t parent, uint64_t max_memory);
// In the child, before reading: a crash signal with errno ENOMEM (an allocation libhdf5 did not check,
// or a stack that could not grow under the limit) writes 'O' and an empty text (u64 0) to `fd` and exits
// 0; any other crash first writes where it happened: 'H' (libhdf5, zlib, libzip), 'K' (kc2cpp), 'U'
// (elsewhere). Not under sanitizers, which report crashes themselves.
void report_memory_crashes(int fd);
// Under sanitizers (no RLIMIT_AS): true once the child's resident memory is above `limit`; else false.
bool resident_above(pid_t pid, uint64_t limit);
// Waits for the child: "" for a normal exit with status 0, else how it ended ("signal 11 (Segmentation fault)").
std::string wait_for(pid_t pid);
// The child's memory limit: `requested`, else KC2CPP_MAX_MEMORY (gigabytes), else kDefaultMaxMemory or
// 4 times the size of `path`, whichever is larger. Throws Error for a malformed KC2CPP_MAX_MEMORY.
uint64_t memory_limit(uint64_t requested, const std::string& path);
// Gigabytes (2^30 bytes) as "8" or "1.5".
std::string gigabytes(uint64_t bytes);

}  // namespace kc2cpp::load::child
