// Hostile files and careless paths through the real kc2cpp binary (issue 16): outputs that are
// devices, FIFOs, sockets, symbolic links, directories or the input model; missing and read-only
// directories; signals during the write; HDF5 files that point at other files (external storage,
// virtual datasets, external and soft links), use foreign filters or claim more data than they
// hold; the loader's memory limit and its death with kc2cpp.
//
// Every refusal asserts: exit code 1, stderr "kc2cpp: error: <the path at fault>: ...", nothing on
// stdout, no output or temporary file left, under 5 s and 1 GiB (hostile_util.h). The hostile HDF5 files are
// made at test time from a real fixture with the HDF5 C API, and each is first read back here to
// prove it really does reach outside itself. Damaged files and configs: corrupt_test.cpp.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <hdf5.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "e2e_util.h"
#include "hostile_util.h"

namespace fs = std::filesystem;

namespace kc2cpp::e2e {
namespace {

const char* const kBigFixture = "tests/fixtures/k3/mnist_hdf5matrix.h5";  // 17 MB: a 75 MB .cpp in ~1 s
const char* const kMidFixture = "tests/fixtures/k3/conv_stack_dense4d.h5";  // a 1.7 MB .cpp in ~0.1 s
const char* const kKernel = "/model_weights/dense/sequential/dense/kernel";  // float32 [3, 32]

struct stat stat_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path << ": " << std::strerror(errno);
  return st;
}

// ---- output paths ----------------------------------------------------------------------------

TEST(HostileOutput, DeviceNodesAreRefusedAndSurvive) {
  if (::geteuid() != 0) GTEST_SKIP() << "SKIPPED: making private /dev/null and /dev/full nodes needs root";
  const std::string dir = case_dir("device");
  const std::string model = copy_model(dir);
  const std::pair<const char*, dev_t> devices[] = {{"null", makedev(1, 3)}, {"full", makedev(1, 7)}};
  for (const auto& [name, dev] : devices)
    ASSERT_EQ(::mknod((dir + "/" + name).c_str(), S_IFCHR | 0666, dev), 0) << std::strerror(errno);
  for (const auto& [name, dev] : devices) {
    SCOPED_TRACE(name);
    const std::string out = dir + "/" + name;
    for (const std::vector<std::string>& args : {std::vector<std::string>{model, "-o", out},
                                                 std::vector<std::string>{model, "-o", dir + "/m.cpp", "--header", out}}) {
      const Outcome r = run_kc2cpp(args, dir + "/../device-run");
      expect_refused(r, out, {"character device", "not a regular file"}, dir, {"full", "model.h5", "null"});
      const struct stat st = stat_of(out);
      EXPECT_TRUE(S_ISCHR(st.st_mode)) << out << " is no longer a character device";
      EXPECT_EQ(st.st_rdev, dev) << out << " is a different device now";
    }
  }
}

TEST(HostileOutput, FifoIsRefusedWithoutBlocking) {
  const std::string dir = case_dir("fifo");
  const std::string model = copy_model(dir);
  ASSERT_EQ(::mkfifo((dir + "/m.cpp").c_str(), 0644), 0);
  const Outcome r = run_kc2cpp({model, "-o", dir + "/m.cpp"}, dir + "/../fifo-run", {0, nullptr, kMaxSeconds});
  expect_refused(r, dir + "/m.cpp", {"FIFO", "not a regular file"}, dir, {"m.cpp", "model.h5"});
  EXPECT_TRUE(S_ISFIFO(stat_of(dir + "/m.cpp").st_mode));
}

TEST(HostileOutput, SocketIsRefused) {
  const std::string dir = case_dir("socket");
  const std::string model = copy_model(dir);
  const std::string sock = dir + "/m.cpp";
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (sock.size() >= sizeof addr.sun_path) GTEST_SKIP() << "SKIPPED: the work directory's path is too long for a socket";
  std::strcpy(addr.sun_path, sock.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
  const Outcome r = run_kc2cpp({model, "-o", sock}, dir + "/../socket-run");
  ::close(fd);
  expect_refused(r, sock, {"socket", "not a regular file"}, dir, {"m.cpp", "model.h5"});
  EXPECT_TRUE(S_ISSOCK(stat_of(sock).st_mode));
}

TEST(HostileOutput, SymlinksAreNeverReplacedNorWrittenThrough) {
  const std::string dir = case_dir("symlink");
  const std::string model = copy_model(dir);
  write_file(dir + "/target.cpp", "keep me\n");
  fs::create_symlink("target.cpp", dir + "/link.cpp");
  fs::create_symlink("nowhere.cpp", dir + "/dangling.cpp");
  const std::vector<std::string> before = {"dangling.cpp", "link.cpp", "model.h5", "target.cpp"};
  for (const std::string& link : {dir + "/link.cpp", dir + "/dangling.cpp"}) {
    for (const std::vector<std::string>& args : {std::vector<std::string>{model, "-o", link},
                                                 std::vector<std::string>{model, "-o", dir + "/m.cpp", "--header", link}}) {
      const Outcome r = run_kc2cpp(args, dir + "/../symlink-run");
      expect_refused(r, link, {"symbolic link"}, dir, before);
    }
  }
  EXPECT_TRUE(fs::is_symlink(dir + "/link.cpp"));
  EXPECT_EQ(fs::read_symlink(dir + "/link.cpp"), "target.cpp");
  EXPECT_EQ(fs::read_symlink(dir + "/dangling.cpp"), "nowhere.cpp");
  EXPECT_EQ(read_file(dir + "/target.cpp"), "keep me\n");
}

TEST(HostileOutput, DirectoryIsRefused) {
  const std::string dir = case_dir("directory");
  const std::string model = copy_model(dir);
  fs::create_directory(dir + "/m.cpp");
  Outcome r = run_kc2cpp({model, "-o", dir + "/m.cpp"}, dir + "/../directory-run");
  expect_refused(r, dir + "/m.cpp", {"is a directory"}, dir, {"m.cpp", "model.h5"});
  r = run_kc2cpp({model, "-o", dir + "/m.cpp/"}, dir + "/../directory-run");
  expect_refused(r, dir + "/m.cpp/", {"directory"}, dir, {"m.cpp", "model.h5"});
}

TEST(HostileOutput, TheInputModelIsNeverAnOutput) {
  const std::string dir = case_dir("input-as-output");
  const std::string model = copy_model(dir);
  const std::string bytes = read_file(model);
  ASSERT_EQ(::link(model.c_str(), (dir + "/hardlink.h5").c_str()), 0);
  fs::create_directory(dir + "/sub");
  // The same file under other names: the very string, another spelling, a hard link.
  for (const std::string& same : {model, dir + "/./sub/../model.h5", dir + "/hardlink.h5"}) {
    for (const std::vector<std::string>& args : {std::vector<std::string>{model, "-o", same},
                                                 std::vector<std::string>{model, "-o", dir + "/m.cpp", "--header", same}}) {
      const Outcome r = run_kc2cpp(args, dir + "/../input-run");
      expect_refused(r, same, {"is the input model file"}, dir, {"hardlink.h5", "model.h5", "sub"});
    }
  }
  EXPECT_TRUE(read_file(model) == bytes) << "the model was changed";
}

TEST(HostileOutput, SourceAndHeaderMustDiffer) {
  const std::string dir = case_dir("same-output");
  const std::string model = copy_model(dir);
  for (const std::string& header : {dir + "/x.cpp", dir + "/../same-output/x.cpp"}) {
    const Outcome r = run_kc2cpp({model, "-o", dir + "/x.cpp", "--header", header}, dir + "/../same-run");
    expect_refused(r, header, {"same file as the output", "a different path for each output"}, dir, {"model.h5"});
  }
  write_file(dir + "/x.cpp", "old\n");  // also when the file exists
  const Outcome r = run_kc2cpp({model, "-o", dir + "/x.cpp", "--header", dir + "/./x.cpp"}, dir + "/../same-run");
  expect_refused(r, dir + "/./x.cpp", {"same file as the output"}, dir, {"model.h5", "x.cpp"});
  EXPECT_EQ(read_file(dir + "/x.cpp"), "old\n");
}

TEST(HostileOutput, MissingDirectoryIsNamed) {
  const std::string dir = case_dir("missing-dir");
  const std::string model = copy_model(dir);
  const std::string out = dir + "/out/m.cpp";
  Outcome r = run_kc2cpp({model, "-o", out}, dir + "/../missing-run");
  expect_refused(r, out, {"cannot write: the directory '" + dir + "/out' does not exist"}, dir, {"model.h5"});
  EXPECT_EQ(r.err.find("kc2cpp-tmp"), std::string::npos) << "the temporary name must not be reported";
  // A header in a missing directory: the source is not written either.
  r = run_kc2cpp({model, "-o", dir + "/m.cpp", "--header", out}, dir + "/../missing-run");
  expect_refused(r, out, {"does not exist"}, dir, {"model.h5"});
  // A file where a directory should be.
  r = run_kc2cpp({model, "-o", model + "/m.cpp"}, dir + "/../missing-run");
  expect_refused(r, model + "/m.cpp", {"is not a directory"}, dir, {"model.h5"});
}

// True if every directory above `path` can be searched by other users.
bool others_can_reach(const fs::path& path) {
  for (fs::path p = path.parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0 || !(st.st_mode & S_IXOTH)) return false;
  }
  return true;
}

TEST(HostileOutput, ReadOnlyDirectoryIsNamed) {
  const std::string dir = case_dir("read-only");
  const std::string model = copy_model(dir);
  fs::create_directory(dir + "/out");
  ::chmod(dir.c_str(), 0755);
  ::chmod(model.c_str(), 0644);
  ::chmod((dir + "/out").c_str(), 0555);
  RunOptions opt;
  if (::geteuid() == 0) {
    // root writes anywhere: run kc2cpp as 'nobody' instead.
    if (!others_can_reach(dir)) GTEST_SKIP() << "SKIPPED: 'nobody' cannot reach " << dir;
    opt.uid = 65534;
  }
  const std::string out = dir + "/out/m.cpp";
  const Outcome r = run_kc2cpp({model, "-o", out}, dir + "/../read-only-run", opt);
  ::chmod((dir + "/out").c_str(), 0755);
  expect_refused(r, out, {"cannot write", "'" + dir + "/out' is not writable", "permission denied"}, dir,
                 {"model.h5", "out"});
}

// A write that fails half-way (here: the file-size limit, as a full disk would) names the user's
// path and the reason, and leaves neither the output nor the temporary file.
TEST(HostileOutput, FailedWriteNamesThePathAndLeavesNothing) {
  const std::string dir = case_dir("write-fails");
  const std::string model = copy_model(dir);
  fs::create_directory(dir + "/out");
  RunOptions opt;
  opt.max_file_size = 50000;  // the source is 134 kB, the header 1.5 kB
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{model, "-o", dir + "/out/m.cpp"},
        std::vector<std::string>{model, "-o", dir + "/out/m.cpp", "--header", dir + "/out/m.h"}}) {
    const Outcome r = run_kc2cpp(args, dir + "/../write-fails-run", opt);
    expect_refused(r, dir + "/out/m.cpp", {"cannot write: file too large"}, dir + "/out", {});
    EXPECT_EQ(r.err.find("kc2cpp-tmp"), std::string::npos) << "the temporary name must not be reported";
  }
}

