// The embedding, normalization and shape family: lowering edge cases, the BatchNorm folding pass, and
// every kernel of runtime_min/kc2cpp_kernels_shape.h (compiled here for the host's ISA path) against
// the reference evaluator, bit for bit, at sizes below, at and above the vector widths.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "error.h"
#include "unit_util.h"
#include "eval/eval.h"
#include "lower/lower.h"
#include "passes/passes.h"

#include "kc2cpp_isa.h"
namespace shape_test {
namespace kc {
#include "kc2cpp_simd.h"
#include "kc2cpp_math.h"
#include "kc2cpp_kernels.h"
#include "kc2cpp_kernels_shape.h"
}  // namespace kc
}  // namespace shape_test

using namespace kc2cpp;
namespace kc = shape_test::kc;
using json = nlohmann::json;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

using unit_test::bits;
using unit_test::compare;
using unit_test::random_values;

// ---------------------------------------------------------------------------------------------
// Lowering: hand-written Keras configs.

json layer(const std::string& cls, json cfg) {
  cfg["name"] = cfg.value("name", cls + "_1");
  return {{"class_name", cls}, {"config", cfg}};
}

struct ModelBuilder {
  load::KerasModel m;
  json layers = json::array();

  ModelBuilder(json batch_shape, const std::string& dtype = "float32", const std::string& version = "3.12.0") {
    m.path = "test.h5";
    m.keras_version = version;
    m.backend = "jax";
    layers.push_back(layer("InputLayer", {{"batch_shape", batch_shape}, {"dtype", dtype}, {"name", "in"}}));
  }
  ModelBuilder& add(const std::string& cls, json cfg, std::vector<std::vector<float>> w = {},
                    std::vector<ir::Shape> shapes = {}) {
    json l = layer(cls, cfg);
    load::LayerWeights lw;
    lw.layer = l["config"]["name"];
    for (size_t i = 0; i < w.size(); ++i) lw.arrays.push_back({lw.layer + "/w" + std::to_string(i), shapes[i], w[i]});
    if (!w.empty()) m.layers.push_back(lw);
    layers.push_back(l);
    return *this;
  }
  load::KerasModel model() {
    m.config = {{"class_name", "Sequential"}, {"config", {{"name", "m"}, {"layers", layers}}}};
    return m;
  }
};

std::string lower_error(const load::KerasModel& m) {
  try {
    lower::lower(m);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::vector<float> iota(size_t n, float from = 0.0f, float step = 1.0f) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = from + step * static_cast<float>(i);
  return v;
}

}  // namespace

// The one checked size arithmetic (ir.h): exact up to int64's limits, SizeOverflow (a kc2cpp::Error) beyond.
TEST(SizeArithmetic, CheckedMulAndAddNeverWrap) {
  const int64_t max = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(ir::checked_mul(int64_t{1} << 31, int64_t{1} << 31), int64_t{1} << 62);
  EXPECT_EQ(ir::checked_add(max - 1, 1), max);
  EXPECT_EQ(ir::checked_mul(-3, int64_t{1} << 61), -3 * (int64_t{1} << 61));
  EXPECT_THROW(ir::checked_mul(int64_t{1} << 32, int64_t{1} << 32), ir::SizeOverflow);
  EXPECT_THROW(ir::checked_add(max, 1), Error);
  EXPECT_THROW(ir::num_elements({int64_t{1} << 30, int64_t{1} << 30, int64_t{1} << 30}), ir::SizeOverflow);
  EXPECT_EQ(ir::checked_elements({int64_t{1} << 30, int64_t{1} << 30, int64_t{1} << 30}), -1);
  EXPECT_EQ(ir::checked_elements({int64_t{1} << 15, int64_t{1} << 15}), int64_t{1} << 30);
  EXPECT_EQ(ir::checked_elements({int64_t{1} << 31}), -1);
}

TEST(ShapeLowering, IntegerInputFeedsEmbedding) {
  for (const char* dtype : {"int32", "int64", "uint8"}) {
    ModelBuilder b(json::array({nullptr, 6}), dtype);
    b.add("Embedding", {{"input_dim", 10}, {"output_dim", 4}}, {iota(40)}, {{10, 4}});
    const ir::Graph g = lower::lower(b.model());
    EXPECT_EQ(g.tensors[g.inputs[0]].dtype, ir::DType::I32) << dtype;
    ASSERT_EQ(g.ops.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<ir::EmbeddingAttrs>(g.ops[0].attrs));
    EXPECT_EQ(g.tensors[g.outputs[0]].shape, (ir::Shape{6, 4}));
  }
  ModelBuilder f(json::array({nullptr, 6}));
  f.add("Embedding", {{"input_dim", 10}, {"output_dim", 4}}, {iota(40)}, {{10, 4}});
  const ir::Graph g = lower::lower(f.model());
  EXPECT_EQ(g.tensors[g.inputs[0]].dtype, ir::DType::F32);
}

TEST(ShapeLowering, IntegerInputElsewhereIsReported) {
  ModelBuilder b(json::array({nullptr, 6}), "int32");
  b.add("Dense", {{"units", 2}, {"use_bias", false}}, {iota(12)}, {{6, 2}});
  EXPECT_NE(lower_error(b.model()).find("integer inputs are supported only as the indices of an Embedding"),
            std::string::npos);
  ModelBuilder s(json::array({nullptr, 6}), "string");
  s.add("Embedding", {{"input_dim", 10}, {"output_dim", 4}}, {iota(40)}, {{10, 4}});
  EXPECT_NE(lower_error(s.model()).find("input dtype 'string' is not supported"), std::string::npos);
}

