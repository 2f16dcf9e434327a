// Generated code under the sanitizers (issue 16, kept short): a few fixtures that cover the kernel
// families (Dense, Conv2D, depthwise, a bidirectional LSTM, Embedding indices, several inputs and
// outputs) compiled with clang's AddressSanitizer + UndefinedBehaviorSanitizer on three ISA paths, and with
// ThreadSanitizer running two threads on one model at once (tests/e2e/harness_main.cpp [threads]).
//
// Each build runs the fixture's stored inputs (bit-exact against the reference evaluator) and then
// inputs of every hostile class the generated code must survive without a sanitizer report: NaN, ±Inf,
// ±FLT_MAX, ±1e30, subnormals, -0 and zeros, and for integer inputs indices far outside the vocabulary
// (negative, INT32_MIN/MAX). Any report stops the harness (-fno-sanitize-recover) with a non-zero exit.
#include <gtest/gtest.h>

#include <cfloat>
#include <climits>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "driver/driver.h"
#include "e2e_util.h"

namespace kc2cpp::e2e {
namespace {

const char* const kFixtures[] = {"k3/summary_walkthrough", "k3/conv2d_same",   "k3/depthwise2d_strides",
                                 "k3/bidir_lstm_concat_seq", "k3/embedding_int_d16", "k3/graph_multi_io"};

struct SanitizerBuild {
  const char* name;
  std::vector<std::string> flags;  // compile and link
  int threads;                     // harness threads
};

const SanitizerBuild kBuilds[] = {
    {"asan_ubsan_avx2", {"-O1", "-march=x86-64-v3", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"}, 1},
    // SSE2 reads unpadded weight rows as whole vectors, into the arrays' kWSlack (kc2cpp_kernels.h)
    {"asan_ubsan_sse2", {"-O1", "-march=x86-64", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"}, 1},
    {"asan_ubsan_scalar",
     {"-O1", "-DKC2CPP_FORCE_SCALAR", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"}, 1},
    {"tsan_two_threads", {"-O1", "-march=x86-64-v3", "-fsanitize=thread"}, 2},
};

// The hostile input classes, cycled over every element of every sample.
const float kFloatClasses[] = {NAN, -NAN, INFINITY, -INFINITY, FLT_MAX, -FLT_MAX, 1e30f, -1e30f, 1e-45f, -1e-40f,
                               FLT_MIN, -0.0f, 0.0f, 1.0f, -3.5f, 88.8f};
const int32_t kIndexClasses[] = {-1, INT32_MIN, INT32_MAX, 1000000, 0, 15, 16, -16};

// `n` samples of every input of `r`, filled with the hostile classes.
std::string hostile_inputs(const Reference& r, size_t n) {
  std::string bytes;
  for (size_t k = 0; k < r.inputs.size(); ++k) {
    const size_t per = r.inputs[k].data.size() / static_cast<size_t>(r.inputs[k].shape.at(0));
    for (size_t i = 0; i < n * per; ++i) {
      if (r.integer_inputs[k]) {
        const int32_t v = kIndexClasses[(i + k) % (sizeof kIndexClasses / sizeof kIndexClasses[0])];
        bytes.append(reinterpret_cast<const char*>(&v), 4);
      } else {
        const float v = kFloatClasses[(i * 7 + k) % (sizeof kFloatClasses / sizeof kFloatClasses[0])];
        bytes.append(reinterpret_cast<const char*>(&v), 4);
      }
    }
  }
  return bytes;
}

class Sanitizers : public ::testing::TestWithParam<SanitizerBuild> {};

TEST_P(Sanitizers, GeneratedCodeIsClean) {
  const SanitizerBuild& b = GetParam();
  if (!have_program("clang++")) GTEST_SKIP() << "SKIPPED: clang++ not found";
#if !defined(__x86_64__)
  GTEST_SKIP() << "SKIPPED: the sanitizer builds use x86-64 ISA flags";
#endif
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
    GTEST_SKIP() << "SKIPPED: this CPU does not run x86-64-v3";
  const std::string dir = work_dir() + "/sanitizers/" + b.name;
  make_clean_dir(dir);
  std::vector<std::string> cxx = {"clang++", "-std=c++17", "-g", "-fno-omit-frame-pointer"};
  cxx.insert(cxx.end(), b.flags.begin(), b.flags.end());

  // One harness with every model (as matrix_test.cpp builds it).
  std::string models_h = "#pragma once\n", list = "#define KC2CPP_HARNESS_MODELS(X)";
  std::vector<std::string> link = cxx;
  link.insert(link.end(), {"-o", dir + "/harness", dir + "/harness_main.o"});
  std::vector<Reference> refs;
  std::vector<const Fixture*> fs;
  for (const char* id : kFixtures) {
    const Fixture* f = find_fixture(id);
    ASSERT_NE(f, nullptr) << id;
    driver::CompileOptions opt;
    opt.model = f->h5();
    opt.output = dir + "/" + f->ns + ".cpp";
    opt.header = dir + "/" + f->ns + ".h";
    opt.name = f->ns;
    driver::compile_file(opt);
    std::vector<std::string> cmd = cxx;
    cmd.insert(cmd.end(), {"-c", opt.output, "-o", dir + "/" + f->ns + ".o"});
    const RunResult r = run(cmd);
    ASSERT_EQ(r.exit_code, 0) << command_line(cmd) << "\n" << r.err;
    link.push_back(dir + "/" + f->ns + ".o");
    models_h += "#include \"" + f->ns + ".h\"\n";
    list += " X(" + f->ns + ")";
    refs.push_back(reference(*f, ir::FpMode::Unfused));
    fs.push_back(f);
  }
  write_file(dir + "/harness_models.h", models_h + list + "\n");
  std::vector<std::string> main_cmd = cxx;
  main_cmd.insert(main_cmd.end(), {"-I", dir, "-c", source_dir() + "/tests/e2e/harness_main.cpp", "-o",
                                   dir + "/harness_main.o"});
  for (const std::vector<std::string>& cmd : {main_cmd, link}) {
    const RunResult r = run(cmd);
    ASSERT_EQ(r.exit_code, 0) << command_line(cmd) << "\n" << r.err;
  }

  for (size_t i = 0; i < fs.size(); ++i) {
    SCOPED_TRACE(fs[i]->id);
    const std::string stem = dir + "/" + fs[i]->ns;
    const std::string threads = std::to_string(b.threads);
    // The stored inputs: bit-exact.
    write_file(stem + ".in.f32", raw_inputs(refs[i]));
    RunResult r = run({dir + "/harness", fs[i]->ns, stem + ".in.f32", stem + ".out.f32", stem + ".isa.txt", threads});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string got_bytes = read_file(stem + ".out.f32");
    std::vector<float> got(got_bytes.size() / 4);
    std::memcpy(got.data(), got_bytes.data(), got.size() * 4);
    std::vector<float> want;
    for (const Array& a : refs[i].outputs) want.insert(want.end(), a.data.begin(), a.data.end());
    EXPECT_EQ(compare_bits(got, want, "outputs vs the reference evaluator"), "");
    // The hostile classes: no report, whatever the outputs.
    write_file(stem + ".hostile.f32", hostile_inputs(refs[i], 4));
    r = run({dir + "/harness", fs[i]->ns, stem + ".hostile.f32", stem + ".out.f32", stem + ".isa.txt", threads});
    EXPECT_EQ(r.exit_code, 0) << "hostile inputs:\n" << r.err;
  }
  std::printf("[ sanitize ] %s: %zu fixtures clean (stored inputs bit-exact, %zu hostile input classes)\n", b.name,
              fs.size(), sizeof kFloatClasses / sizeof kFloatClasses[0]);
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Builds, Sanitizers, ::testing::ValuesIn(kBuilds),
                         [](const ::testing::TestParamInfo<SanitizerBuild>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace kc2cpp::e2e
