// The bit-exact matrix: the fixtures' generated files, built for every ISA path (scalar, SSE2, AVX2,
// AVX-512, NEON) with gcc and clang at -O0 and -O3, and with -O2 -ffp-contract=fast, run on the
// fixtures' stored inputs, must produce the reference evaluator's outputs and the committed goldens
// bit for bit (DESIGN.md, "Determinism contract"); generated with --fp fused on four FMA paths, the
// evaluator's outputs in that mode. One gtest per configuration, so `ctest -j` runs
// configurations in parallel. Which fixtures each configuration builds: see builds().
//   KC2CPP_E2E_FULL=1      every fixture in every configuration
//   KC2CPP_E2E_FIXTURES    globs on fixture ids (e2e_util.h)
//   KC2CPP_E2E_JOBS        compiler jobs per configuration (default 2)
//   KC2CPP_E2E_KEEP=1      keep the work directory of passing configurations too
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "driver/driver.h"
#include "e2e_util.h"

namespace kc2cpp::e2e {
namespace {

enum class Cpu { Any, X86Sse2, X86Avx2, X86Avx512, Aarch64 };

struct Config {
  std::string name;                 // gtest parameter name
  std::vector<std::string> cxx;     // compiler command (program + target options)
  std::vector<std::string> flags;   // optimisation and ISA flags, after the common ones
  std::vector<std::string> link;    // extra link flags
  std::string isa;                  // what isa() must return
  Cpu cpu = Cpu::Any;               // what the host must run
  bool separate = false;            // each generated file its own TU (else: unity TUs, see below)
  int path = 0;                     // ISA path: 0 scalar, 1 sse2, 2 avx2, 3 avx512, 4 neon
  int combo = 0;                    // 0 gcc -O3, 1 clang -O3, 2 gcc -O0, 3 clang -O0; for `separate`: 0 gcc, 1 clang;
                                    // for --fp fused: which quarter of the fixtures (0..3)
  ir::FpMode fp = ir::FpMode::Unfused;
  bool size_first = false;          // -DKC2CPP_OPTIMIZE_SIZE: combo is which quarter of the fixtures
};

void PrintTo(const Config& c, std::ostream* os) { *os << c.name; }

const std::vector<std::string> kCommonFlags = {"-std=c++17", "-Wall", "-Wextra", "-Wpedantic", "-Werror"};

std::vector<Config> all_configs() {
  std::vector<Config> out;
  struct Isa {
    const char* name;
    std::vector<std::string> flags;
    Cpu cpu;
  };
  const std::vector<Isa> isas = {{"scalar", {"-DKC2CPP_FORCE_SCALAR"}, Cpu::Any},
                                 {"sse2", {"-march=x86-64"}, Cpu::X86Sse2},
                                 {"avx2", {"-march=x86-64-v3"}, Cpu::X86Avx2},
                                 {"avx512", {"-march=x86-64-v4"}, Cpu::X86Avx512}};
  for (int gcc = 1; gcc >= 0; --gcc) {
    const std::string cc = gcc ? "gcc" : "clang";
    const std::vector<std::string> cxx = {gcc ? "g++" : "clang++"};
    for (int opt = 0; opt <= 3; opt += 3) {
      const std::string o = "O" + std::to_string(opt);
      const int combo = (gcc ? 0 : 1) + (opt ? 0 : 2);
      for (size_t p = 0; p < isas.size(); ++p) {
        Config c{cc + "_" + isas[p].name + "_" + o, cxx, {"-" + o}, {}, isas[p].name, isas[p].cpu};
        c.flags.insert(c.flags.end(), isas[p].flags.begin(), isas[p].flags.end());
        c.path = static_cast<int>(p);
        c.combo = combo;
        out.push_back(c);
      }
      Config c{cc + "_neon_" + o,
               gcc ? std::vector<std::string>{"aarch64-linux-gnu-g++"}
                   : std::vector<std::string>{"clang++", "--target=aarch64-linux-gnu"},
               {"-" + o}, {"-static"}, "neon", Cpu::Aarch64};
      c.path = 4;
      c.combo = combo;
      out.push_back(c);
    }
    // The determinism contract must survive contraction-happy flags: gcc contracts intrinsics'
    // mul+add into vfmadd at -O2 -march=x86-64-v3, clang contracts scalar a*b+c (DESIGN.md).
    // These two also build every generated file as its own translation unit, exactly as a user does.
    Config c{cc + "_avx2_O2_contract_fast", cxx, {"-O2", "-ffp-contract=fast", "-march=x86-64-v3"}, {}, "avx2",
             Cpu::X86Avx2, true};
    c.path = 2;
    c.combo = gcc ? 0 : 1;
    out.push_back(c);
  }
  // --fp fused (hardware FMA: the generated file #errors without one): Dense-like sums AND the
  // exponential core of the activations in single-rounding fma, against the evaluator in the same
  // mode. Four paths with an FMA, each a quarter of the fixtures, so every fixture is built once.
  const std::vector<Config> fused = {
      {"gcc_avx512_O3_fp_fused", {"g++"}, {"-O3", "-march=x86-64-v4"}, {}, "avx512", Cpu::X86Avx512},
      {"clang_avx2_O3_fp_fused", {"clang++"}, {"-O3", "-march=x86-64-v3"}, {}, "avx2", Cpu::X86Avx2},
      {"gcc_scalar_O0_fp_fused", {"g++"}, {"-O0", "-march=x86-64-v3", "-DKC2CPP_FORCE_SCALAR"}, {}, "scalar",
       Cpu::X86Avx2},
      {"gcc_neon_O3_fp_fused", {"aarch64-linux-gnu-g++"}, {"-O3"}, {"-static"}, "neon", Cpu::Aarch64}};
  const int fused_path[] = {3, 2, 0, 4};
  for (size_t k = 0; k < fused.size(); ++k) {
    Config c = fused[k];
    c.path = fused_path[k];
    c.combo = static_cast<int>(k);
    c.fp = ir::FpMode::Fused;
    out.push_back(c);
  }
  // -DKC2CPP_OPTIMIZE_SIZE (loops not unrolled, one shared Dense-like loop, one vector at a time):
  // the same bits, checked on two paths and both --fp modes, each on an eighth of the fixtures.
  Config small{"gcc_scalar_Os_size", {"g++"}, {"-Os", "-DKC2CPP_OPTIMIZE_SIZE", "-DKC2CPP_FORCE_SCALAR"}, {}, "scalar"};
  small.size_first = true;
  out.push_back(small);
  small = {"clang_avx2_O2_size_fp_fused", {"clang++"}, {"-O2", "-DKC2CPP_OPTIMIZE_SIZE", "-march=x86-64-v3"}, {},
           "avx2", Cpu::X86Avx2};
  small.size_first = true;
  small.path = 2;
  small.combo = 1;
  small.fp = ir::FpMode::Fused;
  out.push_back(small);
  return out;
}

// Which fixtures a configuration builds. All of them with KC2CPP_E2E_FULL=1 (22 configurations x
// ~300 fixtures: about an hour of CPU). By default a fixed sample that keeps the suite near ten
// minutes on two cores yet builds EVERY fixture on EVERY ISA path: on path p the fixture goes to
// one of {gcc -O3, clang -O3, gcc -O0, clang -O0}, chosen as (hash(id) + p) mod 4, so over the five
// paths each fixture meets all four compiler/level combinations; each configuration gets a quarter
// of the fixtures. The -ffp-contract=fast builds (one TU per file, ~1.5 s each with gcc) take a
// sixteenth each; the size-first builds an eighth each.
bool builds(const Config& c, const Fixture& f) {
  if (full_matrix()) return true;
  const uint32_t h = fixture_hash(f);
  if (c.separate) return (h >> 8) % 16 == static_cast<uint32_t>(c.combo) * 8;
  if (c.size_first) return (h >> 6) % 8 == static_cast<uint32_t>(c.combo);
  if (c.fp == ir::FpMode::Fused) return (h >> 4) % 4 == static_cast<uint32_t>(c.combo);
  return (h + static_cast<uint32_t>(c.path)) % 4 == static_cast<uint32_t>(c.combo);
}

// "" if the host runs code for `cpu` (natively, or under qemu for aarch64); else why not.
std::string cpu_missing(Cpu cpu) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  switch (cpu) {
    case Cpu::Any:
    case Cpu::Aarch64:
      return "";
    case Cpu::X86Sse2:
      return __builtin_cpu_supports("sse2") ? "" : "this CPU has no SSE2";
    case Cpu::X86Avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2")
                 ? ""
                 : "this CPU does not run x86-64-v3 (AVX2+FMA+BMI2)";
    case Cpu::X86Avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                     __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
                     __builtin_cpu_supports("avx512cd")
                 ? ""
                 : "this CPU does not run x86-64-v4 (AVX-512 F/BW/DQ/VL/CD)";
  }
  return "";
#else
  return cpu == Cpu::Any || cpu == Cpu::Aarch64 ? "" : "the host is not x86-64";
#endif
}

// The tools a configuration needs, or why it cannot run here.
std::string tools_missing(const Config& c) {
  if (!have_program(c.cxx[0])) return "compiler '" + c.cxx[0] + "' not found (scripts/setup.sh installs it)";
  if (c.cpu != Cpu::Aarch64) return "";
#if !defined(__aarch64__)
  if (!have_program("qemu-aarch64-static")) return "qemu-aarch64-static not found (apt-get install qemu-user-static)";
#endif
  // A cross toolchain may be present but unusable (e.g. clang without the aarch64 sysroot): probe it.
  const std::string dir = work_dir() + "/matrix/" + c.name + "-probe";
  make_clean_dir(dir);
  write_file(dir + "/probe.cpp", "#include <cstdio>\nint main() { std::puts(\"ok\"); }\n");
  std::vector<std::string> cmd = c.cxx;
  cmd.insert(cmd.end(), {"-std=c++17", "-static", dir + "/probe.cpp", "-o", dir + "/probe"});
  const RunResult r = run(cmd);
  if (r.exit_code != 0) return command_line(cmd) + " cannot build a static aarch64 program:\n" + r.err;
  return "";
}

std::vector<float> raw_floats(const std::string& bytes) {
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

std::string first_lines(const std::string& s, int n) {
  size_t at = 0;
  for (int i = 0; i < n && at != std::string::npos; ++i) at = s.find('\n', at + 1);
  return at == std::string::npos ? s : s.substr(0, at) + "\n[...]";
}

// KC2CPP_E2E_JOBS (default 2): ctest -j2 runs two configurations at once, and two jobs each keep
// the cores busy while the last ones finish.
size_t job_count() {
  const char* env = std::getenv("KC2CPP_E2E_JOBS");
  return static_cast<size_t>(std::max(1, env && *env ? std::atoi(env) : 2));
}

// Runs job(i) for i in [0, n) on job_count() threads.
template <class F>
void parallel_for(size_t n, F job) {
  const size_t threads = job_count();
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (size_t i; (i = next++) < n;) job(i);
    });
  for (std::thread& t : pool) t.join();
}