TEST(ShapeLowering, MaskZeroReachesRecurrentLayers) {
  // No layer uses the mask: no mask op at all.
  ModelBuilder ok(json::array({nullptr, 5}), "int32");
  ok.add("Embedding", {{"input_dim", 10}, {"output_dim", 4}, {"mask_zero", true}}, {iota(40)}, {{10, 4}});
  ok.add("Dense", {{"units", 2}, {"use_bias", false}}, {iota(8)}, {{4, 2}});
  const ir::Graph plain = lower::lower(ok.model());
  EXPECT_EQ(plain.ops.size(), 2u);
  // Dense passes the mask on to the LSTM, which reads it (computed from the ids just before).
  ModelBuilder rnn(json::array({nullptr, 5}), "int32");
  rnn.add("Embedding", {{"input_dim", 10}, {"output_dim", 4}, {"mask_zero", true}}, {iota(40)}, {{10, 4}});
  rnn.add("Dense", {{"units", 2}, {"use_bias", false}}, {iota(8)}, {{4, 2}});
  rnn.add("LSTM", {{"units", 3}}, {iota(24), iota(36), iota(12)}, {{2, 12}, {3, 12}, {12}});
  const ir::Graph g = lower::lower(rnn.model());
  ASSERT_EQ(g.ops.size(), 4u);
  const auto* m = std::get_if<ir::MaskAttrs>(&g.ops[2].attrs);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->form, ir::MaskForm::Compute);
  EXPECT_EQ(g.ops[2].inputs[0], g.inputs[0]);
  EXPECT_EQ(g.tensors[g.ops[2].outputs[0]].shape, (ir::Shape{5, 1}));
  const auto& r = std::get<ir::RnnAttrs>(g.ops[3].attrs);
  EXPECT_TRUE(r.masked);
  EXPECT_FALSE(r.zero_masked_output);
  EXPECT_EQ(g.ops[3].inputs[1], g.ops[2].outputs[0]);
  // A layer that would apply the mask the way kc2cpp does not is refused by name.
  ModelBuilder bad(json::array({nullptr, 5}), "int32");
  bad.add("Embedding", {{"input_dim", 10}, {"output_dim", 4}, {"mask_zero", true}}, {iota(40)}, {{10, 4}});
  bad.add("Softmax", {{"name", "sm"}});
  const std::string e = lower_error(bad.model());
  EXPECT_NE(e.find("layer 'sm' (Softmax): receives a Keras mask"), std::string::npos) << e;
}

TEST(ShapeLowering, EmbeddingChecks) {
  ModelBuilder big(json::array({nullptr, 2}), "int32");
  big.add("Embedding", {{"input_dim", (1 << 24) + 1}, {"output_dim", 1}}, {}, {});
  EXPECT_NE(lower_error(big.model()).find("above 2^24"), std::string::npos);
  ModelBuilder lora(json::array({nullptr, 2}), "int32");
  lora.add("Embedding", {{"input_dim", 3}, {"output_dim", 1}, {"lora_rank", 2}}, {iota(3)}, {{3, 1}});
  EXPECT_NE(lower_error(lora.model()).find("LoRA"), std::string::npos);
}

TEST(ShapeLowering, BatchNormGeometryAndParameters) {
  ModelBuilder b(json::array({nullptr, 4, 6}));
  const std::vector<float> gamma = {1.5f, -2.0f, 0.5f, 1.0f}, beta = {0.1f, 0.2f, -0.3f, 0.0f};
  const std::vector<float> mean = {1.0f, -1.0f, 0.25f, 3.0f}, var = {0.5f, 2.0f, 1e-4f, 9.0f};
  b.add("BatchNormalization", {{"axis", 1}, {"epsilon", 0.001}}, {gamma, beta, mean, var}, {{4}, {4}, {4}, {4}});
  const ir::Graph g = lower::lower(b.model());
  ASSERT_EQ(g.ops.size(), 1u);
  const auto& a = std::get<ir::BatchNormAttrs>(g.ops[0].attrs);
  EXPECT_EQ(a.outer, 1);
  EXPECT_EQ(a.channels, 4);
  EXPECT_EQ(a.inner, 6);
  for (size_t c = 0; c < 4; ++c) {
    const double s = gamma[c] / std::sqrt(double{var[c]} + double{0.001f});
    EXPECT_EQ(g.weights[a.scale].data[c], static_cast<float>(s));
    EXPECT_EQ(g.weights[a.shift].data[c], static_cast<float>(beta[c] - mean[c] * s));
  }
}

