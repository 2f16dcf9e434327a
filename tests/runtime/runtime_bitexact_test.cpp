// Bit identity of every runtime path: each variant (compiler x ISA x -O level, see CMakeLists.txt)
// must give, for every op, through vf and through float, exactly the bits of the reference variant's
// float path (the first host variant: scalar, -O3). NaN matches any NaN.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "dump_format.h"
#include "fused_ops.h"
#include "host_runtime.h"
#include "rt_inputs.h"
#include "variant_api.h"

#define X(name) extern "C" const KcVariant* kc_variant_##name();
KC_HOST_VARIANTS
#undef X

namespace kc_rt_test {
namespace {

const std::vector<const KcVariant*>& host_variants() {
  static const std::vector<const KcVariant*> v = {
#define X(name) kc_variant_##name(),
      KC_HOST_VARIANTS
#undef X
  };
  return v;
}

const Inputs& inputs() {
  static const Inputs in = make_inputs();
  return in;
}

const VariantDump& reference() {
  static const VariantDump d = run_variant(*host_variants().front(), inputs());
  return d;
}

// Whether this CPU can run code built for x86-64 micro-architecture `level`; `why` names what is
// missing. KC2CPP_RT_MAX_LEVEL=n in the environment pretends the CPU stops at level n.
bool cpu_runs_level(int level, std::string& why) {
  if (const char* cap = std::getenv("KC2CPP_RT_MAX_LEVEL")) {
    if (level > std::atoi(cap)) {
      why = std::string("KC2CPP_RT_MAX_LEVEL=") + cap + " caps the CPU below it";
      return false;
    }
  }
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  struct Need { int level; const char* feature; bool ok; };
  const Need needs[] = {
      {3, "avx2", __builtin_cpu_supports("avx2") != 0},
      {3, "fma", __builtin_cpu_supports("fma") != 0},
      {3, "bmi2", __builtin_cpu_supports("bmi2") != 0},
      {4, "avx512f", __builtin_cpu_supports("avx512f") != 0},
      {4, "avx512bw", __builtin_cpu_supports("avx512bw") != 0},
      {4, "avx512dq", __builtin_cpu_supports("avx512dq") != 0},
      {4, "avx512vl", __builtin_cpu_supports("avx512vl") != 0},
  };
  for (const Need& n : needs) {
    if (level >= n.level && !n.ok) {
      why = std::string("this CPU lacks ") + n.feature;
      return false;
    }
  }
#else
  (void)level;
  (void)why;
#endif
  return true;
}

std::string hex(float f) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a (0x%08x)", static_cast<double>(f), static_cast<unsigned>(u_of(f)));
  return buf;
}

// Every element of `got` equals `want` bit for bit (or both NaN); otherwise lists the first few.
testing::AssertionResult same_array(const std::string& what, const std::vector<float>& got,
                                    const std::vector<float>& want) {
  const Inputs& in = inputs();
  std::size_t bad = 0;
  std::ostringstream msg;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (same_bits(got[i], want[i])) continue;
    if (bad++ < 5) {
      msg << "\n  [" << i << "] a=" << hex(in.a[i]) << " b=" << hex(in.b[i]) << " c=" << hex(in.c[i])
          << ": got " << hex(got[i]) << ", reference " << hex(want[i]);
    }
  }
  if (bad == 0) return testing::AssertionSuccess();
  return testing::AssertionFailure() << what << ": " << bad << " of " << want.size()
                                     << " results differ from the reference" << msg.str();
}

std::vector<float> fma_reference() {
  const Inputs& in = inputs();
  std::vector<float> r(in.a.size());
  for (std::size_t i = 0; i < r.size(); ++i) r[i] = std::fmaf(in.a[i], in.b[i], in.c[i]);
  return r;
}

// The fused op has no reference variant (the reference has no fma); it must equal std::fmaf.
const std::vector<float>& fma_want() {
  static const std::vector<float> want = fma_reference();
  return want;
}

