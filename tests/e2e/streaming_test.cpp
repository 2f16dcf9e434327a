// The streaming API of recurrent models (compiler/plan/step.h): for every fixture that gets
// State / reset() / step(), the generated file is built per configuration (scalar and the best
// native path, gcc and clang; NEON under qemu and --fp fused when available) and run on the
// fixture's inputs both whole (predict) and step by step, three independent States interleaved
// with one poisoned Workspace each (KC2CPP_STREAM_EXTRA_FLAGS: one more compiler flag, for local
// experiments). The two scalar -O0 configurations build every streaming fixture; the optimised
// ones (about 4x the compile time each) a fixed sample, see builds(). Checked bit for bit:
//   - predict() against the reference evaluator;
//   - y_t of step() against row t of predict()'s output (models whose output keeps the time axis)
//     or, at t = T-1, against predict()'s output (models whose last recurrent layer returns h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "driver/driver.h"
#include "e2e_util.h"
#include "load/keras_model.h"
#include "plan/plan.h"
#include "plan/step.h"

namespace kc2cpp::e2e {
namespace {

struct StreamConfig {
  std::string name;
  std::vector<std::string> cxx;
  std::vector<std::string> flags;
  std::vector<std::string> link;
  std::vector<std::string> runner;  // e.g. qemu for aarch64
  ir::FpMode fp = ir::FpMode::Unfused;
  int sample = -1;                  // -1: every fixture; k >= 0: the k-th sampled configuration
};

void PrintTo(const StreamConfig& c, std::ostream* os) { *os << c.name; }

std::vector<StreamConfig> stream_configs() {
  std::vector<StreamConfig> out;
  for (const char* cc : {"gcc", "clang"}) {
    const std::string cxx = std::string(cc) == "gcc" ? "g++" : "clang++";
    out.push_back({std::string(cc) + "_scalar_O0", {cxx}, {"-O0", "-DKC2CPP_FORCE_SCALAR"}, {}, {}});
    out.push_back({std::string(cc) + "_native_O3", {cxx}, {"-O3", "-march=native"}, {}, {}});
  }
  out.push_back({"gcc_native_O2_contract_fast", {"g++"}, {"-O2", "-march=native", "-ffp-contract=fast"}, {}, {}});
  out.push_back({"gcc_native_O3_fp_fused", {"g++"}, {"-O3", "-march=native"}, {}, {}, ir::FpMode::Fused});
#if !defined(__aarch64__)
  out.push_back({"gcc_neon_O2", {"aarch64-linux-gnu-g++"}, {"-O2"}, {"-static"}, {"qemu-aarch64-static"}});
#endif
  int k = 0;
  for (StreamConfig& c : out)
    if (c.flags[0] != "-O0") c.sample = k++;
  return out;
}

// Whether configuration c builds fixture f: the -O0 ones all; of the n optimised ones each fixture
// goes to two, (hash(id) + k) mod n < 2, so every fixture is checked optimised twice (its k2/k3
// twin, near-identical code, usually twice more) and each of them builds 2/n of the fixtures.
// KC2CPP_E2E_FULL=1: all.
bool builds(const StreamConfig& c, const Fixture& f, int n) {
  if (full_matrix() || c.sample < 0) return true;
  return (fixture_hash(f) + static_cast<uint32_t>(c.sample)) % static_cast<uint32_t>(n) < 2;
}

struct StreamFixture {
  const Fixture* fixture;
  int64_t steps = 0;          // kSequenceLength
  int64_t out_size = 0;       // kOutput0Size
  int64_t step_out = 0;       // kStepOutputSize
  bool per_timestep = false;  // y_t is row t of predict()'s output
};

// Fixtures whose generated file has step(): decided by the compiler's own plan.
const std::vector<StreamFixture>& streaming_fixtures() {
  static const std::vector<StreamFixture> list = [] {
    std::vector<StreamFixture> out;
    for (const Fixture& f : fixtures()) {
      ir::Graph g;
      try {
        g = driver::compile_graph(load::load_model(f.h5()), ir::FpMode::Unfused);
      } catch (const std::exception&) {
        continue;  // the matrix test reports models that do not compile
      }
      const plan::Plan p = plan::make_plan(g);
      if (!p.step || !p.step->why_not.empty()) continue;
      const ir::Graph& s = p.step->graph;
      out.push_back({&f, p.step->sequence_length, ir::num_elements(g.tensors[g.outputs[0]].shape),
                     ir::num_elements(s.tensors[s.outputs[0]].shape), p.step->output_per_timestep});
    }
    return out;
  }();
  return list;
}

// The harness: every model of the configuration, selected by name on the command line.
const char* kHarness = R"cc(// Written by tests/e2e/streaming_test.cpp.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "stream_models.h"

namespace {

template <class W>
void poison(W& w) { std::memset(static_cast<void*>(&w), 0xff, sizeof(W)); }

// Per sample: predict()'s output, then y_0 .. y_{T-1} of step().
template <class W, class S, class In>
void run(const float* xf, long n, float* out, int in_size, int out_size, int steps, int step_in, int step_out,
         void (*predict)(const In*, float*, W&), void (*reset)(S&), void (*step)(const In*, float*, S&, W&)) {
  static W ws[3];
  std::vector<In> x(static_cast<std::size_t>(n * in_size));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<In>(xf[i]);
  const long rec = out_size + static_cast<long>(steps) * step_out;
  for (long s = 0; s < n; ++s) {
    poison(ws[0]);
    predict(x.data() + s * in_size, out + s * rec, ws[0]);
  }
  for (long s0 = 0; s0 < n; s0 += 3) {  // three independent streams, interleaved
    S st[3];
    for (int k = 0; k < 3; ++k) {
      std::memset(static_cast<void*>(&st[k]), 0xff, sizeof(S));
      reset(st[k]);
    }
    for (int t = 0; t < steps; ++t)
      for (long s = s0; s < s0 + 3 && s < n; ++s) {
        W& w = ws[s - s0];
        poison(w);
        step(x.data() + s * in_size + t * step_in, out + s * rec + out_size + t * step_out, st[s - s0], w);
      }
  }
}

struct Model {
  const char* name;
  int in_size, record;
  void (*run)(const float*, long, float*);
};

#define KC2CPP_STREAM_ENTRY(ns)                                                                          \
  {#ns, ns::kInput0Size, ns::kOutput0Size + ns::kSequenceLength * ns::kStepOutputSize,                   \
   [](const float* x, long n, float* out) {                                                              \
     run<ns::Workspace, ns::State, ns::Input0Type>(x, n, out, ns::kInput0Size, ns::kOutput0Size,          \
                                                   ns::kSequenceLength, ns::kStepInputSize,              \
                                                   ns::kStepOutputSize, &ns::predict, &ns::reset, &ns::step); \
   }},
const Model kModels[] = {KC2CPP_STREAM_MODELS(KC2CPP_STREAM_ENTRY)};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) return std::fprintf(stderr, "usage: %s <model> <in.f32> <out.f32>\n", argv[0]), 2;
  for (const Model& m : kModels) {
    if (std::strcmp(m.name, argv[1]) != 0) continue;
    std::FILE* f = std::fopen(argv[2], "rb");
    if (!f) return 2;
    std::vector<float> x;
    float v;
    while (std::fread(&v, 4, 1, f) == 1) x.push_back(v);
    std::fclose(f);
    const long n = static_cast<long>(x.size()) / m.in_size;
    std::vector<float> y(static_cast<std::size_t>(n * m.record));
    m.run(x.data(), n, y.data());
    f = std::fopen(argv[3], "wb");
    if (!f || std::fwrite(y.data(), 4, y.size(), f) != y.size() || std::fclose(f) != 0) return 2;
    return 0;
  }
  return std::fprintf(stderr, "no model %s\n", argv[1]), 2;
}
)cc";

