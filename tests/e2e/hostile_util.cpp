#include "hostile_util.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "e2e_util.h"

namespace fs = std::filesystem;

namespace kc2cpp::e2e {

std::string case_dir(const std::string& name) {
  const std::string dir = work_dir() + "/hostile/" + name;
  make_clean_dir(dir);
  return dir;
}

Outcome run_kc2cpp(const std::vector<std::string>& args, const std::string& scratch, const RunOptions& opt) {
  const std::string out_file = scratch + ".stdout", err_file = scratch + ".stderr";
  std::vector<std::string> argv = {kc2cpp_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int o = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0 || ::dup2(o, 1) < 0 || ::dup2(e, 2) < 0) ::_exit(126);
    if (opt.uid != 0 && (::setgid(opt.uid) != 0 || ::setuid(opt.uid) != 0)) ::_exit(126);
    if (opt.max_file_size != RLIM_INFINITY) {
      const rlimit lim{opt.max_file_size, opt.max_file_size};
      ::signal(SIGXFSZ, SIG_IGN);  // ignored, not fatal: write() then fails with EFBIG
      if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) ::_exit(126);
    }
    std::vector<char*> cargv;
    for (std::string& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  Outcome r;
  if (pid < 0) return r;
  if (opt.while_running) opt.while_running(pid);
  int status = 0;
  rusage usage{};  // of kc2cpp and the children it waited for (the loader)
  for (;;) {
    const pid_t w = ::wait4(pid, &status, WNOHANG, &usage);
    if (w == pid) break;
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > opt.timeout) {
      r.timed_out = true;
      ::kill(pid, SIGKILL);
      ::wait4(pid, &status, 0, &usage);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.max_resident_kb = usage.ru_maxrss;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  // A run killed before it opened them has no output files.
  r.out = file_exists(out_file) ? read_file(out_file) : "";
  r.err = file_exists(err_file) ? read_file(err_file) : "";
  fs::remove(out_file);
  fs::remove(err_file);
  return r;
}

std::vector<std::string> tree(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) out.push_back(e.path().lexically_relative(dir).string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
  return "[" + s + "]";
}

void expect_refused(const Outcome& r, const std::string& at_fault, const std::vector<std::string>& mentions,
                    const std::string& dir, const std::vector<std::string>& expected, double max_seconds) {
  EXPECT_FALSE(r.timed_out) << "kc2cpp did not finish (blocked?)";
  EXPECT_EQ(r.exit_code, 1) << "signal " << r.signal << ", stderr:\n" << r.err;
  const std::string prefix = "kc2cpp: error: " + at_fault + ": ";
  EXPECT_EQ(r.err.rfind(prefix, 0), 0u) << "stderr must start with '" << prefix << "', got:\n" << r.err;
  for (const std::string& m : mentions)
    EXPECT_NE(r.err.find(m), std::string::npos) << "the message must mention '" << m << "', got:\n" << r.err;
  EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "") << "nothing on stdout on error";
  EXPECT_LT(r.seconds, max_seconds);
  EXPECT_LT(r.max_resident_kb, kMaxResidentKb) << "peak resident memory in KiB";
  EXPECT_EQ(joined(tree(dir)), joined(expected)) << "files made or removed by a refused run";
  std::printf("[ hostile  ] exit %d in %.2f s: %s", r.exit_code, r.seconds, r.err.c_str());
}

std::string copy_model(const std::string& dir) {
  const std::string model = dir + "/model.h5";
  fs::copy_file(source_dir() + "/" + kModelFixture, model);
  return model;
}

}  // namespace kc2cpp::e2e