// Neither have the --fp fused math ops ("<fn>@fused"): their reference is the host's float path
// (fma = std::fmaf there when the host has no hardware FMA), computed once per op.
const std::vector<float>* fused_want(const std::string& name) {
  namespace kc = kc_host::kc;
  using Fn = float (*)(float);
  struct Row { const char* name; Fn fn; };
#define KC_FUSED_ROW(op, expr) {op, [](float x) { return static_cast<float>(expr); }},
  static const Row rows[] = {KC_FUSED_MATH_OPS(KC_FUSED_ROW)};
#undef KC_FUSED_ROW
  static std::vector<std::vector<float>> results(sizeof rows / sizeof rows[0]);
  for (std::size_t k = 0; k < results.size(); ++k) {
    if (name != rows[k].name) continue;
    if (results[k].empty()) {
      for (float x : inputs().a) results[k].push_back(rows[k].fn(x));
    }
    return &results[k];
  }
  return nullptr;
}

// What an op without a reference-variant counterpart must give: fma or the fused math.
const std::vector<float>* unreferenced_want(const std::string& name) {
  return name == "fma" ? &fma_want() : fused_want(name);
}

// Full comparison (results in memory): every op, both paths, against the reference's float path.
void expect_matches_reference(const VariantDump& d) {
  const VariantDump& ref = reference();
  std::size_t compared = 0;
  for (const OpDump& op : d.ops) {
    const std::string what = d.name + " (" + d.isa + ") op " + op.name;
    const OpDump* r = ref.find(op.name);
    const std::vector<float>* other = r ? nullptr : unreferenced_want(op.name);
    ASSERT_TRUE(r != nullptr || other != nullptr) << what << ": not in the reference variant";
    const std::vector<float>& want = r ? r->scalar : *other;
    EXPECT_TRUE(same_array(what + " vf", op.vec, want));
    EXPECT_TRUE(same_array(what + " float", op.scalar, want));
    compared += r ? 1 : 0;
  }
  EXPECT_EQ(compared, ref.ops.size()) << d.name << " lacks some of the reference's ops";
}

// Digest comparison (results from a cross-compiled program).
void expect_digests_match_reference(const VariantDump& d) {
  const VariantDump& ref = reference();
  std::size_t compared = 0;
  for (const OpDump& op : d.ops) {
    const OpDump* r = ref.find(op.name);
    const std::vector<float>* other = r ? nullptr : unreferenced_want(op.name);
    ASSERT_TRUE(r != nullptr || other != nullptr) << d.name << " op " << op.name << ": not in the reference";
    const std::uint64_t want = r ? r->scalar_digest : digest(*other);
    EXPECT_EQ(op.vec_digest, want) << d.name << " (" << d.isa << ") op " << op.name
                                   << " vf: results differ from the reference";
    EXPECT_EQ(op.scalar_digest, want) << d.name << " (" << d.isa << ") op " << op.name
                                      << " float: results differ from the reference";
    compared += r ? 1 : 0;
  }
  EXPECT_EQ(compared, ref.ops.size()) << d.name << " lacks some of the reference's ops";
}

class RuntimeBitExact : public testing::TestWithParam<std::size_t> {};

TEST_P(RuntimeBitExact, AllOpsMatchReference) {
  const KcVariant& v = *host_variants()[GetParam()];
  std::string why;
  if (!cpu_runs_level(v.march_level, why)) {
    GTEST_SKIP() << "SKIPPED ISA " << v.isa << " (variant " << v.name << ", x86-64-v" << v.march_level
                 << "): " << why;
  }
  expect_matches_reference(run_variant(v, inputs()));
}