TEST(ShapeLowering, BatchNormProblems) {
  ModelBuilder axes(json::array({nullptr, 3, 4, 5}), "float32", "2.15.0");
  axes.add("BatchNormalization", {{"axis", json::array({1, 3})}}, {iota(15), iota(15), iota(15), iota(15)},
           {{1, 3, 1, 5}, {1, 3, 1, 5}, {1, 3, 1, 5}, {1, 3, 1, 5}});
  EXPECT_NE(lower_error(axes.model()).find("axis [1, 3] is not a run of adjacent axes"), std::string::npos);
  ModelBuilder renorm(json::array({nullptr, 3}), "float32", "2.15.0");
  renorm.add("BatchNormalization", {{"renorm", true}}, {iota(3), iota(3), iota(3), iota(3)}, {{3}, {3}, {3}, {3}});
  EXPECT_NE(lower_error(renorm.model()).find("renorm=True"), std::string::npos);
  ModelBuilder count(json::array({nullptr, 3}));
  count.add("BatchNormalization", {{"center", false}}, {iota(3), iota(3), iota(3), iota(3)}, {{3}, {3}, {3}, {3}});
  EXPECT_NE(lower_error(count.model()).find("the config implies 3 weight arrays but the file holds 4"), std::string::npos);
}

TEST(ShapeLowering, LayerNormForms) {
  auto form = [](const char* version, double eps, json axis) {
    ModelBuilder b(json::array({nullptr, 4, 6}), "float32", version);
    b.add("LayerNormalization", {{"axis", axis}, {"epsilon", eps}, {"center", false}, {"scale", false}});
    const ir::Graph g = lower::lower(b.model());
    return std::get<ir::LayerNormAttrs>(g.ops.back().attrs).form;
  };
  using F = ir::LayerNormForm;
  EXPECT_EQ(form("2.15.0", 1e-3, -1), F::Centered);
  EXPECT_EQ(form("2.15.0", 1e-3, json::array({1, 2})), F::Centered);
  EXPECT_EQ(form("2.15.0", 1e-6, -1), F::Affine);   // epsilon below 1.001e-5: tf.keras's unfused path
  EXPECT_EQ(form("2.15.0", 1e-3, 1), F::Affine);    // not trailing
  EXPECT_EQ(form("3.12.0", 1e-3, -1), F::Affine);
}

// LayerNorm over a non-contiguous axis set: Permute, LayerNorm over the trailing block, Permute back;
// the values agree with a direct double computation.
TEST(ShapeLowering, LayerNormNonContiguousAxes) {
  ModelBuilder b(json::array({nullptr, 3, 4, 5}));
  const std::vector<float> gamma = iota(15, 0.5f, 0.1f), beta = iota(15, -1.0f, 0.125f);
  b.add("LayerNormalization", {{"axis", json::array({3, 1})}, {"epsilon", 0.01}}, {gamma, beta}, {{5, 3}, {5, 3}});
  const ir::Graph g = lower::lower(b.model());
  ASSERT_EQ(g.ops.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<ir::PermuteAttrs>(g.ops[0].attrs));
  EXPECT_TRUE(std::holds_alternative<ir::LayerNormAttrs>(g.ops[1].attrs));
  EXPECT_TRUE(std::holds_alternative<ir::PermuteAttrs>(g.ops[2].attrs));
  std::mt19937 rng(7);
  const std::vector<float> x = random_values(rng, 60);
  const std::vector<float> y = eval::evaluate(g, {x}, 1)[0];
  for (int j = 0; j < 4; ++j) {  // each index of the kept axis 2 (Keras axis 2)
    double sum = 0, sq = 0;
    for (int i = 0; i < 3; ++i)
      for (int k = 0; k < 5; ++k) sum += x[(i * 4 + j) * 5 + k];
    const double mean = sum / 15;
    for (int i = 0; i < 3; ++i)
      for (int k = 0; k < 5; ++k) sq += (x[(i * 4 + j) * 5 + k] - mean) * (x[(i * 4 + j) * 5 + k] - mean);
    const double r = 1 / std::sqrt(sq / 15 + double{0.01f});
    for (int i = 0; i < 3; ++i)
      for (int k = 0; k < 5; ++k) {
        const size_t at = static_cast<size_t>((i * 4 + j) * 5 + k), p = static_cast<size_t>(i * 5 + k);
        EXPECT_NEAR(y[at], (x[at] - mean) * r * gamma[p] + beta[p], 1e-5) << i << " " << j << " " << k;
      }
  }
}

TEST(ShapeLowering, ShapeLayerProblems) {
  ModelBuilder perm(json::array({nullptr, 2, 3}));
  perm.add("Permute", {{"dims", json::array({2, 2})}});
  EXPECT_NE(lower_error(perm.model()).find("is not a permutation of 1..2"), std::string::npos);
  ModelBuilder crop(json::array({nullptr, 4, 3}));
  crop.add("Cropping1D", {{"cropping", json::array({2, 2})}});
  EXPECT_NE(lower_error(crop.model()).find("leaves nothing of axis 1"), std::string::npos);
  ModelBuilder up(json::array({nullptr, 4, 4, 3}));
  up.add("UpSampling2D", {{"size", json::array({2, 2})}, {"interpolation", "bicubic"}});
  EXPECT_NE(lower_error(up.model()).find("interpolation 'bicubic' is not supported"), std::string::npos);
  ModelBuilder rank(json::array({nullptr, 4, 3}));
  rank.add("ZeroPadding2D", {{"padding", 1}});
  EXPECT_NE(lower_error(rank.model()).find("with 3 axes per sample"), std::string::npos);
  ModelBuilder fmt(json::array({nullptr, 4, 3}));
  fmt.add("ZeroPadding1D", {{"padding", 1}, {"data_format", "channels_middle"}});
  EXPECT_NE(lower_error(fmt.model()).find("data_format 'channels_middle'"), std::string::npos);
}