// `kc2cpp eval` writes its .npy outputs by the same rules; its .npy inputs are inputs too.
TEST(HostileOutput, EvalOutputsFollowTheSameRules) {
  const std::string dir = case_dir("eval");
  const std::string model = copy_model(dir);
  const std::string fixture = source_dir() + "/tests/fixtures/k3/summary_walkthrough";
  fs::copy_file(fixture + ".x0.npy", dir + "/x.npy");
  const std::string x = read_file(dir + "/x.npy");
  fs::create_symlink("x.npy", dir + "/link.npy");
  const std::vector<std::string> before = {"link.npy", "model.h5", "x.npy"};
  struct Case {
    std::string output;
    std::vector<std::string> mentions;
  };
  for (const Case& c : {Case{dir + "/x.npy", {"is the input file", "x.npy"}},
                        Case{dir + "/./model.h5", {"is the input model file"}},
                        Case{dir + "/link.npy", {"symbolic link"}},
                        Case{dir + "/none/y.npy", {"does not exist"}}}) {
    const Outcome r = run_kc2cpp({"eval", model, "--input", dir + "/x.npy", "--output", c.output}, dir + "/../eval-run");
    expect_refused(r, c.output, c.mentions, dir, before);
  }
  EXPECT_TRUE(read_file(dir + "/x.npy") == x) << "the input was changed";
  const Outcome ok = run_kc2cpp({"eval", model, "--input", dir + "/x.npy", "--output", dir + "/y.npy"}, dir + "/../eval-run");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_TRUE(read_file(dir + "/y.npy") == read_file(fixture + ".golden.y0.npy")) << "eval's output differs from the golden";
}

