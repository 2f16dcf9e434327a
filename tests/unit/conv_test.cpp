// The conv family alone: lowering geometry and errors (hand-written Keras configs), the evaluator's
// documented semantics (padded taps skipped, NaN in max pooling, non-padded average counts), and the
// runtime kernels against the evaluator, bit for bit, on this host's ISA path over many geometries.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include "error.h"
#include "eval/eval.h"
#include "lower/lower.h"
#include "plan/pack_conv.h"

#include "kc2cpp_isa.h"
namespace conv_host {
namespace kc {
#include "kc2cpp_simd.h"
#include "kc2cpp_math.h"
#include "kc2cpp_kernels.h"
#include "kc2cpp_kernels_conv.h"
}  // namespace kc
}  // namespace conv_host

using namespace kc2cpp;
using json = nlohmann::json;

namespace {

// A Sequential model: Input(shape) then `layer` with `weights` (shapes; values 0.5, 0.25, ...).
load::KerasModel model(const std::vector<int64_t>& shape, const std::string& cls, json cfg,
                       const std::vector<std::vector<int64_t>>& weights, const std::string& version = "3.12.0") {
  load::KerasModel m;
  m.path = "test.h5";
  m.keras_version = version;
  json batch = json::array({nullptr});
  for (int64_t d : shape) batch.push_back(d);
  cfg["name"] = "layer";
  m.config = {{"class_name", "Sequential"},
              {"config",
               {{"name", "m"},
                {"layers", json::array({{{"class_name", "InputLayer"}, {"config", {{"batch_shape", batch}}}},
                                        {{"class_name", cls}, {"config", cfg}}})}}}};
  load::LayerWeights lw{"layer", {}};
  for (const auto& s : weights) {
    load::NamedArray a{"layer/w" + std::to_string(lw.arrays.size()), s, {}};
    a.data.resize(static_cast<size_t>(ir::num_elements(s)));
    for (size_t i = 0; i < a.data.size(); ++i) a.data[i] = 1.0f / static_cast<float>(2 + i % 7);
    lw.arrays.push_back(a);
  }
  m.layers.push_back(lw);
  return m;
}

template <class A>
const A& only_op(const ir::Graph& g) {
  for (const ir::Op& op : g.ops)
    if (const auto* a = std::get_if<A>(&op.attrs)) return *a;
  throw std::runtime_error("no such op");
}

std::string lower_error(const load::KerasModel& m) {
  try {
    lower::lower(m);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ConvLower, Conv2DSameStridedEvenKernel) {
  const ir::Graph g = lower::lower(model({8, 7, 1}, "Conv2D",
                                         {{"filters", 5}, {"kernel_size", {4, 3}}, {"strides", {2, 2}}, {"padding", "same"},
                                          {"data_format", "channels_last"}, {"dilation_rate", {1, 1}}, {"use_bias", true},
                                          {"activation", "relu"}},
                                         {{4, 3, 1, 5}, {5}}));
  const auto& c = only_op<ir::ConvAttrs>(g);
  EXPECT_EQ(c.geom.out_h, 4);  // ceil(8/2)
  EXPECT_EQ(c.geom.out_w, 4);  // ceil(7/2)
  EXPECT_EQ(c.geom.pad_top, 1);   // total (4-1)*2 + 4 - 8 = 2
  EXPECT_EQ(c.geom.pad_left, 1);  // total (4-1)*2 + 3 - 7 = 2
  EXPECT_EQ(c.act.kind, ir::ActKind::Relu);
  EXPECT_EQ(g.tensors[g.outputs[0]].shape, (ir::Shape{4, 4, 5}));
}

TEST(ConvLower, Conv1DCausalDilatedAndGroups) {
  const ir::Graph g = lower::lower(model({10, 4}, "Conv1D",
                                         {{"filters", 6}, {"kernel_size", {4}}, {"strides", {1}}, {"padding", "causal"},
                                          {"dilation_rate", {2}}, {"groups", 2}, {"use_bias", false}},
                                         {{4, 2, 6}}));
  const auto& c = only_op<ir::ConvAttrs>(g);
  EXPECT_EQ(c.geom.in_h, 1);
  EXPECT_EQ(c.geom.pad_left, 6);  // d (k - 1)
  EXPECT_EQ(c.geom.out_w, 10);
  EXPECT_EQ(c.groups, 2);
  // Kernel rearranged to [G][k][C/G][F/G]: group 1, tap 0, channel 0, filter 0 = Keras [0][0][3].
  const ir::Weight& k = g.weights[c.kernel];
  EXPECT_EQ(k.shape, (ir::Shape{2 * 4 * 2, 3}));
  EXPECT_EQ(k.data[4 * 2 * 3], 1.0f / static_cast<float>(2 + 3 % 7));
}

TEST(ConvLower, TransposeOffsetsPerKerasVersion) {
  // Same padding, kernel 4, stride 2, output_padding 1 (tf.keras serializes it; Keras 3.12 does not).
  json cfg = {{"filters", 2}, {"kernel_size", {4, 4}}, {"strides", {2, 2}}, {"padding", "same"},
              {"output_padding", {1, 1}}, {"dilation_rate", {1, 1}}, {"use_bias", false}};
  for (const char* version : {"2.15.0", "3.12.0"}) {
    const ir::Graph g = lower::lower(model({5, 5, 3}, "Conv2DTranspose", cfg, {{4, 4, 2, 3}}, version));
    const auto& t = only_op<ir::ConvTransposeAttrs>(g);
    EXPECT_EQ(t.geom.out_h, 9) << version;   // (5-1)*2 + 4%2 + 1
    EXPECT_EQ(t.geom.pad_top, 1) << version;  // both formulas agree here
  }
  cfg["output_padding"] = nullptr;
  cfg["kernel_size"] = {3, 3};
  const ir::Graph g = lower::lower(model({5, 5, 3}, "Conv2DTranspose", cfg, {{3, 3, 2, 3}}));
  EXPECT_EQ(only_op<ir::ConvTransposeAttrs>(g).geom.out_w, 10);
  EXPECT_EQ(only_op<ir::ConvTransposeAttrs>(g).geom.pad_left, 0);
}

TEST(ConvLower, PoolingStridesDefaultToPoolSize) {
  const ir::Graph g = lower::lower(model({9, 9, 2}, "MaxPooling2D",
                                         {{"pool_size", {2, 2}}, {"strides", nullptr}, {"padding", "valid"}}, {}));
  const auto& p = only_op<ir::PoolAttrs>(g);
  EXPECT_EQ(p.geom.stride_h, 2);
  EXPECT_EQ(p.geom.out_h, 4);
  EXPECT_EQ(p.kind, ir::PoolKind::Max);
}

TEST(ConvLower, GlobalPoolingKeepdims) {
  const ir::Graph g = lower::lower(model({3, 4, 5}, "GlobalAveragePooling2D", {{"keepdims", true}}, {}));
  EXPECT_EQ(g.tensors[g.outputs[0]].shape, (ir::Shape{1, 1, 5}));
  EXPECT_EQ(only_op<ir::GlobalPoolAttrs>(g).rows, 12);
}

TEST(ConvLower, DepthMultiplierRepeatsChannels) {
  const ir::Graph g = lower::lower(model({4, 4, 3}, "DepthwiseConv2D",
                                         {{"kernel_size", {3, 3}}, {"padding", "same"}, {"depth_multiplier", 2}},
                                         {{3, 3, 3, 2}, {6}}));
  ASSERT_EQ(g.ops.size(), 2u);
  EXPECT_EQ(std::get<ir::RepeatChannelsAttrs>(g.ops[0].attrs).times, 2);
  EXPECT_EQ(std::get<ir::DepthwiseConvAttrs>(g.ops[1].attrs).geom.in_c, 6);
}

namespace {

// Conv3DTranspose and grouped Conv3D by their definitions, in double: the scatter form
// y[i*s - pad + k*d] += x[i] * w[k] per axis (transposed), and the per-group gather (forward).
std::vector<double> conv3d_transpose_reference(const std::vector<float>& x, const load::NamedArray& w,
                                               const std::vector<int64_t>& in, const std::vector<int64_t>& out,
                                               const std::vector<int64_t>& s, const std::vector<int64_t>& pad) {
  const int64_t c = in[3], f = out[3];
  std::vector<double> y(static_cast<size_t>(out[0] * out[1] * out[2] * f), 0.0);
  for (int64_t i0 = 0; i0 < in[0]; ++i0)
    for (int64_t i1 = 0; i1 < in[1]; ++i1)
      for (int64_t i2 = 0; i2 < in[2]; ++i2)
        for (int64_t k0 = 0; k0 < w.shape[0]; ++k0)
          for (int64_t k1 = 0; k1 < w.shape[1]; ++k1)
            for (int64_t k2 = 0; k2 < w.shape[2]; ++k2) {
              const int64_t o0 = i0 * s[0] - pad[0] + k0, o1 = i1 * s[1] - pad[1] + k1, o2 = i2 * s[2] - pad[2] + k2;
              if (o0 < 0 || o0 >= out[0] || o1 < 0 || o1 >= out[1] || o2 < 0 || o2 >= out[2]) continue;
              for (int64_t ch = 0; ch < c; ++ch)
                for (int64_t o = 0; o < f; ++o)
                  y[static_cast<size_t>(((o0 * out[1] + o1) * out[2] + o2) * f + o)] +=
                      double(x[static_cast<size_t>(((i0 * in[1] + i1) * in[2] + i2) * c + ch)]) *
                      double(w.data[static_cast<size_t>((((k0 * w.shape[1] + k1) * w.shape[2] + k2) * f + o) * c + ch)]);
            }
  return y;
}

std::vector<float> ramp(int64_t n) {
  std::vector<float> x(static_cast<size_t>(n));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(static_cast<int>(i % 11) - 5) * 0.25f;
  return x;
}

}  // namespace

// Conv3DTranspose (valid, strides (2, 1, 2), no bias): zeros between depth slices, depth taps, then a
// 2-D transposed convolution per output depth, against the scatter definition.
TEST(ConvLower, Conv3DTransposeMatchesItsDefinition) {
  const load::KerasModel m = model({3, 2, 3, 2}, "Conv3DTranspose",
                                   {{"filters", 3}, {"kernel_size", {2, 3, 2}}, {"strides", {2, 1, 2}}, {"padding", "valid"},
                                    {"use_bias", false}},
                                   {{2, 3, 2, 3, 2}});
  const ir::Graph g = lower::lower(m);
  const std::vector<int64_t> out = {6, 4, 6, 3};  // (n - 1) s + k per axis
  EXPECT_EQ(g.tensors[g.outputs[0]].shape, (ir::Shape{6, 4, 6, 3}));
  const std::vector<float> x = ramp(3 * 2 * 3 * 2);
  const std::vector<float> y = eval::evaluate(g, {x}, 1)[0];
  const std::vector<double> want = conv3d_transpose_reference(x, m.layers[0].arrays[0], {3, 2, 3, 2}, out, {2, 1, 2}, {0, 0, 0});
  ASSERT_EQ(y.size(), want.size());
  for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], want[i], 1e-5) << i;
}