// Issue 16: config numbers beyond the limits are refused by name, before any arithmetic on them.
TEST(ShapeLowering, ConfigNumbersBeyondTheLimitsAreRefused) {
  ModelBuilder rep(json::array({nullptr, 4}));
  rep.add("RepeatVector", {{"n", 2147483647}});
  EXPECT_NE(lower_error(rep.model()).find("config 'n' = 2147483647 is out of range"), std::string::npos);
  ModelBuilder pad(json::array({nullptr, 4, 3}));
  pad.add("ZeroPadding1D", {{"padding", int64_t{1} << 40}});
  EXPECT_NE(lower_error(pad.model()).find("'padding' = 1099511627776 is out of range"), std::string::npos);
  ModelBuilder up(json::array({nullptr, 4, 3}));
  up.add("UpSampling1D", {{"size", UINT64_MAX}});
  EXPECT_NE(lower_error(up.model()).find("'size'"), std::string::npos);
  ModelBuilder slope(json::array({nullptr, 4}));
  slope.add("LeakyReLU", {{"negative_slope", 1e300}});
  EXPECT_NE(lower_error(slope.model()).find("config 'negative_slope' = 1e+300 is out of float32's range"),
            std::string::npos);
  ModelBuilder interp(json::array({nullptr, 4, 4, 3}));
  interp.add("UpSampling2D", {{"size", 2}, {"interpolation", 7}});
  EXPECT_NE(lower_error(interp.model()).find("config 'interpolation' is not a string"), std::string::npos);
}

TEST(ShapeLowering, ShapesOfEveryLayout) {
  auto out = [](json batch_shape, const std::string& cls, json cfg) {
    ModelBuilder b(batch_shape);
    b.add(cls, cfg);
    const ir::Graph g = lower::lower(b.model());
    return g.tensors[g.outputs[0]].shape;
  };
  const json cf = "channels_first";
  EXPECT_EQ(out(json::array({nullptr, 2, 3, 4}), "ZeroPadding2D", {{"padding", json::array({1, 2})}, {"data_format", cf}}),
            (ir::Shape{2, 5, 8}));
  EXPECT_EQ(out(json::array({nullptr, 5, 6, 2}), "Cropping2D", {{"cropping", json::array({json::array({1, 0}), json::array({2, 3})})}}),
            (ir::Shape{4, 1, 2}));
  EXPECT_EQ(out(json::array({nullptr, 2, 2, 3, 4}), "UpSampling3D", {{"size", json::array({2, 1, 3})}}), (ir::Shape{4, 2, 9, 4}));
  EXPECT_EQ(out(json::array({nullptr, 3, 2, 2, 4}), "UpSampling3D", {{"size", 2}, {"data_format", cf}}), (ir::Shape{3, 4, 4, 8}));
  EXPECT_EQ(out(json::array({nullptr, 7}), "RepeatVector", {{"n", 3}}), (ir::Shape{3, 7}));
  EXPECT_EQ(out(json::array({nullptr, 2, 3, 4}), "Permute", {{"dims", json::array({3, 1, 2})}}), (ir::Shape{4, 2, 3}));
  EXPECT_EQ(out(json::array({nullptr, 4, 3}), "UpSampling1D", {{"size", 2}}), (ir::Shape{8, 3}));
}

// ---------------------------------------------------------------------------------------------
// fold_batchnorm

namespace {

// input(in) -> Dense(units, bias?, act) -> BatchNorm (gamma/beta present or not) [-> Activation relu]
ir::Graph dense_bn(int64_t in, int64_t units, bool bias, ir::ActKind act, float gamma_scale = 1.0f, bool relu = false) {
  ir::Graph g;
  int t = g.add_tensor({"in", {in}});
  g.inputs = {t};
  std::mt19937 rng(3);
  auto add = [&](ir::OpAttrs a, ir::Shape s, const char* name, const char* cls) {
    const int out = g.add_tensor({name, s});
    g.ops.push_back({name, cls, {t}, {out}, a, {}});
    t = out;
  };
  ir::DenseAttrs d;
  d.units = units;
  d.kernel = g.add_weight({"dense/kernel", {in, units}, random_values(rng, static_cast<size_t>(in * units), 0.5f)});
  if (bias) d.bias = g.add_weight({"dense/bias", {units}, random_values(rng, static_cast<size_t>(units), 0.5f)});
  d.act.kind = act;
  add(d, {units}, "dense", "Dense");
  ir::BatchNormAttrs b;
  const size_t n = static_cast<size_t>(units);
  std::vector<float> gamma = random_values(rng, n), beta = random_values(rng, n), mean = random_values(rng, n), var(n);
  for (float& v : gamma) v *= gamma_scale;
  for (float& v : var) v = 0.1f + std::fabs(random_values(rng, 1)[0]);
  b.gamma = g.add_weight({"bn/gamma", {units}, gamma});
  b.beta = g.add_weight({"bn/beta", {units}, beta});
  b.mean = g.add_weight({"bn/moving_mean", {units}, mean});
  b.variance = g.add_weight({"bn/moving_variance", {units}, var});
  b.epsilon = 1e-3f;
  b.channels = units;
  std::vector<float> sc(n), sh(n);
  for (size_t c = 0; c < n; ++c) {
    const double s = gamma[c] / std::sqrt(double{var[c]} + double{b.epsilon});
    sc[c] = static_cast<float>(s);
    sh[c] = static_cast<float>(beta[c] - mean[c] * s);
  }
  b.scale = g.add_weight({"bn/scale", {units}, sc});
  b.shift = g.add_weight({"bn/shift", {units}, sh});
  add(b, {units}, "bn", "BatchNormalization");
  if (relu) {
    ir::Activation r;
    r.kind = ir::ActKind::Relu;
    add(ir::ActivationAttrs{r}, {units}, "relu", "Activation");
  }
  g.outputs = {t};
  return g;
}

// max |a - b| / max |b|
double rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0, m = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(double{a[i]} - b[i])), m = std::max(m, std::fabs(double{b[i]}));
  return d / m;
}

}  // namespace