std::vector<float> floats_of(const std::string& bytes) {
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

class Streaming : public ::testing::TestWithParam<StreamConfig> {};

TEST_P(Streaming, StepGivesPredictBits) {
  const StreamConfig& c = GetParam();
  if (!have_program(c.cxx[0])) GTEST_SKIP() << c.name << ": compiler '" << c.cxx[0] << "' not found";
  if (!c.runner.empty() && !have_program(c.runner[0])) GTEST_SKIP() << c.name << ": '" << c.runner[0] << "' not found";
  ASSERT_FALSE(streaming_fixtures().empty()) << "no fixture has a streaming API";
  const std::vector<StreamConfig> configs = stream_configs();
  const int sampled = static_cast<int>(
      std::count_if(configs.begin(), configs.end(), [](const StreamConfig& s) { return s.sample >= 0; }));
  std::vector<StreamFixture> list;
  for (const StreamFixture& sf : streaming_fixtures())
    if (builds(c, *sf.fixture, sampled)) list.push_back(sf);
  ASSERT_FALSE(list.empty()) << c.name << ": no streaming fixture is in its sample";
  const std::string dir = work_dir() + "/streaming/" + c.name;
  make_clean_dir(dir);

  std::vector<std::string> cmd = c.cxx;
  cmd.insert(cmd.end(), {"-std=c++17", "-Wall", "-Wextra", "-Wpedantic", "-Werror"});
  cmd.insert(cmd.end(), c.flags.begin(), c.flags.end());
  if (const char* extra = std::getenv("KC2CPP_STREAM_EXTRA_FLAGS"); extra && *extra) cmd.push_back(extra);
  std::string models = "#pragma once\n", list_macro = "#define KC2CPP_STREAM_MODELS(X)";
  std::vector<std::string> link = cmd;
  link.insert(link.end(), {"-I", dir, "-o", dir + "/harness", dir + "/harness.cpp"});
  for (const StreamFixture& sf : list) {
    driver::CompileOptions opt;
    opt.model = sf.fixture->h5();
    opt.output = dir + "/" + sf.fixture->ns + ".cpp";
    opt.header = dir + "/" + sf.fixture->ns + ".h";
    opt.name = sf.fixture->ns;
    opt.fp = c.fp;
    ASSERT_NO_THROW(driver::compile_file(opt)) << sf.fixture->id;
    models += "#include \"" + sf.fixture->ns + ".h\"\n";
    list_macro += " X(" + sf.fixture->ns + ")";
    link.push_back(opt.output);
  }
  write_file(dir + "/stream_models.h", models + list_macro + "\n");
  write_file(dir + "/harness.cpp", kHarness);
  link.insert(link.end(), c.link.begin(), c.link.end());
  const RunResult build = run(link);
  ASSERT_EQ(build.exit_code, 0) << command_line(link) << "\n" << build.err.substr(0, 4000);
  ASSERT_EQ(build.err, "") << "warnings building the generated files:\n" << build.err.substr(0, 4000);

  int checked = 0;
  for (const StreamFixture& sf : list) {
    const Fixture& f = *sf.fixture;
    const Reference ref = reference(f, c.fp);
    const std::vector<float>& x = ref.inputs.at(0).data;
    write_file(dir + "/" + f.ns + ".in.f32", std::string(reinterpret_cast<const char*>(x.data()), x.size() * 4));
    std::vector<std::string> argv = c.runner;
    argv.insert(argv.end(), {dir + "/harness", f.ns, dir + "/" + f.ns + ".in.f32", dir + "/" + f.ns + ".out.f32"});
    const RunResult r = run(argv);
    ASSERT_EQ(r.exit_code, 0) << command_line(argv) << "\n" << r.err;
    const std::vector<float> got = floats_of(read_file(dir + "/" + f.ns + ".out.f32"));
    const std::vector<float>& want = ref.outputs.at(0).data;
    const size_t n = static_cast<size_t>(ref.inputs[0].shape.at(0)), out = static_cast<size_t>(sf.out_size);
    const size_t so = static_cast<size_t>(sf.step_out), rec = out + static_cast<size_t>(sf.steps) * so;
    ASSERT_EQ(got.size(), n * rec) << f.id;
    for (size_t s = 0; s < n; ++s) {
      const auto at = [&](size_t i) { return got.begin() + static_cast<std::ptrdiff_t>(s * rec + i); };
      const std::vector<float> pred(at(0), at(out));
      const std::string id = f.id + " sample " + std::to_string(s);
      std::string diff = compare_bits(pred, std::vector<float>(want.begin() + static_cast<std::ptrdiff_t>(s * out),
                                                               want.begin() + static_cast<std::ptrdiff_t>((s + 1) * out)),
                                      id + ": predict() vs the reference evaluator");
      EXPECT_EQ(diff, "") << c.name;
      for (size_t t = 0; t < static_cast<size_t>(sf.steps); ++t) {
        if (!sf.per_timestep && t + 1 < static_cast<size_t>(sf.steps)) continue;
        const std::vector<float> y(at(out + t * so), at(out + (t + 1) * so));
        const std::vector<float> p = sf.per_timestep ? std::vector<float>(pred.begin() + static_cast<std::ptrdiff_t>(t * so),
                                                                          pred.begin() + static_cast<std::ptrdiff_t>((t + 1) * so))
                                                     : pred;
        diff = compare_bits(y, p, id + ": step() y_" + std::to_string(t) + " vs predict()");
        EXPECT_EQ(diff, "") << c.name;
      }
    }
    ++checked;
  }
  std::printf("[ stream   ] %-28s %d/%zu fixtures (%s): step() == predict() == reference, bit for bit\n", c.name.c_str(),
              checked, streaming_fixtures().size(), c.sample < 0 || full_matrix() ? "all" : "sample");
}

INSTANTIATE_TEST_SUITE_P(Configs, Streaming, ::testing::ValuesIn(stream_configs()),
                         [](const ::testing::TestParamInfo<StreamConfig>& info) { return info.param.name; });

}  // namespace
}  // namespace kc2cpp::e2e
