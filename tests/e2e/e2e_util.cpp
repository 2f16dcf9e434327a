#include "e2e_util.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "driver/driver.h"
#include "eval/eval.h"
#include "load/keras_model.h"
#include "load/npy.h"

namespace fs = std::filesystem;

namespace kc2cpp::e2e {

std::string source_dir() { return KC2CPP_SOURCE_DIR; }
std::string kc2cpp_bin() { return KC2CPP_BIN; }
std::string work_dir() { return KC2CPP_E2E_WORK_DIR; }

namespace {

bool selected(const std::string& id) {
  const char* env = std::getenv("KC2CPP_E2E_FIXTURES");
  if (!env || !*env) return true;
  std::stringstream ss(env);
  std::string pat;
  while (std::getline(ss, pat, ','))
    if (!pat.empty() && fnmatch(pat.c_str(), id.c_str(), 0) == 0) return true;
  return false;
}

bool is_compilable_fixture(const fs::path& json_path) {
  const std::string base = json_path.string().substr(0, json_path.string().size() - 5);
  if (!fs::exists(base + ".keras.y0.npy") || !fs::exists(base + ".h5")) return false;
  const nlohmann::json meta = nlohmann::json::parse(read_file(json_path.string()));
  if (!meta.is_object()) return false;
  return meta.value("kind", "model") != "bad" && !meta.contains("weights_file");
}

std::vector<Fixture> discover() {
  std::vector<Fixture> out;
  for (const char* version : {"k2", "k3"}) {
    const fs::path dir = fs::path(source_dir()) / "tests" / "fixtures" / version;
    if (!fs::is_directory(dir)) continue;
    for (const auto& entry : fs::directory_iterator(dir)) {
      const fs::path p = entry.path();
      const std::string fn = p.filename().string();
      if (p.extension() != ".json" || fn.find('.') != fn.size() - 5) continue;  // skips x.arch.json
      if (!is_compilable_fixture(p)) continue;
      const std::string stem = fn.substr(0, fn.size() - 5);
      Fixture f;
      f.id = std::string(version) + "/" + stem;
      f.ns = std::string(version) + "_" + stem;
      f.base = (dir / stem).string();
      if (selected(f.id)) out.push_back(f);
    }
  }
  std::sort(out.begin(), out.end(), [](const Fixture& a, const Fixture& b) { return a.id < b.id; });
  return out;
}

std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=./:,@%") ==
                        std::string::npos)
    return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

uint32_t bits_of(float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  return u;
}

}  // namespace

const std::vector<Fixture>& fixtures() {
  static const std::vector<Fixture> all = discover();
  return all;
}

const Fixture* find_fixture(const std::string& id) {
  for (const Fixture& f : fixtures())
    if (f.id == id) return &f;
  return nullptr;
}

uint32_t fixture_hash(const Fixture& f) {
  uint32_t h = 2166136261u;
  for (unsigned char ch : f.id) h = (h ^ ch) * 16777619u;
  return h;
}

bool full_matrix() {
  const char* env = std::getenv("KC2CPP_E2E_FULL");
  return env && std::string(env) == "1";
}

Array read_npy(const std::string& path) {
  load::NpyArray a = load::read_npy(path);
  Array out;
  out.shape.assign(a.shape.begin(), a.shape.end());
  out.data.assign(a.data.begin(), a.data.end());
  return out;
}

Reference reference(const Fixture& f, ir::FpMode fp) {
  const ir::Graph g = driver::compile_graph(load::load_model(f.h5()), fp);
  Reference r;
  std::vector<std::vector<float>> xs;
  int batch = 0;
  for (size_t k = 0; k < g.inputs.size(); ++k) {
    r.integer_inputs.push_back(g.tensors[g.inputs[k]].dtype == ir::DType::I32);
    r.inputs.push_back(read_npy(f.input(static_cast<int>(k))));
    batch = static_cast<int>(r.inputs.back().shape.at(0));
    xs.push_back(r.inputs.back().data);
  }
  std::vector<std::vector<float>> ys = eval::evaluate(g, xs, batch);
  for (size_t k = 0; k < ys.size(); ++k) {
    Array a;
    a.shape = {batch};
    for (int64_t d : g.tensors[g.outputs[k]].shape) a.shape.push_back(d);
    a.data = std::move(ys[k]);
    r.outputs.push_back(std::move(a));
  }
  return r;
}