TEST(FoldBatchNorm, IntoDenseWithAndWithoutBias) {
  for (bool bias : {true, false}) {
    const ir::Graph before = dense_bn(20, 17, bias, ir::ActKind::Linear);
    ir::Graph g = before;
    passes::fold_batchnorm(g);
    ASSERT_EQ(g.ops.size(), 1u) << bias;
    const auto& d = std::get<ir::DenseAttrs>(g.ops[0].attrs);
    ASSERT_GE(d.bias, 0);
    EXPECT_EQ(g.weights[d.kernel].name, "dense/kernel+bn");
    EXPECT_EQ(g.weights[d.bias].name, bias ? "dense/bias+bn" : "dense/bias+bn");
    EXPECT_EQ(g.ops[0].fused, std::vector<std::string>{"bn (BatchNormalization)"});
    EXPECT_EQ(g.ops[0].outputs, before.ops[1].outputs);
    // w' = float(w * s) with s in double, per output channel (the kernel's column).
    const auto& bn = std::get<ir::BatchNormAttrs>(before.ops[1].attrs);
    const ir::Weight& w0 = before.weights[std::get<ir::DenseAttrs>(before.ops[0].attrs).kernel];
    for (size_t e = 0; e < w0.data.size(); ++e) {
      const size_t c = e % 17;
      const double s = before.weights[bn.gamma].data[c] /
                       std::sqrt(double{before.weights[bn.variance].data[c]} + double{bn.epsilon});
      EXPECT_EQ(g.weights[d.kernel].data[e], static_cast<float>(w0.data[e] * s));
    }
    std::mt19937 rng(11);
    const std::vector<float> x = random_values(rng, 20 * 4);
    EXPECT_LT(rel_diff(eval::evaluate(g, {x}, 4)[0], eval::evaluate(before, {x}, 4)[0]), 1e-5);
  }
}

TEST(FoldBatchNorm, ThenTheActivationFuses) {
  ir::Graph g = dense_bn(8, 5, true, ir::ActKind::Linear, 1.0f, true);
  passes::optimize(g);
  ASSERT_EQ(g.ops.size(), 1u);
  EXPECT_EQ(std::get<ir::DenseAttrs>(g.ops[0].attrs).act.kind, ir::ActKind::Relu);
  EXPECT_EQ(g.ops[0].fused.size(), 2u);
}

TEST(FoldBatchNorm, SkippedWhenNotExactOrNotAlone) {
  ir::Graph act = dense_bn(8, 5, true, ir::ActKind::Tanh);  // an activation sits between
  passes::fold_batchnorm(act);
  EXPECT_EQ(act.ops.size(), 2u);
  ir::Graph out = dense_bn(8, 5, true, ir::ActKind::Linear);  // the Dense output is also a model output
  out.outputs.push_back(out.ops[0].outputs[0]);
  passes::fold_batchnorm(out);
  EXPECT_EQ(out.ops.size(), 2u);
  ir::Graph huge = dense_bn(8, 5, true, ir::ActKind::Linear);  // w * s overflows
  const auto& hb = std::get<ir::BatchNormAttrs>(huge.ops[1].attrs);
  huge.weights[std::get<ir::DenseAttrs>(huge.ops[0].attrs).kernel].data[0] = 3e38f;
  huge.weights[hb.gamma].data[0] = 4.0f;
  huge.weights[hb.variance].data[0] = 1.0f;
  passes::fold_batchnorm(huge);
  EXPECT_EQ(huge.ops.size(), 2u);
  ir::Graph tiny = dense_bn(8, 5, true, ir::ActKind::Linear, 1e-37f);  // w * s underflows to subnormals
  passes::fold_batchnorm(tiny);
  EXPECT_EQ(tiny.ops.size(), 2u);
}

