// Running the real kc2cpp binary on hostile input, and the refusal contract every such run must meet
// (tests/e2e/hostile_test.cpp, tests/e2e/corrupt_test.cpp).
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace kc2cpp::e2e {

inline constexpr double kMaxSeconds = 5.0;                     // per refused run
inline constexpr long kMaxResidentKb = 1024L * 1024;           // 1 GiB, kc2cpp and its loader child
inline constexpr const char* kModelFixture = "tests/fixtures/k3/summary_walkthrough.h5";

// A fresh directory <work>/hostile/<name>.
std::string case_dir(const std::string& name);

struct Outcome {
  int exit_code = -1;  // -1: killed by a signal
  int signal = 0;
  bool timed_out = false;
  double seconds = 0;
  long max_resident_kb = 0;  // peak resident memory of kc2cpp or its loader child (wait4's ru_maxrss)
  std::string out, err;
};

struct RunOptions {
  uid_t uid = 0;                            // non-zero: run as this user (the test runs as root)
  std::function<void(pid_t)> while_running;  // called once after the start, e.g. to send a signal
  double timeout = 20;                      // then SIGKILL: a refusal that blocks fails, never hangs
  rlim_t max_file_size = RLIM_INFINITY;     // RLIMIT_FSIZE: writes beyond it fail with EFBIG
};

// Runs kc2cpp with `args`; stdout and stderr go to files beside `scratch`.
Outcome run_kc2cpp(const std::vector<std::string>& args, const std::string& scratch, const RunOptions& opt = {});

// Files in `dir` (recursively), as paths relative to it, sorted.
std::vector<std::string> tree(const std::string& dir);
std::string joined(const std::vector<std::string>& v);

// The refusal contract: exit code 1, stderr "kc2cpp: error: <at_fault>: ..." mentioning each of
// `mentions`, no "internal error", nothing on stdout, under kMaxSeconds and kMaxResidentKb, and `dir`
// holding exactly `expected` afterwards (what was there before). `max_seconds`: only for a file that
// makes libhdf5 loop, which the loader's 30 s timeout stops.
void expect_refused(const Outcome& r, const std::string& at_fault, const std::vector<std::string>& mentions,
                    const std::string& dir, const std::vector<std::string>& expected, double max_seconds = kMaxSeconds);

// A copy of the small fixture model in `dir`, as "<dir>/model.h5".
std::string copy_model(const std::string& dir);

}  // namespace kc2cpp::e2e
