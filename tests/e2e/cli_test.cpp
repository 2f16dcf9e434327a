// The command line: deterministic, path-free output; every bad input is exit code 1 with a message
// naming the file, and leaves no output (or temporary) file behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "e2e_util.h"
#include "load/keras_model.h"

namespace fs = std::filesystem;

namespace kc2cpp::e2e {
namespace {

std::string case_dir(const std::string& name) {
  const std::string dir = work_dir() + "/cli/" + name;
  make_clean_dir(dir);
  return dir;
}

std::string fixture_path(const std::string& rel) { return source_dir() + "/tests/fixtures/" + rel; }

// The first date ("2025-11-22") or time of day ("13:07:42") in `text`, or "" (one linear scan:
// generated files reach tens of megabytes).
std::string find_date_or_time(const std::string& text) {
  const auto digits = [&](size_t at, size_t n) {
    for (size_t i = at; i < at + n; ++i)
      if (i >= text.size() || text[i] < '0' || text[i] > '9') return false;
    return true;
  };
  for (size_t i = 0; i + 8 <= text.size(); ++i) {
    if (i > 0 && text[i - 1] >= '0' && text[i - 1] <= '9') continue;
    if (digits(i, 4) && text[i + 4] == '-' && digits(i + 5, 2) && i + 10 <= text.size() && text[i + 7] == '-' &&
        digits(i + 8, 2))
      return text.substr(i, 10);
    if (digits(i, 2) && text[i + 2] == ':' && digits(i + 3, 2) && text[i + 5] == ':' && digits(i + 6, 2))
      return text.substr(i, 8);
  }
  for (const char* macro : {"__DATE__", "__TIME__", "__TIMESTAMP__"})
    if (text.find(macro) != std::string::npos) return macro;
  return "";
}

// ---------------------------------------------------------------------------------------------
// Determinism

TEST(Cli, SameModelTwiceGivesIdenticalPathFreeBytes) {
  ASSERT_FALSE(fixtures().empty());
  const std::string dir = case_dir("determinism");
  // Run 1: relative paths from inside a directory. Run 2: absolute paths in other directories.
  fs::create_directories(dir + "/a");
  fs::create_directories(dir + "/b/model/dir");
  fs::create_directories(dir + "/b/out/dir");
  int checked = 0;
  for (const Fixture& f : fixtures()) {
    fs::copy_file(f.h5(), dir + "/a/model.h5", fs::copy_options::overwrite_existing);
    fs::copy_file(f.h5(), dir + "/b/model/dir/model.h5", fs::copy_options::overwrite_existing);
    const std::vector<std::string> run1 = {kc2cpp_bin(), "model.h5", "-o", "net.cpp", "--header", "net.h", "--name", "net"};
    const std::vector<std::string> run2 = {kc2cpp_bin(), dir + "/b/model/dir/model.h5", "-o", dir + "/b/out/dir/net.cpp",
                                           "--header", dir + "/b/out/dir/net.h", "--name", "net"};
    const RunResult r1 = run(run1, dir + "/a");
    const RunResult r2 = run(run2);
    if (r1.exit_code != 0 || r2.exit_code != 0) {
      ADD_FAILURE() << f.id << ": kc2cpp failed:\n" << command_line(run1) << "\n" << r1.err << command_line(run2)
                    << "\n" << r2.err;
      continue;
    }
    for (const char* file : {"net.cpp", "net.h"}) {
      const std::string a = read_file(dir + "/a/" + file);
      const std::string b = read_file(dir + "/b/out/dir/" + file);
      EXPECT_TRUE(a == b) << f.id << ": " << file << " differs between two runs on the same model";
      for (const std::string& path : {dir, work_dir(), source_dir(), std::string("/tmp/"), std::string("model/dir")})
        EXPECT_EQ(b.find(path), std::string::npos) << f.id << ": " << file << " contains the path " << path;
      EXPECT_EQ(find_date_or_time(b), "") << f.id << ": " << file << " contains a date or time";
    }
    EXPECT_NE(read_file(dir + "/b/out/dir/net.cpp").find("#include \"net.h\""), std::string::npos)
        << f.id << ": the source must include its header by file name";
    ++checked;
  }
  std::printf("[ cli      ] %d fixtures: two runs (relative and absolute paths) byte-identical, path-free\n", checked);
}

// ---------------------------------------------------------------------------------------------
// Errors

struct BadInput {
  std::string model;                  // path passed to kc2cpp
  std::vector<std::string> extra;     // extra arguments
  std::vector<std::string> mentions;  // substrings the message must contain
};

// Runs `kc2cpp <model> -o <dir>/out/net.cpp --header <dir>/out/net.h <extra>` and checks the error contract.
void expect_rejected(const std::string& what, const BadInput& in) {
  SCOPED_TRACE(what);
  const std::string out = work_dir() + "/cli/errors/" + what + "-out";
  make_clean_dir(out);
  std::vector<std::string> cmd = {kc2cpp_bin(), in.model, "-o", out + "/net.cpp", "--header", out + "/net.h"};
  cmd.insert(cmd.end(), in.extra.begin(), in.extra.end());
  const RunResult r = run(cmd);
  EXPECT_EQ(r.exit_code, 1) << command_line(cmd) << "\nstderr: " << r.err;
  const std::string prefix = "kc2cpp: error: " + in.model + ": ";
  EXPECT_EQ(r.err.rfind(prefix, 0), 0u) << "stderr must start with '" << prefix << "', got:\n" << r.err;
  for (const std::string& m : in.mentions)
    EXPECT_NE(r.err.find(m), std::string::npos) << "the message must mention '" << m << "', got:\n" << r.err;
  EXPECT_EQ(r.out, "") << "nothing on stdout on error";
  const std::vector<std::string> left = list_dir(out);
  EXPECT_TRUE(left.empty()) << "files left in the output directory after an error: " << left.front();
  std::printf("[ cli      ] %-28s exit %d: %s", what.c_str(), r.exit_code, r.err.c_str());
}

TEST(CliErrors, MissingFile) {
  expect_rejected("missing-file", {work_dir() + "/cli/no-such-model.h5", {}, {}});
}

TEST(CliErrors, TextFile) {
  const std::string dir = case_dir("text-file");
  write_file(dir + "/notes.h5", "This is a text file, not an HDF5 model.\n");
  expect_rejected("text-file", {dir + "/notes.h5", {}, {}});
}

TEST(CliErrors, EmptyFile) {
  const std::string dir = case_dir("empty-file");
  write_file(dir + "/empty.h5", "");
  expect_rejected("empty-file", {dir + "/empty.h5", {}, {}});
}

TEST(CliErrors, TruncatedHdf5) {
  const std::string dir = case_dir("truncated");
  const std::string whole = read_file(fixture_path("k3/summary_walkthrough.h5"));
  ASSERT_GT(whole.size(), 4096u);
  // Inside the superblock, inside the root group's metadata, mid-file (weights), one byte short.
  for (size_t len : {size_t{8}, size_t{96}, size_t{800}, size_t{2048}, whole.size() / 2, whole.size() - 1}) {
    const std::string path = dir + "/cut_" + std::to_string(len) + ".h5";
    write_file(path, whole.substr(0, len));
    expect_rejected("truncated-at-" + std::to_string(len), {path, {}, {}});
  }
}

TEST(CliErrors, WeightsOnlyFiles) {
  bool any = false;
  for (const char* rel : {"k2/weights_only.h5", "k3/weights_only.weights.h5"}) {
    if (!file_exists(fixture_path(rel))) {
      std::printf("[ cli      ] SKIPPED %s: fixture not present\n", rel);
      continue;
    }
    any = true;
    expect_rejected(std::string("weights-only ") + rel, {fixture_path(rel), {}, {"weights-only", "model.save"}});
  }
  if (!any) GTEST_SKIP() << "SKIPPED: no weights-only fixture present";
}

// The classes the compiler must accept: every class used by a fixture it compiles.
std::set<std::string> supported_classes() {
  std::set<std::string> classes;
  for (const Fixture& f : fixtures()) {
    const nlohmann::json meta = nlohmann::json::parse(read_file(f.json()));
    for (const nlohmann::json& layer : meta["layers"]) classes.insert(layer["class_name"].get<std::string>());
  }
  return classes;
}

TEST(CliErrors, UnsupportedLayersAreAllReported) {
  const std::set<std::string> supported = supported_classes();
  bool any = false;
  for (const char* rel : {"k2/unsupported.h5", "k3/unsupported.h5"}) {
    if (!file_exists(fixture_path(rel))) {
      std::printf("[ cli      ] SKIPPED %s: fixture not present\n", rel);
      continue;
    }
    any = true;
    // The layers come from the file's own model_config (read by the library's loader).
    const load::KerasModel model = load::load_model(fixture_path(rel));
    std::vector<std::pair<std::string, std::string>> unsupported;  // (name, class)
    for (const nlohmann::json& layer : model.config["config"]["layers"]) {
      const std::string cls = layer.value("class_name", "");
      const std::string name = layer.contains("name") ? layer["name"].get<std::string>()
                                                      : layer["config"].value("name", "");
      if (!supported.count(cls)) unsupported.push_back({name, cls});
    }
    ASSERT_GE(unsupported.size(), 2u) << rel << ": expected several unsupported layers";
    std::vector<std::string> mentions;
    for (const auto& [name, cls] : unsupported) mentions.insert(mentions.end(), {"'" + name + "'", cls});
    expect_rejected(std::string("unsupported ") + rel, {fixture_path(rel), {}, mentions});
    // Each name with its class: the class follows the name closely.
    const RunResult r = run({kc2cpp_bin(), fixture_path(rel), "-o", work_dir() + "/cli/unsupported.cpp"});
    for (const auto& [name, cls] : unsupported) {
      const size_t at = r.err.find("'" + name + "'");
      ASSERT_NE(at, std::string::npos);
      EXPECT_NE(r.err.substr(at, name.size() + 2 + 40).find(cls), std::string::npos)
          << rel << ": layer '" << name << "' must be reported with its class " << cls << ":\n" << r.err;
    }
  }
  if (!any) GTEST_SKIP() << "SKIPPED: no unsupported.h5 fixture present";
}

// Real Keras files with preprocessing the compiler refuses: the file, the layer and the reason named.
TEST(CliErrors, PreprocessingRefusals) {
  bool any = false;
  for (const char* v : {"k2", "k3"}) {
    const std::string bicubic = fixture_path(std::string(v) + "/prep_bad_bicubic.h5");
    const std::string builtin = fixture_path(std::string(v) + "/prep_bad_builtin.h5");
    if (!file_exists(bicubic) || !file_exists(builtin)) continue;
    any = true;
    expect_rejected(std::string("bicubic ") + v,
                    {bicubic, {}, {"layer 'resizing' (Resizing): interpolation 'bicubic' is not supported (nearest and "
                                   "bilinear are); save the model with one of those"}});
    expect_rejected(std::string("built-in ") + v,
                    {builtin, {}, {"2 problems", "(RandomFlip): built-in Keras layer 'RandomFlip' is not supported by "
                                   "kc2cpp yet", "(Discretization): built-in Keras layer 'Discretization' is not "
                                   "supported by kc2cpp yet"}});
  }
  if (!any) GTEST_SKIP() << "SKIPPED: no prep_bad_* fixtures present";
}

TEST(CliErrors, InvalidName) {
  const std::string model = fixture_path("k3/summary_walkthrough.h5");
  for (const char* name : {"9lives", "has-dash", "has.dot", "class", "two words"})
    expect_rejected(std::string("--name '") + name + "'", {model, {"--name", name}, {name}});
}

// ---------------------------------------------------------------------------------------------
// Conventions: exit codes, --version, --help, -o -, -v

// `kc2cpp <args>`, checked as a usage error: exit 2, "kc2cpp: error: " and a --help hint on stderr,
// nothing on stdout, no file created in the working directory.
void expect_usage_error(const std::vector<std::string>& args, const std::string& mention, const std::string& hint) {
  const std::string dir = work_dir() + "/cli/usage";
  make_clean_dir(dir);
  std::vector<std::string> cmd = {kc2cpp_bin()};
  cmd.insert(cmd.end(), args.begin(), args.end());
  const RunResult r = run(cmd, dir);
  SCOPED_TRACE(command_line(cmd));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("kc2cpp: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(mention), std::string::npos) << "must mention '" << mention << "':\n" << r.err;
  EXPECT_NE(r.err.find("Run '" + hint + " --help' for usage."), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(list_dir(dir).empty()) << "created " << list_dir(dir).front();
}

TEST(CliConventions, UsageErrorsExitTwoWithAHelpHint) {
  const std::string model = fixture_path("k3/summary_walkthrough.h5");
  expect_usage_error({}, "no model given", "kc2cpp");
  expect_usage_error({model, "--no-such-option"}, "--no-such-option", "kc2cpp");
  expect_usage_error({model, "--fp", "fastest"}, "--fp 'fastest': choose 'unfused' or 'fused'", "kc2cpp");
  expect_usage_error({model, "--max-memory", "0.001"}, "--max-memory", "kc2cpp");
  expect_usage_error({"eval", model, "--output", "y.npy"}, "--input", "kc2cpp eval");
  expect_usage_error({"check", "--input", "x.npy"}, "model", "kc2cpp check");
  // Compile options before a subcommand would be ignored there: refused, naming the option.
  expect_usage_error({"-o", "x.cpp", "inspect", model}, "--output before 'inspect' applies to compiling", "kc2cpp inspect");
  expect_usage_error({"--header", "x.h", "eval", model, "--input", "x.npy", "--output", "y.npy"},
                     "--header before 'eval'", "kc2cpp eval");
}

TEST(CliConventions, VersionIsNamed) {
  const RunResult r = run({kc2cpp_bin(), "--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, std::string("kc2cpp ") + KC2CPP_VERSION + "\n");
}

// --help of the tool and of each subcommand: exit 0 on stdout, the subcommand's own usage line, and
// no CLI11 internals (type names, validator descriptions).
TEST(CliConventions, HelpIsCleanForEverySubcommand) {
  for (const std::string& sub : {std::string(), std::string("inspect"), std::string("eval"), std::string("check")}) {
    std::vector<std::string> cmd = {kc2cpp_bin()};
    if (!sub.empty()) cmd.push_back(sub);
    cmd.push_back("--help");
    const RunResult r = run(cmd);
    SCOPED_TRACE(command_line(cmd));
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.err, "");
    EXPECT_NE(r.out.find("Usage: kc2cpp" + (sub.empty() ? "" : " " + sub)), std::string::npos) << r.out;
    for (const char* noise : {"ENUM", "TEXT", "PATH(", "FLOAT", "INT", "->", "{"})
      EXPECT_EQ(r.out.find(noise), std::string::npos) << "help shows '" << noise << "':\n" << r.out;
  }
  EXPECT_NE(run({kc2cpp_bin(), "check", "--help"}).out.find("--labels"), std::string::npos);
}

TEST(CliConventions, DashOutputWritesTheSourceToStdout) {
  const std::string dir = case_dir("stdout");
  const std::string model = fixture_path("k3/summary_walkthrough.h5");
  const RunResult file = run({kc2cpp_bin(), model, "-o", "net.cpp", "--name", "net"}, dir);
  ASSERT_EQ(file.exit_code, 0) << file.err;
  const RunResult piped = run({kc2cpp_bin(), model, "-o", "-", "--name", "net"}, dir);
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_TRUE(piped.out == read_file(dir + "/net.cpp")) << "-o - must write exactly the file's bytes";
  EXPECT_EQ(list_dir(dir), std::vector<std::string>{"net.cpp"}) << "no file named '-'";
  // With --header the header is a file and the source on stdout includes it.
  const RunResult with_header = run({kc2cpp_bin(), model, "-o", "-", "--header", "net.h"}, dir);
  ASSERT_EQ(with_header.exit_code, 0) << with_header.err;
  EXPECT_NE(with_header.out.find("#include \"net.h\""), std::string::npos);
  EXPECT_TRUE(file_exists(dir + "/net.h"));
  // A failure writes nothing to stdout.
  const RunResult bad = run({kc2cpp_bin(), dir + "/none.h5", "-o", "-"}, dir);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.out, "");
}

TEST(CliConventions, VerbosePrintsStagesWithTimes) {
  const std::string dir = case_dir("verbose");
  const RunResult r = run({kc2cpp_bin(), "-v", fixture_path("k3/summary_walkthrough.h5"), "-o", dir + "/m.cpp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* stage : {"kc2cpp: load ", "kc2cpp: lower and optimise", "kc2cpp: plan the arena: ", "kc2cpp: emit (",
                            "kc2cpp: write: "})
    EXPECT_NE(r.err.find(stage), std::string::npos) << "missing stage '" << stage << "':\n" << r.err;
  size_t lines = 0, timed = 0;
  for (size_t at = 0; (at = r.err.find('\n', at)) != std::string::npos; ++at, ++lines)
    if (at >= 2 && r.err.compare(at - 2, 2, " s") == 0) ++timed;
  EXPECT_EQ(timed, lines) << "every stage line ends with its time in seconds:\n" << r.err;
  const RunResult quiet = run({kc2cpp_bin(), fixture_path("k3/summary_walkthrough.h5"), "-o", dir + "/m.cpp"});
  EXPECT_EQ(quiet.err, "") << "without -v kc2cpp is silent";
}

// `check` draws a progress bar only on a terminal (script(1) provides one).
TEST(CliConventions, CheckProgressBarOnATerminalOnly) {
  if (!have_program("script")) GTEST_SKIP() << "SKIPPED: script(1) is not installed";
  const std::string data = fixture_path("k3/mnist_hdf5matrix.data.h5");
  const std::string cmd = command_line({kc2cpp_bin(), "check", fixture_path("k3/mnist_hdf5matrix.h5"), "--input",
                                        data + ":/image", "--scale", "1/255", "--labels", data + ":/label"});
  const RunResult tty = run({"script", "-qec", cmd, "/dev/null"});
  EXPECT_EQ(tty.exit_code, 0) << tty.out;
  EXPECT_NE(tty.out.find("24/24 samples"), std::string::npos) << "no progress bar on a terminal:\n" << tty.out;
  const RunResult pipe = run({"sh", "-c", cmd});
  EXPECT_EQ(pipe.err.find("samples"), std::string::npos) << pipe.err;
}

// --fp fused built for a target without FMA: one #error that names the flags, nothing else.
TEST(CliConventions, FusedWithoutFmaIsOneClearError) {
#if !defined(__x86_64__)
  GTEST_SKIP() << "SKIPPED: the default target of this host's compilers may have an FMA";
#endif
  const std::string dir = case_dir("fused-no-fma");
  const RunResult gen = run({kc2cpp_bin(), fixture_path("k3/summary_walkthrough.h5"), "--fp", "fused", "-o", dir + "/m.cpp"});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  int compilers = 0;
  for (const char* cxx : {"g++", "clang++"}) {
    if (!have_program(cxx)) continue;
    ++compilers;
    const RunResult r = run({cxx, "-std=c++17", "-fsyntax-only", dir + "/m.cpp"});
    SCOPED_TRACE(cxx);
    EXPECT_NE(r.exit_code, 0);
    size_t errors = 0;
    for (size_t at = 0; (at = r.err.find("error:", at)) != std::string::npos; at += 6) ++errors;
    EXPECT_NE(r.err.find("-march=x86-64-v3"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--fp unfused"), std::string::npos) << r.err;
    EXPECT_EQ(errors, 1u) << "one #error, no cascade:\n" << r.err;
    const RunResult ok = run({cxx, "-std=c++17", "-march=x86-64-v3", "-fsyntax-only", dir + "/m.cpp"});
    EXPECT_EQ(ok.exit_code, 0) << "with FMA it compiles:\n" << ok.err;
  }
  if (compilers == 0) GTEST_SKIP() << "SKIPPED: no g++ or clang++";
}

}  // namespace
}  // namespace kc2cpp::e2e