TEST(FoldBatchNorm, IntoGroupedConv) {
  // A 1x1 Conv with 2 groups of 3 -> 2 channels: kernel [2 * 3][2]; output channel of element e is
  // (e / 2 / 3) * 2 + e % 2.
  ir::Graph g;
  const int in = g.add_tensor({"in", {1, 1, 6}});
  const int mid = g.add_tensor({"conv", {1, 1, 4}});
  const int out = g.add_tensor({"bn", {1, 1, 4}});
  g.inputs = {in};
  g.outputs = {out};
  ir::ConvAttrs c;
  c.geom.in_c = 6;
  c.geom.out_c = 4;
  c.groups = 2;
  c.kernel = g.add_weight({"conv/kernel", {6, 2}, iota(12, 1.0f)});
  g.ops.push_back({"conv", "Conv2D", {in}, {mid}, c, {}});
  ir::BatchNormAttrs b;
  b.channels = 4;
  b.gamma = g.add_weight({"bn/gamma", {4}, {1.0f, 2.0f, 4.0f, 8.0f}});
  b.mean = g.add_weight({"bn/mean", {4}, {0, 0, 0, 0}});
  b.variance = g.add_weight({"bn/variance", {4}, {1, 1, 1, 1}});
  b.epsilon = 0.0f;
  b.scale = g.add_weight({"bn/scale", {4}, {1.0f, 2.0f, 4.0f, 8.0f}});
  b.shift = g.add_weight({"bn/shift", {4}, {0, 0, 0, 0}});
  g.ops.push_back({"bn", "BatchNormalization", {mid}, {out}, b, {}});
  passes::fold_batchnorm(g);
  ASSERT_EQ(g.ops.size(), 1u);
  const std::vector<float>& k = g.weights[std::get<ir::ConvAttrs>(g.ops[0].attrs).kernel].data;
  const float s[4] = {1, 2, 4, 8};
  for (size_t e = 0; e < 12; ++e) EXPECT_EQ(k[e], static_cast<float>(e + 1) * s[e / 2 / 3 * 2 + e % 2]) << e;
}

// ---------------------------------------------------------------------------------------------
// Kernels (host ISA path) against the evaluator.

namespace {

// One op on an input of `in_shape` (an I32 input when `integer`), evaluated by the reference evaluator.
struct OneOp {
  ir::Graph g;
  OneOp(ir::Shape in_shape, ir::Shape out_shape, ir::OpAttrs a, bool integer = false) {
    const int in = g.add_tensor({"in", in_shape, integer ? ir::DType::I32 : ir::DType::F32});
    const int out = g.add_tensor({"out", out_shape});
    g.inputs = {in};
    g.outputs = {out};
    g.ops.push_back({"op", "Test", {in}, {out}, a, {}});
  }
  std::vector<float> eval(const std::vector<float>& x) const { return eval::evaluate(g, {x}, 1)[0]; }
};

const std::vector<int> kSizes = {1, 3, 4, 7, 8, 15, 16, 17, 31, 33, 100};

}  // namespace

TEST(ShapeKernels, EmbeddingRowsAndInvalidIndices) {
  for (int dim : {1, 3, 16, 17, 33}) {
    const int n = 5;
    std::mt19937 rng(static_cast<unsigned>(dim));
    const std::vector<float> table = random_values(rng, static_cast<size_t>(n * dim));
    const std::vector<float> fx = {0.0f, 4.0f, 4.99f, -0.999f, 2.5f, -1.0f, 5.0f, kNaN, kInf, -kInf, 3e9f, -1e-30f};
    const std::vector<int32_t> ix = {0, 4, 4, 0, 2, -1, 5, INT32_MIN, INT32_MAX, -5, 7, 0};
    ir::EmbeddingAttrs a{-1, n, dim};
    OneOp fop({12}, {12, dim}, a), iop({12}, {12, dim}, a, true);
    a.table = fop.g.add_weight({"t", {n, dim}, table});
    fop.g.ops[0].attrs = a;
    a.table = iop.g.add_weight({"t", {n, dim}, table});
    iop.g.ops[0].attrs = a;
    std::vector<float> want(12 * static_cast<size_t>(dim), 0.0f);
    const int rows[12] = {0, 4, 4, 0, 2, -1, -1, -1, -1, -1, -1, 0};
    for (size_t p = 0; p < 12; ++p)
      for (int j = 0; j < dim && rows[p] >= 0; ++j) want[p * static_cast<size_t>(dim) + static_cast<size_t>(j)] = table[static_cast<size_t>(rows[p] * dim + j)];
    EXPECT_EQ(compare(fop.eval(fx), want), "") << dim;
    std::vector<float> ixf(ix.begin(), ix.end());
    ixf[7] = -2147483648.0f, ixf[8] = 2147483648.0f;  // what a float buffer holds for them: still invalid
    EXPECT_EQ(compare(iop.eval(ixf), want), "") << dim;
    std::vector<float> got(want.size() + kc::kPad, kNaN);
    kc::embedding(fx.data(), table.data(), got.data(), 12, n, dim);
    got.resize(want.size());
    EXPECT_EQ(compare(got, want), "") << "float kernel, dim " << dim;
    std::vector<float> goti(want.size(), kNaN);
    kc::embedding(ix.data(), table.data(), goti.data(), 12, n, dim);
    EXPECT_EQ(compare(goti, want), "") << "int kernel, dim " << dim;
  }
}

TEST(ShapeKernels, BatchNorm) {
  std::mt19937 rng(5);
  for (int outer : {1, 3})
    for (int channels : {1, 4, 17})
      for (int inner : {1, 5, 16}) {
        const size_t n = static_cast<size_t>(outer * channels * inner);
        ir::BatchNormAttrs a;
        a.outer = outer, a.channels = channels, a.inner = inner;
        OneOp op({outer, channels, inner}, {outer, channels, inner}, a);
        const std::vector<float> scale = random_values(rng, static_cast<size_t>(channels));
        const std::vector<float> shift = random_values(rng, static_cast<size_t>(channels));
        a.scale = op.g.add_weight({"s", {channels}, scale});
        a.shift = op.g.add_weight({"t", {channels}, shift});
        op.g.ops[0].attrs = a;
        const std::vector<float> x = random_values(rng, n);
        std::vector<float> y(n);
        kc::batchnorm<false>(x.data(), scale.data(), shift.data(), y.data(), outer, channels, inner);
        EXPECT_EQ(compare(y, op.eval(x)), "") << outer << " " << channels << " " << inner;
      }
}