// Conv3D with groups=2: one convolution per group on its channels, concatenated.
TEST(ConvLower, Conv3DGroupsConvolveEachGroupsChannels) {
  const load::KerasModel m = model({2, 2, 2, 4}, "Conv3D",
                                   {{"filters", 6}, {"kernel_size", {1, 1, 1}}, {"padding", "valid"}, {"groups", 2}},
                                   {{1, 1, 1, 2, 6}, {6}});
  const ir::Graph g = lower::lower(m);
  const std::vector<float> x = ramp(2 * 2 * 2 * 4);
  const std::vector<float> y = eval::evaluate(g, {x}, 1)[0];
  const load::NamedArray& w = m.layers[0].arrays[0];
  const load::NamedArray& b = m.layers[0].arrays[1];
  ASSERT_EQ(y.size(), 8u * 6u);
  for (size_t p = 0; p < 8; ++p)
    for (size_t o = 0; o < 6; ++o) {
      const size_t gr = o / 3;  // output o reads input channels 2 gr, 2 gr + 1
      double want = b.data[o];
      for (size_t ch = 0; ch < 2; ++ch) want += double(x[p * 4 + gr * 2 + ch]) * double(w.data[ch * 6 + o]);
      EXPECT_NEAR(y[p * 6 + o], want, 1e-6) << p << " " << o;
    }
  EXPECT_NE(lower_error(model({2, 2, 2, 3}, "Conv3D", {{"filters", 6}, {"kernel_size", {1, 1, 1}}, {"padding", "valid"},
                                                       {"groups", 2}}, {{1, 1, 1, 1, 6}, {6}}))
                .find("groups=2 does not divide the input channels (3)"),
            std::string::npos);
}