// ---- signals during the write ------------------------------------------------------------------

// Waits until `inotify_fd` (watching the output directory) reports a file whose name contains
// "kc2cpp-tmp", then sends `sig` to `pid`. Returns false if none appeared within the time limit.
bool signal_when_temporary_appears(pid_t pid, int sig, int inotify_fd) {
  char buf[4096] __attribute__((aligned(alignof(inotify_event))));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    const ssize_t n = ::read(inotify_fd, buf, sizeof buf);
    if (n <= 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      continue;
    }
    for (ssize_t at = 0; at < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + at);
      if (ev->len > 0 && std::strstr(ev->name, "kc2cpp-tmp") != nullptr) {
        ::kill(pid, sig);
        return true;
      }
      at += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
    }
  }
  return false;
}

// The big model's 75 MB take long enough to write that the signal, sent as soon as the temporary
// file appears, arrives during the write: the deterministic case.
void expect_signal_during_write_leaves_nothing(int sig) {
  const std::string dir = case_dir(std::string("signal-write-") + std::to_string(sig));
  const std::string model = source_dir() + "/" + kBigFixture;
  ASSERT_TRUE(file_exists(model));
  fs::create_directory(dir + "/out");
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_GE(::inotify_add_watch(fd, (dir + "/out").c_str(), IN_CREATE), 0);
  bool sent = false;
  RunOptions opt;
  opt.while_running = [&](pid_t pid) { sent = signal_when_temporary_appears(pid, sig, fd); };
  const Outcome r = run_kc2cpp({model, "-o", dir + "/out/m.cpp", "--header", dir + "/out/m.h"}, dir + "/run", opt);
  ::close(fd);
  ASSERT_TRUE(sent) << "no temporary file appeared; stderr:\n" << r.err;
  EXPECT_EQ(r.signal, sig) << "kc2cpp must end by the signal it got (exit code " << r.exit_code << ")";
  EXPECT_EQ(joined(tree(dir + "/out")), "[]") << "a signal during the write must leave nothing";
  EXPECT_LT(r.seconds, kMaxSeconds);
  std::printf("[ hostile  ] %s on the temporary file's creation: %.2f s, nothing left\n", ::strsignal(sig), r.seconds);
}