TEST(ShapeKernels, LayerNormEveryFormAndSize) {
  std::mt19937 rng(9);
  for (int n : kSizes)
    for (int inner : {1, 3})
      for (int variant = 0; variant < 8; ++variant) {
        const bool centered = variant & 1, has_gamma = variant & 2, has_beta = variant & 4;
        const int outer = 2;
        ir::LayerNormAttrs a;
        a.outer = outer, a.n = n, a.inner = inner, a.epsilon = 1e-3f;
        a.form = centered ? ir::LayerNormForm::Centered : ir::LayerNormForm::Affine;
        const ir::Shape s = {outer, n, inner};
        OneOp op(s, s, a);
        const std::vector<float> gamma = random_values(rng, static_cast<size_t>(n));
        const std::vector<float> beta = random_values(rng, static_cast<size_t>(n));
        if (has_gamma) a.gamma = op.g.add_weight({"g", {n}, gamma});
        if (has_beta) a.beta = op.g.add_weight({"b", {n}, beta});
        op.g.ops[0].attrs = a;
        std::vector<float> x = random_values(rng, static_cast<size_t>(outer * n * inner), 10.0f);
        for (float& v : x) v += 40.0f;  // an offset: the two sums must both be right
        std::vector<float> y(x.size() + kc::kPad, kNaN);
        const float* g = has_gamma ? gamma.data() : nullptr;
        const float* b = has_beta ? beta.data() : nullptr;
#define KC_LN(C, G, B) \
  if (centered == C && has_gamma == G && has_beta == B) kc::layernorm<false, C, G, B>(x.data(), g, b, y.data(), outer, n, inner, 1e-3f);
        KC_LN(false, false, false) KC_LN(false, false, true) KC_LN(false, true, false) KC_LN(false, true, true)
        KC_LN(true, false, false) KC_LN(true, false, true) KC_LN(true, true, false) KC_LN(true, true, true)
#undef KC_LN
        y.resize(x.size());
        EXPECT_EQ(compare(y, op.eval(x)), "") << "n " << n << " inner " << inner << " variant " << variant;
      }
}

// The 16 virtual accumulators: the sum is the same whatever kLanes is, and differs from a plain
// sequential sum for data chosen so that the order matters.
TEST(ShapeKernels, LayerNormSumOrderIsFixed) {
  std::vector<float> x(33, 1.0f);
  x[0] = 1e8f;  // sequential: 1e8 + 1 + 1 ... stays 1e8; split: the 1s of other lanes survive
  const float s = kc::sum16<false, false>(x.data(), 33, 1, 0.0f);
  float s16[16] = {};
  for (int j = 0; j < 33; ++j) s16[j % 16] += x[static_cast<size_t>(j)];
  for (int h = 8; h >= 1; h /= 2)
    for (int k = 0; k < h; ++k) s16[k] += s16[k + h];
  EXPECT_EQ(bits(s), bits(s16[0]));
  float seq = 0.0f;
  for (float v : x) seq += v;
  EXPECT_NE(bits(s), bits(seq));
  std::vector<float> strided(33 * 3, 0.0f);
  for (size_t j = 0; j < 33; ++j) strided[j * 3] = x[j];
  EXPECT_EQ(bits(kc::sum16<false, false>(strided.data(), 33, 3, 0.0f)), bits(s));
}

TEST(ShapeKernels, Permute) {
  std::mt19937 rng(13);
  const std::vector<std::pair<ir::Shape, std::vector<int>>> cases = {
      {{4, 6}, {1, 0}}, {{2, 3, 17}, {2, 0, 1}}, {{3, 4, 16}, {0, 2, 1}}, {{1, 5, 1, 3}, {3, 1, 0, 2}},
      {{2, 3, 4, 5}, {3, 2, 1, 0}}, {{2, 3, 4, 5, 2, 3}, {5, 3, 1, 0, 2, 4}}, {{7}, {0}}};
  for (const auto& [shape, perm] : cases) {
    ir::Shape out;
    for (int k : perm) out.push_back(shape[static_cast<size_t>(k)]);
    // The lowering's attrs, through a one-layer model.
    ModelBuilder b(json::array({nullptr}));
    b.layers[0]["config"]["batch_shape"] = json::array({nullptr});
    for (int64_t d : shape) b.layers[0]["config"]["batch_shape"].push_back(d);
    json dims = json::array();
    for (int k : perm) dims.push_back(k + 1);
    b.add("Permute", {{"dims", dims}});
    const ir::Graph g = lower::lower(b.model());
    const auto& a = std::get<ir::PermuteAttrs>(g.ops[0].attrs);
    const std::vector<float> x = random_values(rng, static_cast<size_t>(ir::num_elements(shape)));
    const std::vector<float> want = eval::evaluate(g, {x}, 1)[0];
    // Direct check of the evaluator: y[i] = x[perm(i)].
    std::vector<int64_t> stride(shape.size(), 1);
    for (size_t k = shape.size() - 1; k-- > 0;) stride[k] = stride[k + 1] * shape[k + 1];
    for (size_t flat = 0; flat < want.size(); ++flat) {
      size_t rest = flat, src = 0;
      for (size_t k = out.size(); k-- > 0;) {
        src += rest % static_cast<size_t>(out[k]) * static_cast<size_t>(stride[static_cast<size_t>(perm[k])]);
        rest /= static_cast<size_t>(out[k]);
      }
      ASSERT_EQ(bits(want[flat]), bits(x[src])) << flat;
    }
    kc::Dims6 d{}, s{};
    for (size_t k = 0; k < 6; ++k) d.d[k] = static_cast<int>(a.dims[k]), s.d[k] = static_cast<int>(a.strides[k]);
    std::vector<float> y(x.size());
    kc::permute(x.data(), y.data(), d, s);
    EXPECT_EQ(compare(y, want), "");
  }
}