// CPU seconds used so far by this process (who = RUSAGE_SELF) or by its finished children
// (RUSAGE_CHILDREN: compilers, harness runs).
double cpu_seconds(int who) {
  rusage u{};
  getrusage(who, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

struct FixtureRun {
  const Fixture* fixture = nullptr;
  std::string problem;  // first thing that went wrong, "" if bit-exact
};

class Matrix : public ::testing::TestWithParam<Config> {};

TEST_P(Matrix, BitExact) {
  const Config& c = GetParam();
  if (const std::string why = cpu_missing(c.cpu); !why.empty())
    GTEST_SKIP() << "SKIPPED configuration " << c.name << " (ISA " << c.isa << "): " << why;
  if (const std::string why = tools_missing(c); !why.empty())
    GTEST_SKIP() << "SKIPPED configuration " << c.name << " (ISA " << c.isa << "): " << why;
  ASSERT_FALSE(fixtures().empty()) << "no fixtures found under " << source_dir() << "/tests/fixtures";

  const auto t0 = std::chrono::steady_clock::now();
  const double self0 = cpu_seconds(RUSAGE_SELF), children0 = cpu_seconds(RUSAGE_CHILDREN);
  const std::string dir = work_dir() + "/matrix/" + c.name;
  make_clean_dir(dir);
  std::vector<FixtureRun> runs;
  for (const Fixture& f : fixtures())
    if (builds(c, f)) runs.push_back({&f, ""});
  if (runs.empty()) GTEST_SKIP() << "SKIPPED configuration " << c.name << ": no selected fixture is in its sample";

  // 1. Generate each model and its reference outputs in-process (one at a time: the HDF5 library
  //    is not thread-safe), then compile the generated files.
  std::vector<Reference> refs(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    const Fixture& f = *runs[i].fixture;
    driver::CompileOptions opt;
    opt.model = f.h5();
    opt.output = dir + "/" + f.ns + ".cpp";
    opt.header = dir + "/" + f.ns + ".h";
    opt.name = f.ns;
    opt.fp = c.fp;
    try {
      driver::compile_file(opt);
    } catch (const std::exception& e) {
      runs[i].problem = std::string("kc2cpp failed: ") + e.what();
      continue;
    }
    try {
      refs[i] = reference(f, c.fp);
    } catch (const std::exception& e) {
      runs[i].problem = std::string("the reference evaluator failed: ") + e.what();
    }
  }
  const auto t_gen = std::chrono::steady_clock::now();

  // Compiling each file costs ~1 s of parsing <immintrin.h> (gcc), so most configurations compile
  // the generated files concatenated into a few unity TUs (every model, runtime included, lives in
  // its own namespace; the ISA prelude has an include guard): the same code, parsed once. The text is
  // pasted, not #included, so that warnings about unused entities, which compilers give only for the
  // main file, still fire; `#line` keeps diagnostics pointing into the generated files. A unity TU
  // that fails is compiled file by file to name the culprits; configurations marked `separate`
  // always compile file by file, as a user's build does.
  const auto compile = [&](const std::string& src, const std::string& obj) {
    std::vector<std::string> cmd = c.cxx;
    cmd.insert(cmd.end(), kCommonFlags.begin(), kCommonFlags.end());
    cmd.insert(cmd.end(), c.flags.begin(), c.flags.end());
    cmd.insert(cmd.end(), {"-c", src, "-o", obj});
    const RunResult r = run(cmd);
    if (r.exit_code == 0 && r.err.empty()) return std::string();
    return "the generated file does not compile cleanly:\n  " + command_line(cmd) + "\n" + first_lines(r.err, 15);
  };
  std::vector<std::vector<size_t>> units;  // the fixtures (indices into runs) of each TU
  if (c.separate) {
    for (size_t i = 0; i < runs.size(); ++i)
      if (runs[i].problem.empty()) units.push_back({i});
  } else {  // job_count() TUs of about equal source size: largest file first into the lightest TU
    std::vector<std::pair<uintmax_t, size_t>> by_size;
    for (size_t i = 0; i < runs.size(); ++i)
      if (runs[i].problem.empty())
        by_size.push_back({std::filesystem::file_size(dir + "/" + runs[i].fixture->ns + ".cpp"), i});
    std::sort(by_size.rbegin(), by_size.rend());
    units.resize(std::min(by_size.size(), job_count()));
    std::vector<uintmax_t> load(units.size(), 0);
    for (const auto& [size, i] : by_size) {
      const size_t u = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
      units[u].push_back(i);
      load[u] += size;
    }
    for (std::vector<size_t>& unit : units) std::sort(unit.begin(), unit.end());
  }
  std::vector<std::vector<std::string>> objects(units.size());
  std::vector<std::string> unity_only(units.size());  // a unity TU failed although each file compiles
  parallel_for(units.size(), [&](size_t u) {
    if (units[u].empty()) return;
    std::string src = dir + "/" + runs[units[u][0]].fixture->ns + ".cpp";
    if (!c.separate) {
      src = dir + "/unity_" + std::to_string(u) + ".cpp";
      std::string text = "// Written by tests/e2e/matrix_test.cpp: one TU of several generated files.\n";
      for (size_t i : units[u]) {
        const std::string file = runs[i].fixture->ns + ".cpp";
        text += "#line 1 \"" + file + "\"\n" + read_file(dir + "/" + file);
        if (text.back() != '\n') text += '\n';
      }
      write_file(src, text);
    }
    const std::string obj = src.substr(0, src.size() - 4) + ".o";
    const std::string problem = compile(src, obj);
    if (problem.empty()) {
      objects[u] = {obj};
    } else if (c.separate) {
      runs[units[u][0]].problem = problem;
    } else {
      bool culprit = false;
      for (size_t i : units[u]) {  // name the files that fail; the others link from their own objects
        const std::string stem = dir + "/" + runs[i].fixture->ns;
        runs[i].problem = compile(stem + ".cpp", stem + ".o");
        if (runs[i].problem.empty()) objects[u].push_back(stem + ".o");
        culprit |= !runs[i].problem.empty();
      }
      if (!culprit) unity_only[u] = problem;
    }
  });
  for (const std::string& problem : unity_only)
    EXPECT_EQ(problem, "") << "a unity TU of generated files fails although each file compiles alone (two models "
                              "in one TU conflict)";
  const auto t1 = std::chrono::steady_clock::now();

  // 2. One harness binary with every model that compiled.
  std::string models_h = "// Written by tests/e2e/matrix_test.cpp.\n#pragma once\n";
  std::string list = "#define KC2CPP_HARNESS_MODELS(X)";
  std::vector<std::string> link = c.cxx;
  link.insert(link.end(), {"-o", dir + "/harness", dir + "/harness_main.o"});
  size_t compiled = 0;
  for (const FixtureRun& r : runs) {
    if (!r.problem.empty()) continue;
    models_h += "#include \"" + r.fixture->ns + ".h\"\n";
    list += " X(" + r.fixture->ns + ")";
    ++compiled;
  }
  for (const std::vector<std::string>& objs : objects) link.insert(link.end(), objs.begin(), objs.end());
  link.insert(link.end(), c.link.begin(), c.link.end());
  std::string harness_problem = compiled ? "" : "no generated file compiled";
  if (compiled) {
    write_file(dir + "/harness_models.h", models_h + list + "\n");
    std::vector<std::string> main_cmd = c.cxx;
    main_cmd.insert(main_cmd.end(), kCommonFlags.begin(), kCommonFlags.end());
    main_cmd.insert(main_cmd.end(), c.flags.begin(), c.flags.end());
    main_cmd.insert(main_cmd.end(), {"-I", dir, "-c", source_dir() + "/tests/e2e/harness_main.cpp", "-o",
                                     dir + "/harness_main.o"});
    for (const std::vector<std::string>& cmd : {main_cmd, link}) {
      const RunResult r = run(cmd);
      if (r.exit_code != 0) {
        harness_problem = "building the harness failed:\n  " + command_line(cmd) + "\n" + first_lines(r.err, 15);
        ADD_FAILURE() << c.name << ": " << harness_problem;
        break;
      }
    }
  }
  if (!harness_problem.empty())
    for (FixtureRun& r : runs)
      if (r.problem.empty()) r.problem = "not run: " + harness_problem;

  // 3. Run each model; compare with the reference evaluator and the committed goldens.
  std::vector<std::string> no_golden;
  std::vector<std::string> runner;
#if !defined(__aarch64__)
  if (c.cpu == Cpu::Aarch64) runner = {"qemu-aarch64-static"};
#endif
  std::vector<std::string> missing_golden(runs.size());
  parallel_for(runs.size(), [&](size_t i) {
    FixtureRun& fr = runs[i];
    if (!fr.problem.empty()) return;
    const Fixture& f = *fr.fixture;
    const Reference& ref = refs[i];
    const std::string stem = dir + "/" + f.ns;
    try {
      write_file(stem + ".in.f32", raw_inputs(ref));
    } catch (const std::exception& e) {
      fr.problem = e.what();
      return;
    }
    std::vector<std::string> cmd = runner;
    cmd.insert(cmd.end(), {dir + "/harness", f.ns, stem + ".in.f32", stem + ".out.f32", stem + ".isa.txt"});
    const RunResult r = run(cmd);
    if (r.exit_code != 0) {
      fr.problem = "the harness failed (exit " + std::to_string(r.exit_code) + "): " + command_line(cmd) + "\n" + r.err;
      return;
    }
    const std::string isa = read_file(stem + ".isa.txt");
    if (isa != c.isa) {
      fr.problem = "isa() returned \"" + isa + "\", expected \"" + c.isa + "\"";
      return;
    }
    const std::vector<float> got = raw_floats(read_file(stem + ".out.f32"));
    size_t at = 0;
    for (size_t k = 0; k < ref.outputs.size() && fr.problem.empty(); ++k) {
      const std::vector<float>& want = ref.outputs[k].data;
      const std::vector<float> mine(got.begin() + static_cast<long>(std::min(at, got.size())),
                                    got.begin() + static_cast<long>(std::min(at + want.size(), got.size())));
      at += want.size();
      const std::string y = "output " + std::to_string(k);
      fr.problem = compare_bits(mine, want, y + " vs the reference evaluator");
      if (!fr.problem.empty() || c.fp != ir::FpMode::Unfused) continue;  // goldens are --fp unfused
      if (!file_exists(f.golden_output(static_cast<int>(k)))) {
        missing_golden[i] = f.id;
        continue;
      }
      fr.problem = compare_bits(mine, read_npy(f.golden_output(static_cast<int>(k))).data,
                                y + " vs the golden " + f.golden_output(static_cast<int>(k)));
    }
  });
  const auto t2 = std::chrono::steady_clock::now();

  int exact = 0;
  for (const FixtureRun& r : runs) {
    if (r.problem.empty()) ++exact;
    else ADD_FAILURE() << c.name << " " << r.fixture->id << ": " << r.problem;
  }
  for (const std::string& id : missing_golden)
    if (!id.empty()) no_golden.push_back(id);
  if (!no_golden.empty()) {
    std::string ids;
    for (const std::string& id : no_golden) ids += " " + id;
    ADD_FAILURE() << no_golden.size() << " fixture(s) have no committed golden outputs (<name>.golden.y0.npy):"
                  << ids << "\nRun scripts/update_goldens.sh to write them, and commit them.";
  }
  const char* keep = std::getenv("KC2CPP_E2E_KEEP");
  if (!HasFailure() && !(keep && std::string(keep) == "1")) std::filesystem::remove_all(dir);  // ~100 MB each
  std::string cmd = command_line(c.cxx);
  for (const std::string& s : kCommonFlags) cmd += " " + s;
  for (const std::string& s : c.flags) cmd += " " + s;
  const auto secs = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
  std::printf("[ matrix   ] %-28s %3d/%zu fixtures bit-exact (%s of %zu; isa %s; %s; %s); wall: generate+reference "
              "%.0f s, compile %.0f s, run %.0f s; cpu: in-process %.0f s, tools %.0f s\n",
              c.name.c_str(), exact, runs.size(), full_matrix() ? "all" : "sample", fixtures().size(), c.isa.c_str(),
              cmd.c_str(),
              c.separate ? "one TU per file" : "unity TUs", secs(t0, t_gen), secs(t_gen, t1), secs(t1, t2),
              cpu_seconds(RUSAGE_SELF) - self0, cpu_seconds(RUSAGE_CHILDREN) - children0);
}

INSTANTIATE_TEST_SUITE_P(Build, Matrix, ::testing::ValuesIn(all_configs()),
                         [](const ::testing::TestParamInfo<Config>& info) { return info.param.name; });

}  // namespace
}  // namespace kc2cpp::e2e