TEST(ConvLower, ClearErrors) {
  EXPECT_NE(lower_error(model({3, 8, 8}, "Conv2D",
                              {{"filters", 2}, {"kernel_size", {3, 3}}, {"padding", "valid"}, {"data_format", "channels_middle"}},
                              {{3, 3, 3, 2}, {2}}))
                .find("layer 'layer' (Conv2D): data_format 'channels_middle' is not known"),
            std::string::npos);
  EXPECT_NE(lower_error(model({8, 8, 3}, "Conv2D", {{"filters", 4}, {"kernel_size", {3, 3}}, {"padding", "valid"}, {"groups", 2}},
                              {{3, 3, 1, 4}, {4}}))
                .find("groups=2 does not divide the input channels (3)"),
            std::string::npos);
  EXPECT_NE(lower_error(model({4, 4, 1}, "Conv2D", {{"filters", 1}, {"kernel_size", {5, 5}}, {"padding", "valid"}},
                              {{5, 5, 1, 1}, {1}}))
                .find("larger than the input"),
            std::string::npos);
  EXPECT_NE(lower_error(model({8, 8, 2}, "Conv2D", {{"filters", 4}, {"kernel_size", {3, 3}}, {"padding", "valid"}},
                              {{3, 3, 2, 5}, {4}}))
                .find("kernel 'layer/w0' has shape (3, 3, 2, 5) but the config implies (3, 3, 2, 4)"),
            std::string::npos);
  EXPECT_NE(lower_error(model({8, 2}, "Conv1D", {{"filters", 4}, {"kernel_size", {3}}, {"padding", "full"}}, {{3, 2, 4}, {4}}))
                .find("padding=\"full\" is not supported"),
            std::string::npos);
  EXPECT_NE(lower_error(model({8, 8, 2}, "Conv1D", {{"filters", 4}, {"kernel_size", {3}}, {"padding", "valid"}}, {{3, 2, 4}, {4}}))
                .find("expects a rank-3 input"),
            std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Evaluator semantics on one-op graphs.
namespace {

ir::Graph one_op(const ir::Shape& in, const ir::Shape& out, ir::OpAttrs a) {
  ir::Graph g;
  g.inputs = {g.add_tensor({"in", in})};
  g.outputs = {g.add_tensor({"out", out})};
  g.ops.push_back({"op", "Test", {g.inputs[0]}, {g.outputs[0]}, std::move(a), {}});
  return g;
}

ir::ConvGeom geom(int64_t h, int64_t w, int64_t c, int64_t oh, int64_t ow, int64_t oc, int64_t kh, int64_t kw,
                  int64_t sh, int64_t sw, int64_t dh, int64_t dw, int64_t pt, int64_t pl) {
  ir::ConvGeom g;
  g.in_h = h, g.in_w = w, g.in_c = c, g.out_h = oh, g.out_w = ow, g.out_c = oc;
  g.k_h = kh, g.k_w = kw, g.stride_h = sh, g.stride_w = sw, g.dil_h = dh, g.dil_w = dw, g.pad_top = pt, g.pad_left = pl;
  g.padding = "test";
  return g;
}

}  // namespace

TEST(ConvEval, PaddedTapsAreSkippedNotMultipliedByZero) {
  // 1x1 input, 3x3 "same" kernel: only the centre tap is valid; the others hold Inf, which 0 * w
  // would turn into NaN.
  ir::ConvAttrs c;
  c.geom = geom(1, 1, 1, 1, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1);
  ir::Graph g = one_op({1, 1, 1}, {1, 1, 1}, c);
  std::vector<float> k(9, std::numeric_limits<float>::infinity());
  k[4] = 2.0f;
  auto& a = std::get<ir::ConvAttrs>(g.ops[0].attrs);
  a.kernel = g.add_weight({"k", {9, 1}, k});
  EXPECT_EQ(eval::evaluate(g, {{3.0f}}, 1)[0][0], 6.0f);
}

TEST(ConvEval, SumsInBlocksOfKConvBlockPositions) {
  // 1x1 kernel over 2 * kConvBlock channels: position 0 is 2^24, every other one 1. One sequential
  // chain would stay at 2^24 (2^24 + 1 rounds back to it); in blocks, the second block's 64 ones
  // sum exactly and 2^24 + 64 is a float.
  static_assert(ir::kConvBlock == 64, "the expected value below assumes blocks of 64");
  const int64_t c = 2 * ir::kConvBlock;
  ir::ConvAttrs a;
  a.geom = geom(1, 1, c, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0);
  ir::Graph g = one_op({1, 1, c}, {1, 1, 1}, a);
  std::vector<float> k(static_cast<size_t>(c), 1.0f);
  k[0] = 16777216.0f;
  std::get<ir::ConvAttrs>(g.ops[0].attrs).kernel = g.add_weight({"k", {c, 1}, k});
  for (ir::FpMode fp : {ir::FpMode::Unfused, ir::FpMode::Fused}) {
    g.fp = fp;
    EXPECT_EQ(eval::evaluate(g, {std::vector<float>(static_cast<size_t>(c), 1.0f)}, 1)[0][0], 16777280.0f);
  }
}

TEST(ConvEval, MaxPoolPropagatesNaNAndAveragePoolCountsValidTaps) {
  ir::PoolAttrs p;
  p.geom = geom(1, 3, 1, 1, 2, 1, 1, 2, 1, 2, 1, 1, 0, 1);  // windows {pad, x0}, {x1, x2}
  const float nan = std::numeric_limits<float>::quiet_NaN();
  ir::Graph g = one_op({3, 1}, {2, 1}, p);
  auto y = eval::evaluate(g, {{-0.0f, nan, 5.0f}}, 1)[0];
  EXPECT_TRUE(std::signbit(y[0]) && y[0] == 0.0f);  // only x0 is valid
  EXPECT_TRUE(std::isnan(y[1]));                     // NaN first, then 5: stays NaN
  y = eval::evaluate(g, {{1.0f, 5.0f, nan}}, 1)[0];
  EXPECT_TRUE(std::isnan(y[1]));                     // NaN last: taken
  std::get<ir::PoolAttrs>(g.ops[0].attrs).kind = ir::PoolKind::Average;
  y = eval::evaluate(g, {{3.0f, 1.0f, 2.0f}}, 1)[0];
  EXPECT_EQ(y[0], 3.0f);  // one valid tap: 3 / 1
  EXPECT_EQ(y[1], 1.5f);
}

// ---------------------------------------------------------------------------------------------
// The runtime kernels (this host's ISA path) against the evaluator, bit for bit.
namespace {

std::vector<float> packed(const ir::Graph& g, int weight) {
  for (auto& [index, p] : plan::pack_conv_weights(g, g.ops[0]))
    if (index == weight) return p.data;
  return {};
}

std::vector<float> random_input(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 2.0f);
  std::vector<float> x(n);
  for (float& v : x) v = d(rng);
  return x;
}

bool same_bits(const std::vector<float>& a, const float* b) {
  return std::memcmp(a.data(), b, a.size() * sizeof(float)) == 0;
}

// Runs conv geometry G with GROUPS through the evaluator and kc::conv2d; returns "" if identical.
template <class G, int GROUPS, bool Transpose = false>
std::string conv_case(uint32_t seed) {
  ir::ConvGeom geo = geom(G::H, G::W, G::C, G::OH, G::OW, G::OC, G::KH, G::KW, G::SH, G::SW, G::DH, G::DW, G::PT, G::PL);
  const int64_t rows = Transpose ? G::KH * G::KW * G::C : GROUPS * G::KH * G::KW * (G::C / GROUPS);
  const int64_t cols = Transpose ? G::OC : G::OC / GROUPS;
  ir::Graph g;
  if constexpr (Transpose) {
    ir::ConvTransposeAttrs t;
    t.geom = geo;
    g = one_op({G::H, G::W, G::C}, {G::OH, G::OW, G::OC}, t);
  } else {
    ir::ConvAttrs c;
    c.geom = geo;
    c.groups = GROUPS;
    g = one_op({G::H, G::W, G::C}, {G::OH, G::OW, G::OC}, c);
  }
  const int kernel = g.add_weight({"k", {rows, cols}, random_input(static_cast<size_t>(rows * cols), seed + 1)});
  const int bias = g.add_weight({"b", {G::OC}, random_input(G::OC, seed + 2)});
  std::visit([&](auto& a) {
    if constexpr (std::is_same_v<std::decay_t<decltype(a)>, ir::ConvAttrs> ||
                  std::is_same_v<std::decay_t<decltype(a)>, ir::ConvTransposeAttrs>) {
      a.kernel = kernel, a.bias = bias;
      a.act.kind = ir::ActKind::Tanh;
    }
  }, g.ops[0].attrs);
  const std::vector<float> x = random_input(G::H * G::W * G::C, seed);
  const std::vector<float> want = eval::evaluate(g, {x}, 1)[0];
  const std::vector<float> w = packed(g, kernel), b = packed(g, bias);
  std::vector<float> y(want.size() + 64, 7.0f);
  if constexpr (Transpose)
    conv_host::kc::conv2d_transpose<G, true, false>(x.data(), w.data(), b.data(), y.data(), conv_host::kc::act::Tanh<false>{});
  else
    conv_host::kc::conv2d<G, GROUPS, true, false>(x.data(), w.data(), b.data(), y.data(), conv_host::kc::act::Tanh<false>{});
  return same_bits(want, y.data()) ? "" : "differs";
}

template <int H, int W, int C, int OH, int OW, int OC, int KH, int KW, int SH, int SW, int DH, int DW, int PT, int PL>
using Geo = conv_host::kc::Geom<H, W, C, OH, OW, OC, KH, KW, SH, SW, DH, DW, PT, PL>;

}  // namespace

TEST(ConvKernels, ConvMatchesEvaluatorOnHostIsa) {
  EXPECT_EQ((conv_case<Geo<5, 5, 1, 5, 5, 1, 3, 3, 1, 1, 1, 1, 1, 1>, 1>(1)), "");     // 1 -> 1 same
  EXPECT_EQ((conv_case<Geo<6, 7, 3, 3, 4, 17, 3, 3, 2, 2, 1, 1, 1, 1>, 1>(2)), "");    // 3 -> 17 same stride 2
  EXPECT_EQ((conv_case<Geo<9, 9, 8, 5, 3, 33, 3, 2, 1, 3, 2, 2, 0, 0>, 1>(3)), "");    // dilation, valid
  EXPECT_EQ((conv_case<Geo<4, 9, 16, 4, 9, 16, 3, 5, 1, 1, 1, 1, 1, 2>, 1>(4)), "");   // 16 -> 16 same
  EXPECT_EQ((conv_case<Geo<5, 6, 8, 5, 6, 34, 3, 3, 1, 1, 1, 1, 1, 1>, 2>(5)), "");    // groups of 17
  EXPECT_EQ((conv_case<Geo<5, 6, 12, 5, 6, 12, 1, 3, 1, 1, 1, 1, 0, 2>, 12>(6)), "");  // one channel per group
  EXPECT_EQ((conv_case<Geo<1, 12, 4, 1, 12, 70, 1, 3, 1, 1, 1, 2, 0, 4>, 1>(7)), "");  // causal-like, 70 filters
  EXPECT_EQ((conv_case<Geo<2, 2, 2, 2, 2, 3, 3, 3, 1, 1, 5, 5, 6, 6>, 1>(8)), "");     // pixels with no valid tap
  EXPECT_EQ((conv_case<Geo<3, 4, 3, 7, 10, 17, 3, 2, 2, 3, 1, 1, 1, 0>, 1, true>(9)), "");   // transposed
  EXPECT_EQ((conv_case<Geo<4, 4, 5, 6, 8, 8, 3, 3, 1, 2, 2, 1, 1, 0>, 1, true>(10)), "");    // transposed, dilation
  // Sums of several blocks (ir::kConvBlock): totals kept in registers or in the output, blocks
  // ending inside a tap and inside a row, partial last vectors, padded taps.
  EXPECT_EQ((conv_case<Geo<5, 9, 100, 5, 9, 20, 3, 3, 1, 1, 1, 1, 1, 1>, 1>(11)), "");   // 900 terms
  EXPECT_EQ((conv_case<Geo<6, 11, 8, 6, 11, 70, 3, 3, 1, 1, 1, 1, 1, 1>, 1>(12)), "");   // 72 terms, 70 filters
  EXPECT_EQ((conv_case<Geo<4, 20, 130, 4, 20, 3, 1, 1, 1, 1, 1, 1, 0, 0>, 1>(13)), "");  // 1x1, 130 channels
  EXPECT_EQ((conv_case<Geo<5, 6, 96, 3, 4, 34, 3, 3, 1, 1, 1, 1, 0, 0>, 2>(14)), "");    // groups of 48 channels
  EXPECT_EQ((conv_case<Geo<1, 30, 24, 1, 30, 40, 1, 9, 1, 1, 1, 1, 0, 4>, 1>(15)), "");  // 1-D, 216 terms
  EXPECT_EQ((conv_case<Geo<4, 5, 40, 9, 11, 4, 3, 3, 2, 2, 1, 1, 1, 0>, 1, true>(16)), "");  // transposed, 360 terms
  EXPECT_EQ((conv_case<Geo<3, 3, 30, 5, 5, 33, 3, 3, 1, 1, 1, 1, 0, 0>, 1, true>(17)), "");  // transposed, 270 terms
}

TEST(ConvKernels, PoolingAndDepthwiseMatchEvaluatorOnHostIsa) {
  using G = Geo<5, 7, 17, 3, 4, 17, 3, 2, 2, 2, 1, 1, 1, 0>;
  ir::PoolAttrs p;
  p.geom = geom(5, 7, 17, 3, 4, 17, 3, 2, 2, 2, 1, 1, 1, 0);
  std::vector<float> x = random_input(5 * 7 * 17, 11);
  x[3] = std::numeric_limits<float>::quiet_NaN();
  for (ir::PoolKind kind : {ir::PoolKind::Max, ir::PoolKind::Average}) {
    p.kind = kind;
    const ir::Graph g = one_op({5, 7, 17}, {3, 4, 17}, p);
    const std::vector<float> want = eval::evaluate(g, {x}, 1)[0];
    std::vector<float> y(want.size() + 64);
    if (kind == ir::PoolKind::Max) conv_host::kc::pool2d<G, true>(x.data(), y.data());
    else conv_host::kc::pool2d<G, false>(x.data(), y.data());
    for (size_t i = 0; i < want.size(); ++i)  // any NaN equals any NaN
      if (!(std::isnan(want[i]) && std::isnan(y[i]))) {
        ASSERT_EQ(std::memcmp(&want[i], &y[i], 4), 0) << i;
      }
  }
  ir::DepthwiseConvAttrs d;
  d.geom = p.geom;
  d.geom.dil_w = 2;
  d.geom.out_w = 3;
  using D = Geo<5, 7, 17, 3, 3, 17, 3, 2, 2, 2, 1, 2, 1, 0>;
  ir::Graph g = one_op({5, 7, 17}, {3, 3, 17}, d);
  auto& a = std::get<ir::DepthwiseConvAttrs>(g.ops[0].attrs);
  a.kernel = g.add_weight({"k", {6, 17}, random_input(6 * 17, 12)});
  x[3] = 1.0f;
  const std::vector<float> want = eval::evaluate(g, {x}, 1)[0];
  const std::vector<float> w = packed(g, a.kernel);
  std::vector<float> y(want.size() + 64);
  conv_host::kc::depthwise_conv2d<D, false, false>(x.data(), w.data(), nullptr, y.data(),
                                                          conv_host::kc::act::Linear{});
  EXPECT_TRUE(same_bits(want, y.data()));
}