TEST(ShapeKernels, PadCropAndRepeat) {
  std::mt19937 rng(17);
  for (int c : {1, 3, 16, 17}) {
    const std::vector<int64_t> in = {2, 3, 4, c};
    const std::vector<float> x = random_values(rng, static_cast<size_t>(2 * 3 * 4 * c));
    kc::Dims4 din{{2, 3, 4, c}};
    // padding
    ir::PadCropAttrs p{in, {1, 0, 2, 3}, {0, 2, 1, 1}};
    OneOp pop({2, 3, 4, c}, {3, 5, 7, c + 4}, p);
    std::vector<float> y(static_cast<size_t>(3 * 5 * 7 * (c + 4)), kNaN);
    kc::pad_crop(x.data(), y.data(), din, kc::Dims4{{1, 0, 2, 3}}, kc::Dims4{{0, 2, 1, 1}});
    EXPECT_EQ(compare(y, pop.eval(x)), "") << "pad " << c;
    // cropping (the last axis only when it has room)
    const int lc = c > 2 ? 1 : 0;
    ir::PadCropAttrs q{in, {-1, 0, -1, -lc}, {0, -1, -2, 0}};
    OneOp qop({2, 3, 4, c}, {1, 2, 1, c - lc}, q);
    std::vector<float> z(static_cast<size_t>(1 * 2 * 1 * (c - lc)), kNaN);
    kc::pad_crop(x.data(), z.data(), din, kc::Dims4{{-1, 0, -1, -lc}}, kc::Dims4{{0, -1, -2, 0}});
    EXPECT_EQ(compare(z, qop.eval(x)), "") << "crop " << c;
    // nearest repetition, also of the last axis (channels_first layouts)
    ir::RepeatAttrs r{in, {2, 1, 3, 2}};
    OneOp rop({2, 3, 4, c}, {4, 3, 12, 2 * c}, r);
    std::vector<float> w(static_cast<size_t>(4 * 3 * 12 * 2 * c), kNaN);
    kc::repeat(x.data(), w.data(), din, kc::Dims4{{2, 1, 3, 2}});
    EXPECT_EQ(compare(w, rop.eval(x)), "") << "repeat " << c;
  }
}

// UpSampling2D(bilinear): the lowering's taps (ir::ResizeAttrs) through the kernel and the evaluator.
TEST(ShapeKernels, ResizeBilinear) {
  std::mt19937 rng(19);
  for (int inner : {1, 3, 16, 17})
    for (auto [fh, fw] : {std::pair<int, int>{2, 2}, {3, 4}, {1, 5}}) {
      const int h = 3, w = 4;
      ModelBuilder b(json::array({nullptr, h, w, inner}));
      b.add("UpSampling2D", {{"size", json::array({fh, fw})}, {"interpolation", "bilinear"}});
      const ir::Graph g = lower::lower(b.model());
      const auto& a = std::get<ir::ResizeAttrs>(g.ops[0].attrs);
      ASSERT_EQ(a.rows.size(), static_cast<size_t>(h * fh));
      ASSERT_EQ(a.cols.size(), static_cast<size_t>(w * fw));
      const std::vector<float> x = random_values(rng, static_cast<size_t>(h * w * inner));
      std::vector<float> y(static_cast<size_t>(h * fh * w * fw * inner), kNaN);
      std::vector<kc::ResizeTap> rows, cols;
      for (const ir::ResizeTap& t : a.rows) rows.push_back({t.lo, t.hi, t.w});
      for (const ir::ResizeTap& t : a.cols) cols.push_back({t.lo, t.hi, t.w});
      kc::resize_bilinear<false>(x.data(), y.data(), 1, h, w, inner, rows.data(), h * fh, cols.data(), w * fw);
      const std::vector<float> want = eval::evaluate(g, {x}, 1)[0];
      EXPECT_EQ(compare(y, want), "") << inner << " " << fh << "x" << fw;
      // Half-pixel centres: factor 2 -> weights 0.25 / 0.75, the edges copy.
      if (fh == 2 && fw == 2 && inner == 1) {
        EXPECT_EQ(want[0], x[0]);
        const float top = x[0] + (x[1] - x[0]) * 0.25f;
        EXPECT_EQ(want[1], top);  // output (0, 1): rows 0/0, columns 0/1 at 0.25
      }
    }
}
