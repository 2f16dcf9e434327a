// The preprocessing family: lowering of Rescaling, Normalization, CenterCrop and Resizing (parameters,
// broadcasting, tap rules, refusals), the built-in-layer message, and the kernels
// (runtime_min/kc2cpp_kernels_preprocessing.h, the resize kernels of kc2cpp_kernels_shape.h, compiled
// here for the host's ISA path) against the reference evaluator, bit for bit, at sizes below, at and
// above the vector widths.
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
#include "lower/unsupported.h"
#include "plan/step.h"

#include "kc2cpp_isa.h"
namespace preprocessing_test {
namespace kc {
#include "kc2cpp_simd.h"
#include "kc2cpp_math.h"
#include "kc2cpp_kernels.h"
#include "kc2cpp_kernels_shape.h"
#include "kc2cpp_kernels_preprocessing.h"
}  // namespace kc
}  // namespace preprocessing_test

using namespace kc2cpp;
namespace kc = preprocessing_test::kc;
using json = nlohmann::json;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

using unit_test::bits;
using unit_test::compare;
using unit_test::random_values;

// A Sequential model of one layer (plus its weights) on a float input of `batch_shape`.
struct OneLayer {
  load::KerasModel m;
  OneLayer(json batch_shape, const std::string& cls, json cfg, std::vector<load::NamedArray> w = {},
           const std::string& version = "3.12.0", const std::string& backend = "jax") {
    m.path = "test.h5";
    m.keras_version = version;
    m.backend = backend;
    cfg["name"] = "prep";
    json layers = json::array();
    layers.push_back({{"class_name", "InputLayer"}, {"config", {{"batch_shape", batch_shape}, {"name", "in"}}}});
    layers.push_back({{"class_name", cls}, {"config", cfg}});
    m.config = {{"class_name", "Sequential"}, {"config", {{"name", "m"}, {"layers", layers}}}};
    if (!w.empty()) m.layers.push_back({"prep", w});
  }
  ir::Graph graph() const { return lower::lower(m); }
  std::string error() const {
    try {
      lower::lower(m);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
};

template <class A>
const A& only_op(const ir::Graph& g) {
  EXPECT_EQ(g.ops.size(), 1u);
  return std::get<A>(g.ops.at(0).attrs);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Rescaling

TEST(PreprocessingLowering, RescalingScalarAndPerChannel) {
  const ir::Graph s = OneLayer(json::array({nullptr, 4, 5, 3}), "Rescaling", {{"scale", 1.0 / 255}, {"offset", 0.0}}).graph();
  const auto& a = only_op<ir::ChannelMapAttrs>(s);
  EXPECT_EQ(a.form, ir::ChannelMapForm::MulAdd);
  EXPECT_EQ(a.channels, 1);
  EXPECT_EQ(a.inner, 60);
  EXPECT_EQ(s.weights[a.a].data, std::vector<float>{static_cast<float>(1.0 / 255)});  // Keras casts to float32
  EXPECT_EQ(s.weights[a.b].data, std::vector<float>{0.0f});
  // Per-channel lists, plain (tf.keras, Keras 3) and Keras 3's serialised numpy array; a missing offset is 0.
  const json numpy = {{"class_name", "__numpy__"}, {"config", {{"value", {0.5, 1.5, 2.5}}, {"dtype", "float32"}}}};
  for (const json& scale : {json::array({0.5, 1.5, 2.5}), json::array({json::array({0.5, 1.5, 2.5})}), numpy}) {
    const ir::Graph g = OneLayer(json::array({nullptr, 2, 3}), "Rescaling", {{"scale", scale}}).graph();
    const auto& c = only_op<ir::ChannelMapAttrs>(g);
    EXPECT_EQ(c.outer, 2) << scale;
    EXPECT_EQ(c.channels, 3) << scale;
    EXPECT_EQ(g.weights[c.a].data, (std::vector<float>{0.5f, 1.5f, 2.5f})) << scale;
    EXPECT_EQ(g.weights[c.b].data, (std::vector<float>{0.0f, 0.0f, 0.0f})) << scale;  // broadcast to the channels
  }
}

TEST(PreprocessingLowering, RescalingRefusesWhatDoesNotBroadcast) {
  const std::string e = OneLayer(json::array({nullptr, 2, 3}), "Rescaling", {{"scale", {1, 2, 3, 4}}}).error();
  EXPECT_NE(e.find("layer 'prep' (Rescaling): scale has 4 values along an axis of size 3"), std::string::npos) << e;
  const json rows = json::array({json::array({1, 2, 3}), json::array({1, 2, 3})});
  const std::string b = OneLayer(json::array({nullptr, 3}), "Rescaling", {{"scale", rows}}).error();
  EXPECT_NE(b.find("scale varies along the batch axis (2 values)"), std::string::npos) << b;
  const json ragged = json::array({json::array({1, 2}), json::array({3})});
  EXPECT_NE(OneLayer(json::array({nullptr, 3}), "Rescaling", {{"scale", ragged}}).error().find("rectangular"),
            std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Normalization

namespace {

load::NamedArray array(const std::string& name, ir::Shape shape, std::vector<float> data) {
  return {name, std::move(shape), std::move(data)};
}

float keras_denominator(float variance) { return std::max(std::sqrt(variance), 1e-7f); }

}  // namespace

TEST(PreprocessingLowering, NormalizationAdaptedLastAxis) {
  const std::vector<float> mean = {1.0f, -2.0f, 0.5f}, var = {4.0f, 0.0f, 2.0f};
  const ir::Graph g = OneLayer(json::array({nullptr, 4, 3}), "Normalization", {{"axis", json::array({-1})}},
                               {array("mean", {3}, mean), array("variance", {3}, var), array("count", {}, {64})})
                          .graph();
  const auto& a = only_op<ir::ChannelMapAttrs>(g);
  EXPECT_EQ(a.form, ir::ChannelMapForm::SubDiv);
  EXPECT_EQ(a.outer, 4);
  EXPECT_EQ(a.channels, 3);
  EXPECT_EQ(a.inner, 1);
  EXPECT_EQ(g.weights[a.a].data, mean);
  for (size_t c = 0; c < 3; ++c) EXPECT_EQ(bits(g.weights[a.b].data[c]), bits(keras_denominator(var[c]))) << c;
  EXPECT_EQ(g.weights[a.b].data[1], 1e-7f);  // zero variance: Keras's epsilon
  // The values: (x - mean) / d, one IEEE division per element.
  const std::vector<float> x = {3.0f, -2.0f, 1.0f, 0.1f, 0.2f, 0.3f, 7.0f, 8.0f, 9.0f, -1.0f, -1.0f, -1.0f};
  const std::vector<float> y = eval::evaluate(g, {x}, 1)[0];
  for (size_t i = 0; i < x.size(); ++i)
    EXPECT_EQ(bits(y[i]), bits((x[i] - mean[i % 3]) / keras_denominator(var[i % 3]))) << i;
}

TEST(PreprocessingLowering, NormalizationAxesSpanAndInvert) {
  // axis (1, 3) of (3, 2, 5): statistics (3, 5), broadcast over the middle axis inside the span.
  std::vector<float> mean(15), var(15, 1.0f);
  for (size_t i = 0; i < 15; ++i) mean[i] = static_cast<float>(i);
  const auto weights = std::vector<load::NamedArray>{array("mean", {3, 5}, mean), array("variance", {3, 5}, var),
                                                     array("count", {}, {1})};
  const ir::Graph g = OneLayer(json::array({nullptr, 3, 2, 5}), "Normalization", {{"axis", json::array({1, 3})}},
                               weights).graph();
  const auto& a = only_op<ir::ChannelMapAttrs>(g);
  EXPECT_EQ(a.channels, 30);
  for (size_t i = 0; i < 3; ++i)
    for (size_t j = 0; j < 2; ++j)
      for (size_t k = 0; k < 5; ++k) EXPECT_EQ(g.weights[a.a].data[(i * 2 + j) * 5 + k], mean[i * 5 + k]);
  // axis=None: one statistic; invert=True: x * d + mean.
  const ir::Graph n = OneLayer(json::array({nullptr, 6}), "Normalization", {{"axis", nullptr}, {"invert", true}},
                               {array("mean", {}, {2.0f}), array("variance", {}, {9.0f}), array("count", {}, {1})})
                          .graph();
  const auto& b = only_op<ir::ChannelMapAttrs>(n);
  EXPECT_EQ(b.form, ir::ChannelMapForm::MulAdd);
  EXPECT_EQ(b.channels, 1);
  EXPECT_EQ(b.inner, 6);
  EXPECT_EQ(n.weights[b.a].data, std::vector<float>{3.0f});
  EXPECT_EQ(n.weights[b.b].data, std::vector<float>{2.0f});
}

TEST(PreprocessingLowering, NormalizationFromConfigPerVersion) {
  // Scalars broadcast to every channel; lists per channel; no weights in the file.
  const ir::Graph s = OneLayer(json::array({nullptr, 2, 4}), "Normalization", {{"mean", 1.5}, {"variance", 4.0}}).graph();
  const auto& a = only_op<ir::ChannelMapAttrs>(s);
  EXPECT_EQ(s.weights[a.a].data, std::vector<float>(4, 1.5f));
  EXPECT_EQ(s.weights[a.b].data, std::vector<float>(4, 2.0f));
  // axis (1, 2) of (2, 4, 3) with a mean of shape (4,): tf.keras broadcasts it against the kept shape (2, 4);
  // Keras 3 against (1, 2, 4, 1), where (4,) meets the size-1 channel axis and fails, as in Keras.
  const json cfg = {{"axis", json::array({1, 2})}, {"mean", {1, 2, 3, 4}}, {"variance", 1.0}};
  const ir::Graph k2 = OneLayer(json::array({nullptr, 2, 4, 3}), "Normalization", cfg, {}, "2.15.0", "tensorflow").graph();
  const auto& b = only_op<ir::ChannelMapAttrs>(k2);
  EXPECT_EQ(b.channels, 8);
  EXPECT_EQ(b.inner, 3);
  EXPECT_EQ(k2.weights[b.a].data, (std::vector<float>{1, 2, 3, 4, 1, 2, 3, 4}));
  const std::string e = OneLayer(json::array({nullptr, 2, 4, 3}), "Normalization", cfg).error();
  EXPECT_NE(e.find("mean has 4 values along an axis of size 1"), std::string::npos) << e;
}

TEST(PreprocessingLowering, NormalizationProblems) {
  const std::string w = OneLayer(json::array({nullptr, 3}), "Normalization", {{"axis", -1}},
                                 {array("mean", {4}, {0, 0, 0, 0}), array("variance", {4}, {1, 1, 1, 1}),
                                  array("count", {}, {1})})
                            .error();
  EXPECT_NE(w.find("mean 'mean' holds 4 values but the axis setting implies 3"), std::string::npos) << w;
  EXPECT_NE(OneLayer(json::array({nullptr, 3}), "Normalization", {{"mean", 1.0}}).error().find("variance is not"),
            std::string::npos);
  EXPECT_NE(OneLayer(json::array({nullptr, 3}), "Normalization", {{"axis", 0}}).error().find("batch axis"),
            std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// CenterCrop and Resizing

TEST(PreprocessingLowering, CenterCropCropsOrResizes) {
  const ir::Graph g = OneLayer(json::array({nullptr, 7, 8, 3}), "CenterCrop", {{"height", 4}, {"width", 5}}).graph();
  const auto& a = only_op<ir::PadCropAttrs>(g);
  EXPECT_EQ(a.before, (std::vector<int64_t>{0, -1, -1, 0}));  // margins 3 and 3: floor(3 / 2) before
  EXPECT_EQ(a.after, (std::vector<int64_t>{0, -2, -2, 0}));
  EXPECT_EQ(g.tensors[g.outputs[0]].shape, (ir::Shape{4, 5, 3}));
  // Smaller than the crop in height: Keras's smart_resize, bilinear over the aspect-ratio window.
  const ir::Graph u = OneLayer(json::array({nullptr, 4, 6, 3}), "CenterCrop", {{"height", 6}, {"width", 5}}).graph();
  const auto& r = only_op<ir::ResizeAttrs>(u);
  EXPECT_EQ(r.method, ir::ResizeMethod::Bilinear);
  EXPECT_EQ(r.rows.size(), 6u);
  EXPECT_EQ(r.cols.size(), 5u);
  // window: 4 rows from 0; int(4 * 5 / 6) = 3 columns from int((6 - 3) / 2) = 1
  for (const ir::ResizeTap& t : r.cols) EXPECT_TRUE(t.lo >= 1 && t.hi <= 3) << t.lo << " " << t.hi;
  EXPECT_NE(r.rule.find("columns [1, 4)"), std::string::npos) << r.rule;
}

namespace {

std::vector<int32_t> nearest_rows(int64_t n, int64_t m, const std::string& version, const std::string& backend) {
  const ir::Graph g = OneLayer(json::array({nullptr, n, 1, 1}), "Resizing",
                               {{"height", m}, {"width", 1}, {"interpolation", "nearest"}}, {}, version, backend)
                          .graph();
  std::vector<int32_t> rows;
  for (const ir::ResizeTap& t : only_op<ir::ResizeAttrs>(g).rows) rows.push_back(t.lo);
  return rows;
}

}  // namespace

// The nearest-pixel rules differ between the frameworks for some sizes (values measured with the pinned
// TensorFlow 2.15 and jaxlib, ops_preprocessing's fixtures prep_resize_nearest_rounding cover 6 -> 37).
TEST(PreprocessingLowering, NearestRulePerFramework) {
  const auto tf = nearest_rows(6, 37, "2.15.0", "tensorflow"), jax = nearest_rows(6, 37, "3.12.0", "jax");
  EXPECT_EQ(tf[18], 2);
  EXPECT_EQ(jax[18], 3);
  EXPECT_EQ(nearest_rows(6, 37, "3.12.0", "tensorflow"), tf);  // Keras 3 on TensorFlow: TensorFlow's rule
  const auto np = nearest_rows(2, 41, "3.12.0", "numpy");
  EXPECT_EQ(np[20], 1);
  EXPECT_EQ(nearest_rows(2, 41, "3.12.0", "jax")[20], 0);
  for (const auto& rows : {tf, jax})
    for (size_t i = 1; i < rows.size(); ++i) EXPECT_LE(rows[i - 1], rows[i]);
  const std::string e = OneLayer(json::array({nullptr, 4, 4, 1}), "Resizing", {{"height", 2}, {"width", 2}}, {},
                                 "3.12.0", "torch").error();
  EXPECT_NE(e.find("the 'torch' backend is not supported"), std::string::npos) << e;
}

// Bilinear taps: both rules put every output between its two source pixels with the weight of the upper
// one, agree to a few float32 ulps, and copy the edges.
TEST(PreprocessingLowering, BilinearTapsBothRules) {
  for (auto [n, m] : {std::pair<int64_t, int64_t>{4, 7}, {9, 4}, {5, 8}, {12, 5}, {3, 3}}) {
    auto taps = [&](const char* version, const char* backend) {
      const ir::Graph g = OneLayer(json::array({nullptr, n, 2, 1}), "Resizing", {{"height", m}, {"width", 2}}, {},
                                   version, backend).graph();
      return only_op<ir::ResizeAttrs>(g).rows;
    };
    const auto tf = taps("2.15.0", "tensorflow"), jax = taps("3.12.0", "jax");
    ASSERT_EQ(tf.size(), static_cast<size_t>(m));
    for (size_t i = 0; i < tf.size(); ++i) {
      const double exact = (static_cast<double>(i) + 0.5) * static_cast<double>(n) / static_cast<double>(m) - 0.5;
      for (const ir::ResizeTap& t : {tf[i], jax[i]}) {
        EXPECT_LE(t.lo, t.hi);
        EXPECT_GE(t.lo, 0);
        EXPECT_LT(t.hi, n);
        EXPECT_NEAR(t.lo + (t.hi - t.lo) * static_cast<double>(t.w), std::clamp(exact, 0.0, n - 1.0), 1e-5)
            << n << " -> " << m << " at " << i;
      }
    }
    if (n == m) {
      for (const ir::ResizeTap& t : jax) EXPECT_EQ(t.w, 0.0f);  // the identity
    }
  }
}

TEST(PreprocessingLowering, ResizingOptionsAndRefusals) {
  // crop_to_aspect_ratio (6, 9) -> (4, 4): the centre 6 x 6, columns from 1.
  const ir::Graph g = OneLayer(json::array({nullptr, 6, 9, 3}), "Resizing",
                               {{"height", 4}, {"width", 4}, {"crop_to_aspect_ratio", true}}).graph();
  EXPECT_NE(only_op<ir::ResizeAttrs>(g).rule.find("rows [0, 6), columns [1, 7)"), std::string::npos);
  // channels_first: (C, H, W) viewed as [C][H][W][1].
  const ir::Graph cf = OneLayer(json::array({nullptr, 3, 6, 5}), "Resizing",
                                {{"height", 4}, {"width", 3}, {"data_format", "channels_first"}}).graph();
  const auto& c = only_op<ir::ResizeAttrs>(cf);
  EXPECT_EQ(c.outer, 3);
  EXPECT_EQ(c.inner, 1);
  EXPECT_EQ(cf.tensors[cf.outputs[0]].shape, (ir::Shape{3, 4, 3}));
  // A window of int(1 * 1 / 4) = 0 columns: Keras 3 takes at least 1, tf.keras 2 fails (refused).
  const json thin = {{"height", 4}, {"width", 1}, {"crop_to_aspect_ratio", true}};
  EXPECT_EQ(OneLayer(json::array({nullptr, 1, 9, 1}), "Resizing", thin).error(), "");
  const std::string k2 = OneLayer(json::array({nullptr, 1, 9, 1}), "Resizing", thin, {}, "2.15.0", "tensorflow").error();
  EXPECT_NE(k2.find("crop_to_aspect_ratio leaves no pixel of an axis of size 9"), std::string::npos) << k2;
  auto error = [](json cfg) {
    cfg["height"] = 2, cfg["width"] = 2;
    return OneLayer(json::array({nullptr, 4, 4, 3}), "Resizing", cfg).error();
  };
  EXPECT_NE(error({{"interpolation", "bicubic"}}).find("interpolation 'bicubic' is not supported (nearest and bilinear are)"),
            std::string::npos);
  EXPECT_NE(error({{"interpolation", "lanczos3"}}).find("'lanczos3'"), std::string::npos);
  EXPECT_NE(error({{"pad_to_aspect_ratio", true}}).find("pad_to_aspect_ratio=True is not supported"), std::string::npos);
  EXPECT_NE(error({{"antialias", true}}).find("antialias=True is not supported"), std::string::npos);
  EXPECT_NE(OneLayer(json::array({nullptr, 4, 3}), "Resizing", {{"height", 2}, {"width", 2}}).error().find(
                "with 3 axes per sample"),
            std::string::npos);
}

// Before an LSTM: a map whose parameters are the same at every timestep streams (step() applies it per
// timestep); one whose statistics include the time axis does not, and the plan says why.
TEST(PreprocessingLowering, StreamingPerTimestep) {
  auto step_why_not = [](json norm_cfg, std::vector<load::NamedArray> stats) {
    OneLayer m(json::array({nullptr, 6, 5}), "Normalization", norm_cfg, stats);
    m.m.config["config"]["layers"].push_back(
        {{"class_name", "LSTM"}, {"config", {{"name", "lstm"}, {"units", 4}, {"return_sequences", true}}}});
    m.m.layers.push_back({"lstm", {array("kernel", {5, 16}, std::vector<float>(80, 0.1f)),
                                   array("recurrent_kernel", {4, 16}, std::vector<float>(64, 0.1f)),
                                   array("bias", {16}, std::vector<float>(16, 0.0f))}});
    const auto plan = plan::make_step_plan(m.graph());
    return plan ? plan->why_not : std::string("no plan");
  };
  EXPECT_EQ(step_why_not({{"axis", -1}}, {array("mean", {5}, std::vector<float>(5, 1.0f)),
                                          array("variance", {5}, std::vector<float>(5, 4.0f)), array("count", {}, {1})}),
            "");
  EXPECT_EQ(step_why_not({{"axis", nullptr}, {"mean", 1.0}, {"variance", 4.0}}, {}), "");
  const std::string over_time =
      step_why_not({{"axis", json::array({1, 2})}}, {array("mean", {6, 5}, std::vector<float>(30, 1.0f)),
                                                     array("variance", {6, 5}, std::vector<float>(30, 4.0f)),
                                                     array("count", {}, {1})});
  EXPECT_NE(over_time.find("has different parameters for each timestep"), std::string::npos) << over_time;
}

// ---------------------------------------------------------------------------------------------
// Unsupported built-in layers

TEST(PreprocessingLowering, BuiltinLayersAreNamedAsSuch) {
  EXPECT_EQ(lower::why_unsupported_builtin("RandomFlip"), "built-in Keras layer 'RandomFlip' is not supported by kc2cpp yet");
  EXPECT_EQ(lower::why_unsupported_builtin("Attention"), "built-in Keras layer 'Attention' is not supported by kc2cpp yet");
  EXPECT_NE(lower::why_unsupported_builtin("ThresholdedReLU"), "");  // tf.keras 2 only
  EXPECT_EQ(lower::why_unsupported_builtin("Zeropadding2D"), "");    // wrong case: not a Keras class
  EXPECT_EQ(lower::why_unsupported_builtin("MyScale"), "");
  const std::string e = OneLayer(json::array({nullptr, 4, 4, 3}), "RandomFlip", {}).error();
  EXPECT_NE(e.find("layer 'prep' (RandomFlip): built-in Keras layer 'RandomFlip' is not supported by kc2cpp yet"),
            std::string::npos) << e;
  const std::string c = OneLayer(json::array({nullptr, 3}), "MyScale", {}).error();
  EXPECT_NE(c.find("layer class 'MyScale' is not supported by kc2cpp yet (or is a custom class)"), std::string::npos) << c;
}

// ---------------------------------------------------------------------------------------------
// Kernels (host ISA path) against the evaluator.

namespace {

const std::vector<int> kSizes = {1, 3, 4, 7, 8, 15, 16, 17, 33};

std::vector<float> kernel_channel_map(const ir::Graph& g, const ir::ChannelMapAttrs& a, const std::vector<float>& x) {
  std::vector<float> y(x.size(), kNaN);
  const float* pa = g.weights[a.a].data.data();
  const float* pb = g.weights[a.b].data.data();
  const int o = static_cast<int>(a.outer), c = static_cast<int>(a.channels), i = static_cast<int>(a.inner);
  if (a.form == ir::ChannelMapForm::SubDiv) {
    kc::channel_sub_div(x.data(), pa, pb, y.data(), o, c, i);
  } else {
    kc::batchnorm<false>(x.data(), pa, pb, y.data(), o, c, i);
  }
  return y;
}

std::vector<kc::ResizeTap> kernel_taps(const std::vector<ir::ResizeTap>& t) {
  std::vector<kc::ResizeTap> k;
  for (const ir::ResizeTap& p : t) k.push_back({p.lo, p.hi, p.w});
  return k;
}

}  // namespace

TEST(PreprocessingKernels, ChannelMapEveryFormAndSize) {
  std::mt19937 rng(23);
  for (int channels : kSizes)
    for (int inner : {1, 3, 16, 17})
      for (bool invert : {false, true}) {
        const int outer = 2;
        std::vector<float> var = random_values(rng, static_cast<size_t>(channels));
        for (float& v : var) v = v * v;
        var[0] = 0.0f;  // epsilon
        const std::vector<float> mean = random_values(rng, static_cast<size_t>(channels));
        // Keras axis 2 of (outer, channels, inner).
        const ir::Graph g = OneLayer(json::array({nullptr, outer, channels, inner}), "Normalization",
                                     {{"axis", 2}, {"invert", invert}},
                                     {array("mean", {channels}, mean), array("variance", {channels}, var),
                                      array("count", {}, {1})})
                                .graph();
        const auto& a = only_op<ir::ChannelMapAttrs>(g);
        const std::vector<float> x = random_values(rng, static_cast<size_t>(outer * channels * inner), 50.0f);
        EXPECT_EQ(compare(kernel_channel_map(g, a, x), eval::evaluate(g, {x}, 1)[0]), "")
            << channels << " " << inner << " " << invert;
      }
}

TEST(PreprocessingKernels, ResizeBothMethodsAndRules) {
  std::mt19937 rng(29);
  struct Case {
    int64_t h, w, oh, ow;
    bool crop;
  };
  for (int inner : {1, 3, 8, 16, 17})
    for (const Case& k : {Case{4, 5, 7, 9, false}, Case{9, 7, 4, 3, false}, Case{3, 8, 5, 3, false},
                          Case{6, 9, 4, 4, true}, Case{8, 5, 3, 6, true}})
      for (const char* interp : {"nearest", "bilinear"})
        for (const char* backend : {"jax", "tensorflow"}) {
          const ir::Graph g = OneLayer(json::array({nullptr, k.h, k.w, inner}), "Resizing",
                                       {{"height", k.oh}, {"width", k.ow}, {"interpolation", interp},
                                        {"crop_to_aspect_ratio", k.crop}},
                                       {}, "3.12.0", backend).graph();
          const auto& a = only_op<ir::ResizeAttrs>(g);
          const std::vector<float> x = random_values(rng, static_cast<size_t>(k.h * k.w * inner));
          std::vector<float> y(static_cast<size_t>(k.oh * k.ow * inner), kNaN);
          const auto rows = kernel_taps(a.rows), cols = kernel_taps(a.cols);
          const int h = static_cast<int>(k.h), w = static_cast<int>(k.w), oh = static_cast<int>(k.oh),
                    ow = static_cast<int>(k.ow);
          if (a.method == ir::ResizeMethod::Nearest)
            kc::resize_nearest(x.data(), y.data(), 1, h, w, inner, rows.data(), oh, cols.data(), ow);
          else
            kc::resize_bilinear<false>(x.data(), y.data(), 1, h, w, inner, rows.data(), oh, cols.data(), ow);
          EXPECT_EQ(compare(y, eval::evaluate(g, {x}, 1)[0]), "")
              << inner << " " << k.h << "x" << k.w << " -> " << k.oh << "x" << k.ow << " " << interp << " " << backend;
        }
}