std::string raw_inputs(const Reference& r) {
  std::string bytes;
  for (size_t k = 0; k < r.inputs.size(); ++k) {
    const std::vector<float>& x = r.inputs[k].data;
    if (!r.integer_inputs[k]) {
      bytes.append(reinterpret_cast<const char*>(x.data()), x.size() * 4);
      continue;
    }
    for (float v : x) {
      if (!(v == std::trunc(v) && v >= -2147483648.0f && v < 2147483648.0f))
        throw std::runtime_error("integer input " + std::to_string(k) + " holds " + describe_float(v) +
                                 ", not an int32 value");
      const int32_t i = static_cast<int32_t>(v);
      bytes.append(reinterpret_cast<const char*>(&i), 4);
    }
  }
  return bytes;
}

RunResult run(const std::vector<std::string>& argv, const std::string& cwd) {
  RunResult r;
  char out_name[] = "/tmp/kc2cpp-e2e-out-XXXXXX";
  char err_name[] = "/tmp/kc2cpp-e2e-err-XXXXXX";
  const int out_fd = mkstemp(out_name);
  const int err_fd = mkstemp(err_name);
  if (out_fd < 0 || err_fd < 0) throw std::runtime_error("mkstemp failed");
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    const int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    execvp(args[0], args.data());
    std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  int status = 0;
  if (pid > 0) waitpid(pid, &status, 0);
  close(out_fd);
  close(err_fd);
  r.out = read_file(out_name);
  r.err = read_file(err_name);
  unlink(out_name);
  unlink(err_name);
  if (pid > 0 && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (pid > 0 && WIFSIGNALED(status)) r.err += "\n[killed by signal " + std::to_string(WTERMSIG(status)) + "]";
  return r;
}

std::string command_line(const std::vector<std::string>& argv) {
  std::string s;
  for (const std::string& a : argv) s += (s.empty() ? "" : " ") + shell_quote(a);
  return s;
}

bool have_program(const std::string& prog) {
  if (prog.find('/') != std::string::npos) return access(prog.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(ss, dir, ':'))
    if (!dir.empty() && access((dir + "/" + prog).c_str(), X_OK) == 0) return true;
  return false;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(path + ": cannot read");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  f.close();
  if (!f) throw std::runtime_error(path + ": cannot write");
}

bool file_exists(const std::string& path) { return fs::exists(path); }

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

void make_clean_dir(const std::string& dir) {
  fs::remove_all(dir);
  fs::create_directories(dir);
}

std::string describe_float(float v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "0x%08" PRIx32 " (%.9g)", bits_of(v), static_cast<double>(v));
  return buf;
}

std::string compare_bits(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  if (got.size() != want.size())
    return what + ": " + std::to_string(got.size()) + " values, expected " + std::to_string(want.size());
  size_t differing = 0, first = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const bool same = bits_of(got[i]) == bits_of(want[i]) || (std::isnan(got[i]) && std::isnan(want[i]));
    if (!same && differing++ == 0) first = i;
  }
  if (differing == 0) return "";
  return what + ": " + std::to_string(differing) + " of " + std::to_string(got.size()) +
         " values differ; first at flat index " + std::to_string(first) + ": got " + describe_float(got[first]) +
         ", expected " + describe_float(want[first]);
}

double worst_epsilons(const Array& ours, const Array& keras) {
  const size_t n = static_cast<size_t>(ours.shape.at(0)), per = n ? ours.data.size() / n : 0;
  double worst = 0;
  for (size_t s = 0; s < n; ++s) {
    double scale = 0;
    for (size_t i = 0; i < per; ++i) scale = std::max(scale, std::fabs(static_cast<double>(keras.data[s * per + i])));
    scale = std::max(scale, std::ldexp(1.0, -100)) * std::ldexp(1.0, -23);
    for (size_t i = 0; i < per; ++i)
      worst = std::max(worst, std::fabs(static_cast<double>(ours.data[s * per + i]) - keras.data[s * per + i]) / scale);
  }
  return worst;
}

}  // namespace kc2cpp::e2e
