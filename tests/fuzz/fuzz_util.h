// What both libFuzzer targets share: the rule that kc2cpp::Error is the only acceptable failure,
// and the set-up of the loader's child process under the fuzzer.
#pragma once

#include <fcntl.h>
#include <pthread.h>
#include <sanitizer/common_interface_defs.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "error.h"
#include "lower/lower.h"

namespace kc2cpp::fuzz {

// Runs `f`; a kc2cpp::Error is the expected answer to a bad input, anything else that escapes
// (the "internal error" of the command line, exit 3) is a finding, and so is an Error from a config
// value read without a typed accessor (lower::kUncheckedConfigAccess): abort so that libFuzzer keeps
// the input.
// KC2CPP_FUZZ_PRINT_ERRORS=1 prints each Error's message (to look over the messages a corpus gives,
// e.g. for nlohmann's "[json.exception...]" texts that name no key).
template <typename F>
void expect_only_errors(F&& f) {
  static const bool print = std::getenv("KC2CPP_FUZZ_PRINT_ERRORS") != nullptr;
  try {
    f();
  } catch (const Error& e) {
    if (print) std::fprintf(stderr, "kc2cpp fuzz: error: %s\n", e.what());
    if (std::strstr(e.what(), lower::kUncheckedConfigAccess) != nullptr) {
      std::fprintf(stderr, "kc2cpp fuzz: a config value was read without a typed accessor: %s\n", e.what());
      std::abort();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kc2cpp fuzz: an exception other than kc2cpp::Error escaped: %s\n", e.what());
    std::abort();
  }
}

// The loader reads in a forked child (load/isolate.cpp). In that child, a sanitizer report (a libhdf5
// crash, or a bug in kc2cpp's reading code) must not run libFuzzer's death callback, which would
// save the input as a crash of the fuzzer although the parent goes on with a clean error: the report
// itself still goes to stderr, where a long run's log is searched for it (docs/fuzzing.md).
// The child's memory is bounded by KC2CPP_MAX_MEMORY (1 GB unless set): the parent watches its
// resident size, as RLIMIT_AS cannot be used under ASan.
inline void init_loader_child() {
  pthread_atfork(nullptr, nullptr, [] { __sanitizer_set_death_callback(nullptr); });
  setenv("KC2CPP_MAX_MEMORY", "1", /*overwrite=*/0);
}

// The file each input is written to (`name` in a private directory in /dev/shm, else $TMPDIR or /tmp),
// both removed at exit. Call once, from LLVMFuzzerInitialize.
inline const std::string& scratch_file(const char* name) {
  static std::string path, dir;
  const char* tmp = std::getenv("TMPDIR");
  dir = std::string(access("/dev/shm", W_OK) == 0 ? "/dev/shm" : tmp ? tmp : "/tmp") + "/kc2cpp-fuzz-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) std::abort();
  path = dir + "/" + name;
  std::atexit([] {
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
  });
  return path;
}

// Replaces the contents of `path` by the input's bytes; aborts if that fails (not a finding of kc2cpp).
inline void write_input(const std::string& path, const uint8_t* data, size_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool ok = fd >= 0;
  while (ok && size > 0) {
    const ssize_t w = ::write(fd, data, size);
    ok = w > 0;
    if (ok) data += w, size -= static_cast<size_t>(w);
  }
  if (fd < 0 || ::close(fd) != 0 || !ok) std::abort();
}

}  // namespace kc2cpp::fuzz