TEST(HostileOutput, SigtermDuringTheWriteLeavesNothing) { expect_signal_during_write_leaves_nothing(SIGTERM); }
TEST(HostileOutput, SigintDuringTheWriteLeavesNothing) { expect_signal_during_write_leaves_nothing(SIGINT); }
TEST(HostileOutput, SighupDuringTheWriteLeavesNothing) { expect_signal_during_write_leaves_nothing(SIGHUP); }

TEST(HostileOutput, SignalAtAnyMomentLeavesNoTemporaryFile) {
  const std::string dir = case_dir("signal-any");
  const std::string model = source_dir() + "/" + kMidFixture;
  fs::create_directory(dir + "/ref");
  const Outcome ref = run_kc2cpp({model, "-o", dir + "/ref/m.cpp"}, dir + "/run");
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  const std::string want = read_file(dir + "/ref/m.cpp");
  fs::remove_all(dir + "/ref");
  // Spread over the whole run: loading, compiling, writing, renaming, after the end.
  for (int step = 0; step <= 24; ++step) {
    const double fraction = 0.05 * step;
    fs::create_directory(dir + "/out");
    RunOptions opt;
    opt.while_running = [&](pid_t pid) {
      std::this_thread::sleep_for(std::chrono::duration<double>(fraction * ref.seconds));
      ::kill(pid, SIGTERM);
    };
    const Outcome r = run_kc2cpp({model, "-o", dir + "/out/m.cpp"}, dir + "/run", opt);
    const std::vector<std::string> left = tree(dir + "/out");
    EXPECT_TRUE(left.empty() || (left.size() == 1 && left[0] == "m.cpp")) << joined(left);
    if (left.size() == 1) {
      EXPECT_TRUE(read_file(dir + "/out/m.cpp") == want) << "a finished file that differs";
    }
    EXPECT_TRUE(r.signal == SIGTERM || r.exit_code == 0) << r.exit_code << " " << r.err;
    std::printf("[ hostile  ] SIGTERM at %3.0f%% (%.3f s): %s, %s\n", fraction * 100, fraction * ref.seconds,
                r.signal ? "killed" : "finished", left.empty() ? "nothing left" : "complete m.cpp");
    fs::remove_all(dir + "/out");
  }
}

