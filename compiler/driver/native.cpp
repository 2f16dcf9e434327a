#include "driver/native.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "error.h"

extern char** environ;

namespace kc2cpp::driver {
namespace {

// The runner: reads n and the inputs (float32, input 0's samples, then input 1's ...) from argv[1],
// writes the outputs the same way to argv[2], prints isa() on stdout.
const char* const kRunner = R"cc(#include <cstdio>
#include <vector>
#include "model.h"
static model::Workspace ws;
int main(int argc, char** argv) {
  if (argc != 3) return 2;
  std::FILE* in = std::fopen(argv[1], "rb");
  long n = 0;
  if (!in || std::fread(&n, sizeof n, 1, in) != 1) return 3;
  std::vector<float> x[model::kNumInputs], y[model::kNumOutputs];
  for (int k = 0; k < model::kNumInputs; ++k) {
    x[k].resize(static_cast<size_t>(n) * model::kInputSizes[k]);
    if (std::fread(x[k].data(), sizeof(float), x[k].size(), in) != x[k].size()) return 4;
  }
  std::fclose(in);
  for (int k = 0; k < model::kNumOutputs; ++k) y[k].resize(static_cast<size_t>(n) * model::kOutputSizes[k]);
  model::predict_batch($args$n, ws);
  std::FILE* out = std::fopen(argv[2], "wb");
  for (int k = 0; k < model::kNumOutputs; ++k)
    if (!out || std::fwrite(y[k].data(), sizeof(float), y[k].size(), out) != y[k].size()) return 5;
  if (std::fclose(out) != 0) return 5;
  std::printf("%s\n", model::isa());
  return 0;
}
)cc";

std::string runner_source(const ir::Graph& g) {
  std::string args;
  for (size_t k = 0; k < g.inputs.size(); ++k) args += "x[" + std::to_string(k) + "].data(), ";
  for (size_t k = 0; k < g.outputs.size(); ++k) args += "y[" + std::to_string(k) + "].data(), ";
  std::string text = kRunner;
  text.replace(text.find("$args$"), 6, args);
  return text;
}

void write(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!f.flush()) throw Error(path + ": cannot write (" + std::strerror(errno) + ")");
}

std::string read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// Runs argv (searched in PATH) with stdout and stderr into `log`; returns the exit status (-1: did
// not exit normally or could not start).
int spawn(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

NativeModel::NativeModel(const std::string& model, const std::string& weights, ir::FpMode fp, uint64_t max_memory,
                         const ir::Graph& g) {
  for (int t : g.inputs)
    if (g.tensors[t].dtype != ir::DType::F32)
      throw UsageError(model + ": --native does not handle models with integer (Embedding) inputs yet");
  for (int t : g.outputs) out_sizes_.push_back(ir::num_elements(g.tensors[t].shape));
  CompileOptions opt;
  opt.model = model, opt.weights = weights, opt.fp = fp, opt.max_memory = max_memory;
  opt.output = dir_ + "/model.cpp", opt.header = dir_ + "/model.h", opt.name = "model";
  compile_file(opt);
  write(dir_ + "/runner.cpp", runner_source(g));
  const char* env = std::getenv("CXX");
  const std::string cxx = env && *env ? env : "c++";
  runner_ = dir_ + "/runner";
  const std::vector<std::string> cmd = {cxx, "-std=c++17", "-O2", "-march=native", "-I" + dir_, dir_ + "/runner.cpp",
                                        dir_ + "/model.cpp", "-o", runner_};
  if (spawn(cmd, dir_ + "/build.log") != 0)
    throw Error(model + ": --native: '" + cxx + "' could not build the generated code for this machine:\n" +
                read(dir_ + "/build.log").substr(0, 4000));
  description_ = cxx + " -O2 -march=native";
}

NativeModel::TempDir::TempDir() {
  char tmpl[] = "/tmp/kc2cpp-check-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw Error(std::string("cannot create a temporary folder (") + std::strerror(errno) + ")");
  path = tmpl;
}

NativeModel::TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

std::vector<std::vector<float>> NativeModel::run(const std::vector<std::vector<float>>& xs, int64_t n) {
  std::string in(reinterpret_cast<const char*>(&n), sizeof(long));
  for (const std::vector<float>& x : xs) in.append(reinterpret_cast<const char*>(x.data()), x.size() * sizeof(float));
  write(dir_ + "/in.bin", in);
  if (spawn({runner_, dir_ + "/in.bin", dir_ + "/out.bin"}, dir_ + "/run.log") != 0)
    throw Error("--native: the generated code failed to run: " + read(dir_ + "/run.log").substr(0, 2000));
  const std::string isa = read(dir_ + "/run.log");
  if (description_.find("ISA path") == std::string::npos) description_ += ", ISA path " + isa.substr(0, isa.find('\n'));
  const std::string out = read(dir_ + "/out.bin");
  std::vector<std::vector<float>> ys;
  size_t at = 0;
  for (int64_t size : out_sizes_) {
    const size_t bytes = static_cast<size_t>(n * size) * sizeof(float);
    if (at + bytes > out.size()) throw Error("--native: the generated code wrote too few outputs");
    ys.emplace_back(static_cast<size_t>(n * size));
    std::memcpy(ys.back().data(), out.data() + at, bytes);
    at += bytes;
  }
  return ys;
}

}  // namespace kc2cpp::driver