// vload_n(p, n) on every path: lanes [0, n) are p's, the others +0, and it reads p[0, n) only
// (each source is an allocation of exactly n floats, for ASan and valgrind).
TEST_P(RuntimeBitExact, PartialLoadReadsExactlyItsLanes) {
  const KcVariant& v = *host_variants()[GetParam()];
  std::string why;
  if (!cpu_runs_level(v.march_level, why)) GTEST_SKIP() << "SKIPPED ISA " << v.isa << ": " << why;
  for (int n = 0; n <= v.lanes; ++n) {
    std::unique_ptr<float[]> src(new float[static_cast<std::size_t>(n)]);
    for (int i = 0; i < n; ++i) src[static_cast<std::size_t>(i)] = -1.5f - static_cast<float>(i);
    std::vector<float> out(static_cast<std::size_t>(v.lanes), 7.0f);
    v.load_n(src.get(), n, out.data());
    for (int i = 0; i < v.lanes; ++i) {
      const float want = i < n ? src[static_cast<std::size_t>(i)] : 0.0f;
      EXPECT_TRUE(same_bits(out[static_cast<std::size_t>(i)], want)) << v.name << " n " << n << " lane " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Host, RuntimeBitExact,
                         testing::Range<std::size_t>(0, host_variants().size()),
                         [](const testing::TestParamInfo<std::size_t>& info) {
                           return std::string(host_variants()[info.param]->name);
                         });

// The reference itself: a product followed by an add is two roundings, never one.
TEST(RuntimeBitExactReference, MulAddIsNeverContracted) {
  const Inputs& in = inputs();
  std::vector<float> muladd(in.a.size()), mulsub(in.a.size());
  for (std::size_t i = 0; i < in.a.size(); ++i) {
    volatile float p = in.a[i] * in.b[i];
    muladd[i] = p + in.c[i];
    mulsub[i] = in.c[i] - p;
  }
  EXPECT_TRUE(same_array("reference muladd", reference().find("muladd")->scalar, muladd));
  EXPECT_TRUE(same_array("reference mulsub", reference().find("mulsub")->scalar, mulsub));
  std::size_t fused_differs = 0;
  for (std::size_t i = 0; i < in.a.size(); ++i) {
    const float fused = std::fmaf(in.a[i], in.b[i], in.c[i]);
    if (!same_bits(fused, muladd[i])) ++fused_differs;
  }
  EXPECT_GT(fused_differs, 1000u) << "inputs do not distinguish fused from unfused multiply-add";
}

TEST(RuntimeBitExactReference, ReferenceIsScalar) {
  EXPECT_STREQ(host_variants().front()->isa, "scalar");
  EXPECT_EQ(host_variants().front()->lanes, 1);
}

// aarch64 (NEON, and the float path built for aarch64), cross-compiled and run under qemu.
TEST(RuntimeBitExactCross, Aarch64) {
  const std::string dump_program = KC_AARCH64_DUMP;
  const std::string qemu = KC_QEMU_AARCH64;
  if (dump_program.empty()) {
    GTEST_SKIP() << "SKIPPED ISA neon (aarch64): aarch64-linux-gnu-g++ or qemu-aarch64(-static) "
                    "was not found when CMake configured this build";
  }
  const std::string out = std::string(KC_DUMP_DIR) + "/aarch64_dump.bin";
  const std::string cmd = "\"" + qemu + "\" \"" + dump_program + "\" \"" + out + "\"";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "failed: " << cmd;
  std::vector<VariantDump> dumps;
  ASSERT_TRUE(read_dumps(out.c_str(), dumps)) << "unreadable dump " << out;
  ASSERT_FALSE(dumps.empty());
  bool saw_neon = false;
  for (const VariantDump& d : dumps) {
    SCOPED_TRACE(d.name);
    saw_neon = saw_neon || d.isa == "neon";
    expect_digests_match_reference(d);
  }
  EXPECT_TRUE(saw_neon) << "no variant of the aarch64 program selected the NEON path";
}

}  // namespace
}  // namespace kc_rt_test