// ---- the loader child ---------------------------------------------------------------------------

// The child processes of `pid` (Linux /proc).
std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> out;
  std::string text;
  try {
    text = read_file("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  } catch (const std::exception&) {
    return out;
  }
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find(' ', at);
    if (end == std::string::npos) end = text.size();
    if (end > at) out.push_back(static_cast<pid_t>(std::stol(text.substr(at, end - at))));
    at = end + 1;
  }
  return out;
}

// Gone, or a zombie waiting for a reaper: not running any more.
bool has_ended(pid_t pid) {
  std::string stat;
  try {
    stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  } catch (const std::exception&) {
    return true;
  }
  const size_t paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] == 'Z' || stat[paren + 2] == 'X';
}

// True if process `pid` has `path` open.
bool has_open(pid_t pid, const std::string& path) {
  std::error_code ec;
  const std::string fds = "/proc/" + std::to_string(pid) + "/fd";
  for (fs::directory_iterator it(fds, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code lec;
    if (fs::read_symlink(it->path(), lec) == path) return true;
  }
  return false;
}

TEST(HostileLoader, TheReadingChildDiesWithKc2cpp) {
  if (!file_exists("/proc/self/task")) GTEST_SKIP() << "SKIPPED: needs Linux /proc";
  const std::string dir = case_dir("child-dies");
  const std::string model = source_dir() + "/" + kBigFixture;
  for (int sig : {SIGKILL, SIGTERM}) {
    SCOPED_TRACE(::strsignal(sig));
    pid_t child = 0;
    RunOptions opt;
    opt.while_running = [&](pid_t pid) {
      // The child is caught once it has the model open, i.e. after its first step (die_with_parent).
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (child == 0 && std::chrono::steady_clock::now() < deadline) {
        const std::vector<pid_t> c = children_of(pid);
        if (!c.empty() && has_open(c[0], model)) child = c[0];
      }
      // Stopped, the child cannot finish (or die of a broken pipe) by itself: only kc2cpp's
      // death (PR_SET_PDEATHSIG sends SIGKILL, which also ends a stopped process) can end it.
      if (child != 0) ::kill(child, SIGSTOP);
      ::kill(pid, sig);
    };
    run_kc2cpp({model, "-o", dir + "/m.cpp"}, dir + "/run", opt);
    ASSERT_NE(child, 0) << "the loader child was not seen";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!has_ended(child) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_TRUE(has_ended(child)) << "the loader child " << child << " outlived kc2cpp";
    if (!has_ended(child)) ::kill(child, SIGKILL);
    EXPECT_EQ(joined(tree(dir)), "[]");
  }
}

TEST(HostileLoader, MemoryLimitIsReportedWithTheWayToRaiseIt) {
  const std::string dir = case_dir("memory-limit");
  const std::string model = source_dir() + "/" + kBigFixture;  // 17 MB of weights
  fs::create_directory(dir + "/out");
  Outcome r = run_kc2cpp({model, "-o", dir + "/out/m.cpp", "--max-memory", "0.02"}, dir + "/run");
  expect_refused(r, model, {"asks for more than 0.02 GB of memory", "--max-memory", "KC2CPP_MAX_MEMORY"},
                 dir + "/out", {});
  EXPECT_EQ(r.err.find("crashed"), std::string::npos);
  r = run_kc2cpp({"inspect", model, "--max-memory", "0.02"}, dir + "/run");
  expect_refused(r, model, {"asks for more than 0.02 GB"}, dir + "/out", {});
}

// With libhdf5 1.10.8 this flipped byte makes H5Aread segfault (tests/unit/load_test.cpp): the
// message blames the library and the file, not kc2cpp, and nothing is written.
TEST(HostileLoader, Hdf5CrashIsReportedAsADamagedFile) {
  const std::string dir = case_dir("hdf5-crash");
  std::string bytes = read_file(source_dir() + "/tests/unit/data/h5/k3_dense_float16.h5");
  ASSERT_GT(bytes.size(), 902u);
  bytes[902] ^= 0x5a;
  write_file(dir + "/model.h5", bytes);
  fs::create_directory(dir + "/out");
  const Outcome r = run_kc2cpp({dir + "/model.h5", "-o", dir + "/out/m.cpp"}, dir + "/run");
  const bool known_crash = H5_VERS_MAJOR == 1 && H5_VERS_MINOR == 10 && H5_VERS_RELEASE == 8;
  expect_refused(r, dir + "/model.h5",
                 known_crash ? std::vector<std::string>{"the HDF5 library crashed while reading this file (signal",
                                                        "the file is damaged"}
                             : std::vector<std::string>{},
                 dir + "/out", {});
}

TEST(HostileLoader, SpecialFilesAsTheModelAreRefusedUnopened) {
  const std::string dir = case_dir("special-model");
  fs::create_directory(dir + "/out");
  ASSERT_EQ(::mkfifo((dir + "/model.h5").c_str(), 0644), 0);
  for (const std::string& model : {dir + "/model.h5", std::string("/dev/null")}) {
    for (const std::vector<std::string>& args : {std::vector<std::string>{model, "-o", dir + "/out/m.cpp"},
                                                 std::vector<std::string>{"inspect", model}}) {
      const Outcome r = run_kc2cpp(args, dir + "/run", {0, nullptr, kMaxSeconds});
      expect_refused(r, model, {"not a regular file"}, dir + "/out", {});
    }
  }
}

// ---- hostile HDF5 files -------------------------------------------------------------------------

// Known bytes in another file: if they ever reach an output, kc2cpp read outside the model.
const std::string kSecret = "KC2CPP-SECRET-0123456789-abcdefghij-";

std::string secret_bytes(size_t n) {
  std::string s;
  while (s.size() < n) s += kSecret;
  return s.substr(0, n);
}

// Copies the small fixture to <dir>/model.h5 and lets `mutate` edit it with the HDF5 C API.
std::string crafted_model(const std::string& dir, const std::function<void(hid_t)>& mutate) {
  const std::string model = copy_model(dir);
  const hid_t f = H5Fopen(model.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  EXPECT_GE(f, 0);
  mutate(f);
  H5Fclose(f);
  return model;
}

// The kernel replaced by a float32 [3, 32] dataset made with `dcpl`, written from `data` if given.
void replace_kernel(hid_t f, hid_t dcpl, const void* data, const hsize_t* maxdims = nullptr) {
  ASSERT_GE(H5Ldelete(f, kKernel, H5P_DEFAULT), 0);
  const hsize_t dims[2] = {3, 32};
  const hid_t space = H5Screate_simple(2, dims, maxdims);
  const hid_t d = H5Dcreate2(f, kKernel, H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  ASSERT_GE(d, 0);
  if (data) {
    ASSERT_GE(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), 0);
  }
  H5Dclose(d);
  H5Sclose(space);
}

// What libhdf5 itself reads as the kernel: proves the crafted file really reaches outside.
std::string kernel_as_libhdf5_reads_it(const std::string& model) {
  std::string bytes(3 * 32 * 4, '\0');
  const hid_t f = H5Fopen(model.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t d = H5Dopen2(f, kKernel, H5P_DEFAULT);
  const herr_t ok = H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data());
  H5Dclose(d);
  H5Fclose(f);
  return ok < 0 ? "" : bytes;
}

// A second HDF5 file holding the secret as float32 [3, 32] at /data (and /g/data).
void make_secret_hdf5(const std::string& path) {
  const std::string secret = secret_bytes(3 * 32 * 4);
  const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  const hsize_t dims[2] = {3, 32};
  const hid_t space = H5Screate_simple(2, dims, nullptr);
  const hid_t g = H5Gcreate2(f, "g", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  for (hid_t loc : {f, g}) {
    const hid_t d = H5Dcreate2(loc, "data", H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, secret.data());
    H5Dclose(d);
  }
  H5Gclose(g);
  H5Sclose(space);
  H5Fclose(f);
}

// Runs kc2cpp on a crafted model: refused with `mentions`, and the secret nowhere in any output.
void expect_model_refused(const std::string& dir, const std::string& model, const std::vector<std::string>& mentions,
                          const std::vector<std::string>& dir_files) {
  fs::create_directory(dir + "/out");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{model, "-o", dir + "/out/m.cpp", "--header", dir + "/out/m.h"},
        std::vector<std::string>{"inspect", model}}) {
    const Outcome r = run_kc2cpp(args, dir + "/../" + fs::path(dir).filename().string() + "-run");
    expect_refused(r, model, mentions, dir + "/out", {});
    EXPECT_EQ(r.err.find(kSecret.substr(0, 12)), std::string::npos) << "the secret reached the message";
  }
  std::vector<std::string> expected = dir_files;
  expected.push_back("out");
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(joined(tree(dir)), joined(expected));
}

TEST(HostileHdf5, ExternalStorageIsRefusedBeforeReading) {
  const std::string dir = case_dir("external-storage");
  const std::string secret = secret_bytes(3 * 32 * 4);
  write_file(dir + "/secret.bin", secret);
  const std::string model = crafted_model(dir, [&](hid_t f) {
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    ASSERT_GE(H5Pset_external(dcpl, (dir + "/secret.bin").c_str(), 0, secret.size()), 0);
    replace_kernel(f, dcpl, nullptr);
    H5Pclose(dcpl);
  });
  ASSERT_TRUE(kernel_as_libhdf5_reads_it(model) == secret) << "the crafted file does not read the secret";
  expect_model_refused(dir, model, {"refused", kKernel, "external storage", "secret.bin"}, {"model.h5", "secret.bin"});
}

TEST(HostileHdf5, VirtualDatasetIsRefused) {
  const std::string dir = case_dir("virtual-dataset");
  make_secret_hdf5(dir + "/other.h5");
  const std::string model = crafted_model(dir, [&](hid_t f) {
    const hsize_t dims[2] = {3, 32};
    const hid_t space = H5Screate_simple(2, dims, nullptr);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    ASSERT_GE(H5Pset_virtual(dcpl, space, (dir + "/other.h5").c_str(), "/data", space), 0);
    replace_kernel(f, dcpl, nullptr);
    H5Pclose(dcpl);
    H5Sclose(space);
  });
  ASSERT_TRUE(kernel_as_libhdf5_reads_it(model) == secret_bytes(3 * 32 * 4));
  expect_model_refused(dir, model, {"refused", kKernel, "virtual dataset"}, {"model.h5", "other.h5"});
}

TEST(HostileHdf5, ExternalLinksAreRefused) {
  // The kernel, its layer's group, and the whole weights group as links into another file.
  const std::pair<const char*, const char*> links[] = {
      {kKernel, "/data"},
      {"/model_weights/dense/sequential/dense", "/g"},
      {"/model_weights", "/g"},
  };
  int n = 0;
  for (const auto& [where, target] : links) {
    SCOPED_TRACE(where);
    const std::string dir = case_dir("external-link-" + std::to_string(n++));
    make_secret_hdf5(dir + "/other.h5");
    const std::string model = crafted_model(dir, [&](hid_t f) {
      ASSERT_GE(H5Ldelete(f, where, H5P_DEFAULT), 0);
      ASSERT_GE(H5Lcreate_external((dir + "/other.h5").c_str(), target, f, where, H5P_DEFAULT, H5P_DEFAULT), 0);
    });
    if (std::string(where) == kKernel) {
      ASSERT_TRUE(kernel_as_libhdf5_reads_it(model) == secret_bytes(3 * 32 * 4));
    }
    expect_model_refused(dir, model, {"refused", "external link", "other.h5"}, {"model.h5", "other.h5"});
  }
}

TEST(HostileHdf5, SoftLinkIsRefused) {
  const std::string dir = case_dir("soft-link");
  const std::string model = crafted_model(dir, [&](hid_t f) {
    ASSERT_GE(H5Ldelete(f, kKernel, H5P_DEFAULT), 0);
    ASSERT_GE(H5Lcreate_soft("/model_weights/dense_1/sequential/dense_1/kernel", f, kKernel, H5P_DEFAULT, H5P_DEFAULT), 0);
  });
  expect_model_refused(dir, model, {"refused", "soft link"}, {"model.h5"});
}

TEST(HostileHdf5, ForeignFilterIsRefused) {
  const std::string dir = case_dir("filter");
  const std::string model = crafted_model(dir, [&](hid_t f) {
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    const hsize_t chunk[2] = {3, 32};
    H5Pset_chunk(dcpl, 2, chunk);
    ASSERT_GE(H5Pset_scaleoffset(dcpl, H5Z_SO_FLOAT_DSCALE, 3), 0);
    const std::vector<float> data(96, 0.5f);
    replace_kernel(f, dcpl, data.data());
    H5Pclose(dcpl);
  });
  expect_model_refused(dir, model, {"refused", kKernel, "filter 6 (scale-offset)", "gzip"}, {"model.h5"});
}

TEST(HostileHdf5, DataClaimedButNotStoredIsRefused) {
  const std::string dir = case_dir("unallocated");
  const std::string model = crafted_model(dir, [&](hid_t f) {
    ASSERT_GE(H5Ldelete(f, kKernel, H5P_DEFAULT), 0);
    const hsize_t dims[2] = {100000, 100000};  // 40 GB of fill values, never written
    const hsize_t chunk[2] = {100, 100};
    const hid_t space = H5Screate_simple(2, dims, nullptr);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, chunk);
    const hid_t d = H5Dcreate2(f, kKernel, H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    ASSERT_GE(d, 0);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
  });
  expect_model_refused(dir, model, {kKernel, "claims 40000000000 bytes of data but stores only 0"}, {"model.h5"});
}

TEST(HostileHdf5, ChunksLargerThanTheDatasetAreRefused) {
  const std::string dir = case_dir("big-chunk");
  const std::string model = crafted_model(dir, [&](hid_t f) {
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    const hsize_t chunk[2] = {1 << 16, 32};  // 8 MiB per chunk for a 384-byte dataset
    const hsize_t maxdims[2] = {H5S_UNLIMITED, 32};
    H5Pset_chunk(dcpl, 2, chunk);
    H5Pset_deflate(dcpl, 9);
    const std::vector<float> data(96, 0.25f);
    replace_kernel(f, dcpl, data.data(), maxdims);
    H5Pclose(dcpl);
  });
  expect_model_refused(dir, model, {kKernel, "has chunks of 8388608 bytes, larger than the dataset"}, {"model.h5"});
}

// weight_names listing the kernel `times` times (plus the bias): the same stored bytes read again and again.
TEST(HostileHdf5, TheSameDatasetListedManyTimesIsRefused) {
  const std::string dir = case_dir("repeated");
  const std::string model = crafted_model(dir, [&](hid_t f) {
    const hid_t g = H5Gopen2(f, "/model_weights/dense", H5P_DEFAULT);
    ASSERT_GE(H5Adelete(g, "weight_names"), 0);
    std::vector<std::string> names(1000, "sequential/dense/kernel");
    names.push_back("sequential/dense/bias");
    std::vector<const char*> ptrs;
    for (const std::string& s : names) ptrs.push_back(s.c_str());
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    const hsize_t n = ptrs.size();
    const hid_t space = H5Screate_simple(1, &n, nullptr);
    const hid_t a = H5Acreate2(g, "weight_names", type, space, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(H5Awrite(a, type, ptrs.data()), 0);
    H5Aclose(a);
    H5Sclose(space);
    H5Tclose(type);
    H5Gclose(g);
  });
  expect_model_refused(dir, model, {"more than the file's", "listed more than once"}, {"model.h5"});
}

// A deflate "bomb" within the ratio the loader allows: 256 MiB of weights from about 1.2 MB of
// file. The address-space limit stops it with the memory message, not a crash.
TEST(HostileHdf5, CompressedBombMeetsTheMemoryLimit) {
  const std::string dir = case_dir("deflate-bomb");
  const auto made = std::chrono::steady_clock::now();
  const std::string model = crafted_model(dir, [&](hid_t f) {
    ASSERT_GE(H5Ldelete(f, kKernel, H5P_DEFAULT), 0);
    const hsize_t dims[2] = {8192, 8192};  // float32: 256 MiB
    const hsize_t chunk[2] = {128, 8192};  // 4 MiB chunks of zeros, written by HDF5 as fill values
    const hid_t space = H5Screate_simple(2, dims, nullptr);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, chunk);
    H5Pset_deflate(dcpl, 1);
    H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
    H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC);
    const hid_t d = H5Dcreate2(f, kKernel, H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    ASSERT_GE(d, 0);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
  });
  std::printf("[ hostile  ] made a %ju-byte file decoding to 256 MiB in %.2f s\n",
              static_cast<uintmax_t>(fs::file_size(model)),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - made).count());
  fs::create_directory(dir + "/out");
  const Outcome r = run_kc2cpp({model, "-o", dir + "/out/m.cpp", "--max-memory", "0.2"}, dir + "/../bomb-run");
  expect_refused(r, model, {"asks for more than 0.20 GB of memory", "--max-memory"}, dir + "/out", {});
}

}  // namespace
}  // namespace kc2cpp::e2e
