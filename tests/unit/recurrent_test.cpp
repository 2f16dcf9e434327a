// Recurrent family: lowering edge cases, passes, weight packing, the streaming (step) graph and
// its State layout, and the evaluator's step form against its sequence form.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "emit/emit.h"
#include "error.h"
#include "eval/eval.h"
#include "load/keras_model.h"
#include "lower/lower.h"
#include "passes/passes.h"
#include "plan/pack_recurrent.h"
#include "plan/plan.h"
#include "plan/step.h"

using namespace kc2cpp;
using nlohmann::json;

namespace {

// A Sequential model built in memory: input [steps, features], then the given layers, each with
// its weight shapes; weights are seeded random numbers in [-0.7, 0.7].
struct ModelBuilder {
  load::KerasModel m;
  std::mt19937 rng{7};

  explicit ModelBuilder(std::vector<int64_t> input, const std::string& version = "3.12.0") {
    m.path = "test.h5";
    m.keras_version = version;
    json shape = json::array({nullptr});
    for (int64_t d : input) shape.push_back(d);
    m.config = {{"class_name", "Sequential"},
                {"config", {{"name", "m"}, {"layers", json::array({{{"class_name", "InputLayer"},
                                                                     {"config", {{"name", "in"}, {"batch_shape", shape}}}}})}}}};
  }
  ModelBuilder& layer(const std::string& cls, json cfg, const std::vector<std::vector<int64_t>>& weights) {
    const std::string name = cfg.value("name", cls + std::to_string(m.layers.size()));
    cfg["name"] = name;
    m.config["config"]["layers"].push_back({{"class_name", cls}, {"config", cfg}});
    load::LayerWeights lw;
    lw.layer = name;
    std::uniform_real_distribution<float> u(-0.7f, 0.7f);
    for (size_t i = 0; i < weights.size(); ++i) {
      load::NamedArray a;
      a.name = name + "/w" + std::to_string(i);
      a.shape = weights[i];
      a.data.resize(static_cast<size_t>(ir::num_elements(a.shape)));
      for (float& v : a.data) v = u(rng);
      lw.arrays.push_back(a);
    }
    m.layers.push_back(lw);
    return *this;
  }
  ir::Graph graph() {
    ir::Graph g = lower::lower(m);
    passes::optimize(g);
    return g;
  }
};

json rnn_cfg(int64_t units, json extra = json::object()) {
  json c = {{"units", units}, {"activation", "tanh"}, {"recurrent_activation", "sigmoid"}, {"use_bias", true}};
  c.update(extra);
  return c;
}

std::string lower_error(ModelBuilder& b) {
  try {
    b.graph();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::vector<float> random_inputs(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.5f);
  std::vector<float> x(n);
  for (float& v : x) v = d(rng);
  return x;
}

// Runs the step graph of g over each sample's timesteps with the evaluator, state carried in
// the step graph's state tensors; returns the y_t of every step, sample after sample.
std::vector<float> evaluate_steps(const plan::StepPlan& sp, const std::vector<float>& x, int batch) {
  const ir::Graph& s = sp.graph;
  const size_t in = static_cast<size_t>(ir::num_elements(s.tensors[s.inputs[0]].shape));
  std::vector<float> out;
  for (int b = 0; b < batch; ++b) {
    std::vector<std::vector<float>> inputs(s.inputs.size());
    for (size_t k = 1; k < s.inputs.size(); ++k)
      inputs[k].assign(static_cast<size_t>(ir::num_elements(s.tensors[s.inputs[k]].shape)), 0.0f);
    for (int64_t t = 0; t < sp.sequence_length; ++t) {
      const size_t at = (static_cast<size_t>(b) * static_cast<size_t>(sp.sequence_length) + static_cast<size_t>(t)) * in;
      inputs[0].assign(x.begin() + static_cast<std::ptrdiff_t>(at), x.begin() + static_cast<std::ptrdiff_t>(at + in));
      const auto ys = eval::evaluate(s, inputs, 1);
      out.insert(out.end(), ys[0].begin(), ys[0].end());
      for (size_t k = 1; k < s.inputs.size(); ++k) inputs[k] = ys[k];  // state written -> state read
    }
  }
  return out;
}

// The step graph, evaluated timestep by timestep, gives the sequence graph's bits.
void expect_steps_match_predict(ModelBuilder& b, int batch = 5) {
  const ir::Graph g = b.graph();
  const plan::Plan p = plan::make_plan(g);
  ASSERT_TRUE(p.step);
  ASSERT_EQ(p.step->why_not, "");
  const std::vector<float> x = random_inputs(static_cast<size_t>(ir::num_elements(g.tensors[g.inputs[0]].shape) * batch), 3);
  const std::vector<float> whole = eval::evaluate(g, {x}, batch)[0];
  const std::vector<float> steps = evaluate_steps(*p.step, x, batch);
  const size_t per = whole.size() / static_cast<size_t>(batch);
  const size_t step_out = steps.size() / static_cast<size_t>(batch * p.step->sequence_length);
  for (int s = 0; s < batch; ++s) {
    for (int64_t t = 0; t < p.step->sequence_length; ++t) {
      if (!p.step->output_per_timestep && t + 1 < p.step->sequence_length) continue;
      for (size_t j = 0; j < step_out; ++j) {
        const float got = steps[(static_cast<size_t>(s * p.step->sequence_length + t)) * step_out + j];
        const float want = whole[static_cast<size_t>(s) * per + (p.step->output_per_timestep ? static_cast<size_t>(t) * step_out : 0) + j];
        ASSERT_EQ(std::memcmp(&got, &want, 4), 0) << "sample " << s << " t " << t << " j " << j << ": " << got << " vs " << want;
      }
    }
  }
}

}  // namespace

TEST(RecurrentLowering, LstmOpWeightsAndShapes) {
  ModelBuilder b({7, 3});
  b.layer("LSTM", rnn_cfg(5, {{"return_sequences", true}}), {{3, 20}, {5, 20}, {20}});
  const ir::Graph g = b.graph();
  ASSERT_EQ(g.ops.size(), 1u);
  const auto& a = std::get<ir::RnnAttrs>(g.ops[0].attrs);
  EXPECT_EQ(a.cell, ir::RnnCell::Lstm);
  EXPECT_EQ(a.units, 5);
  EXPECT_EQ(g.tensors[g.outputs[0]].shape, (ir::Shape{7, 5}));
  ASSERT_EQ(g.ops[0].outputs.size(), 2u);  // y, scratch
  EXPECT_EQ(g.tensors[g.ops[0].outputs[1]].shape, (ir::Shape{ir::rnn_scratch_floats(a)}));
  EXPECT_EQ(ir::rnn_scratch_floats(a), (2 * 4 + 4) * 16);
  EXPECT_EQ(a.x_splits, 3);  // a pairwise tree over the 3 inputs
  EXPECT_EQ(a.h_splits, 4);  // 4 chains over the 5 units (passes::recurrent_splits)
}

TEST(RecurrentLowering, SplitsFollowTheRecurrentRule) {
  ModelBuilder b({2, 70});
  b.layer("GRU", rnn_cfg(20), {{70, 60}, {20, 60}, {2, 60}});
  const auto& a = std::get<ir::RnnAttrs>(b.graph().ops[0].attrs);
  EXPECT_EQ(a.x_splits, 4);   // 70 > 32: four chains
  EXPECT_EQ(a.h_splits, 4);   // 4 chains, where a Dense over 20 inputs has a pairwise tree
  EXPECT_TRUE(a.reset_after);
}

TEST(RecurrentLowering, ReportsUnsupportedOptionsClearly) {
  {
    ModelBuilder b({4, 3});  // return_state on a Bidirectional (its four states): refused
    b.layer("Bidirectional", {{"layer", {{"class_name", "LSTM"}, {"config", rnn_cfg(2, {{"return_state", true}})}}}},
            {{3, 8}, {2, 8}, {8}, {3, 8}, {2, 8}, {8}});
    EXPECT_NE(lower_error(b).find("return_state=True is supported on SimpleRNN"), std::string::npos) << lower_error(b);
  }
  {
    ModelBuilder b({4, 3});
    b.layer("SimpleRNN", rnn_cfg(2, {{"activation", "softmax"}}), {{3, 2}, {2, 2}, {2}});
    EXPECT_NE(lower_error(b).find("softmax"), std::string::npos) << lower_error(b);
  }
  {
    ModelBuilder b({4, 3, 2});
    b.layer("GRU", rnn_cfg(2), {{2, 6}, {2, 6}, {2, 6}});
    EXPECT_NE(lower_error(b).find("[timesteps, features]"), std::string::npos) << lower_error(b);
  }
  {
    ModelBuilder b({4, 3});  // reset_after=False wants a (3u,) bias
    b.layer("GRU", rnn_cfg(2, {{"reset_after", false}}), {{3, 6}, {2, 6}, {2, 6}});
    EXPECT_NE(lower_error(b).find("bias"), std::string::npos) << lower_error(b);
  }
  {
    ModelBuilder b({4, 3});
    b.layer("RNN", {{"cell", json::array()}}, {});
    EXPECT_NE(lower_error(b).find("stacked cells"), std::string::npos) << lower_error(b);
  }
}

// ConvLSTM2D is one op (ir::ConvLstmAttrs) holding both convolutions' geometry, with a step form:
// h and c are State slots of [OH][OW][F] floats each.
TEST(RecurrentLowering, ConvLstmIsOneOpWithAStepForm) {
  const json cfg = {{"filters", 3}, {"kernel_size", 3}, {"strides", 2}, {"padding", "valid"}, {"return_sequences", true}};
  ModelBuilder b({4, 7, 7, 2});
  b.layer("ConvLSTM2D", cfg, {{3, 3, 2, 12}, {3, 3, 3, 12}, {12}});
  const ir::Graph g = b.graph();
  EXPECT_EQ(g.weights.size(), 3u);
  ASSERT_EQ(g.ops.size(), 1u);
  const auto* a = std::get_if<ir::ConvLstmAttrs>(&g.ops[0].attrs);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->input.geom.out_h, 3);
  EXPECT_EQ(a->input.geom.stride_w, 2);
  EXPECT_EQ(a->recurrent.geom.in_h, 3);
  EXPECT_EQ(a->recurrent.geom.stride_w, 1);
  EXPECT_EQ(a->recurrent.geom.pad_left, 1);  // padding same
  EXPECT_EQ(a->recurrent.bias, -1);
  EXPECT_EQ(g.tensors[g.outputs[0]].shape, (ir::Shape{4, 3, 3, 3}));
  const plan::Plan p = plan::make_plan(g);
  ASSERT_TRUE(p.step);
  ASSERT_EQ(p.step->why_not, "");
  ASSERT_EQ(p.step->slots.size(), 2u);
  EXPECT_EQ(p.step->slots[1].offset, 32);  // 27 floats of h, padded to 32
  EXPECT_TRUE(p.step->output_per_timestep);
}

TEST(RecurrentLowering, ConvLstmReturnStateAndLongSequences) {
  const json cfg = {{"filters", 2}, {"kernel_size", 3}, {"padding", "same"}, {"return_state", true}};
  ModelBuilder b({300, 4, 1});
  b.layer("ConvLSTM1D", cfg, {{3, 1, 8}, {3, 2, 8}, {8}});
  const ir::Graph g = b.graph();
  ASSERT_EQ(g.ops.size(), 1u);
  EXPECT_EQ(g.ops[0].outputs.size(), 4u);  // y, h, c, scratch
  const auto y = eval::evaluate(g, {random_inputs(1200, 5)}, 1);
  ASSERT_GE(y.size(), 1u);
  EXPECT_EQ(y[0].size(), 8u);
}

TEST(RecurrentLowering, LstmReturnStateGivesTheLastHAndC) {
  ModelBuilder b({5, 3});
  b.layer("LSTM", rnn_cfg(4, {{"return_state", true}, {"go_backwards", true}}), {{3, 16}, {4, 16}, {16}});
  const ir::Graph g = b.graph();
  ASSERT_EQ(g.ops.size(), 1u);
  ASSERT_EQ(g.ops[0].outputs.size(), 4u);  // y, h, c, scratch
  ir::Graph three = g;
  three.outputs = {g.ops[0].outputs[0], g.ops[0].outputs[1], g.ops[0].outputs[2]};
  const auto y = eval::evaluate(three, {random_inputs(15, 9)}, 1);
  ASSERT_EQ(y.size(), 3u);
  EXPECT_EQ(y[0], y[1]);  // without return_sequences the output is the last h
  EXPECT_NE(y[1], y[2]);
}

TEST(RecurrentLowering, ConvLstmRefusesWhatItDoesNotSupport) {
  const json cfg = {{"filters", 2}, {"kernel_size", 2}, {"padding", "valid"}};
  const std::vector<std::vector<int64_t>> w = {{2, 2, 1, 8}, {2, 2, 2, 8}, {8}};
  {
    ModelBuilder b({3, 4, 1});
    b.layer("ConvLSTM2D", cfg, w);
    EXPECT_NE(lower_error(b).find("expects a rank-5 input"), std::string::npos) << lower_error(b);
  }
  {
    ModelBuilder b({3, 4, 4, 1});
    b.layer("ConvLSTM2D", cfg, {{2, 2, 1, 8}, {3, 3, 2, 8}, {8}});
    EXPECT_NE(lower_error(b).find("kernel"), std::string::npos) << lower_error(b);
  }
  {
    ModelBuilder b({3, 4, 4, 1});
    json c = cfg;
    c["go_backwards"] = true;
    b.layer("ConvLSTM2D", c, w);
    const plan::Plan p = plan::make_plan(b.graph());
    ASSERT_TRUE(p.step);
    EXPECT_NE(p.step->why_not.find("go_backwards=True"), std::string::npos) << p.step->why_not;
  }
}

TEST(RecurrentLowering, BidirectionalSplitsWeightsAndMerges) {
  ModelBuilder b({5, 3});
  json fwd = {{"class_name", "GRU"}, {"config", rnn_cfg(4, {{"return_sequences", true}, {"reset_after", false}})}};
  json bwd = fwd;
  bwd["config"]["go_backwards"] = true;
  b.layer("Bidirectional", {{"layer", fwd}, {"backward_layer", bwd}, {"merge_mode", "concat"}},
          {{3, 12}, {4, 12}, {12}, {3, 12}, {4, 12}, {12}});
  const ir::Graph g = b.graph();
  ASSERT_EQ(g.ops.size(), 3u);
  const auto& f = std::get<ir::RnnAttrs>(g.ops[0].attrs);
  const auto& r = std::get<ir::RnnAttrs>(g.ops[1].attrs);
  EXPECT_FALSE(f.go_backwards);
  EXPECT_FALSE(f.reverse_output);
  EXPECT_TRUE(r.go_backwards);
  EXPECT_TRUE(r.reverse_output);
  EXPECT_NE(g.weights[f.kernel].name, g.weights[r.kernel].name);  // distinct emitted identifiers
  EXPECT_EQ(g.tensors[g.outputs[0]].shape, (ir::Shape{5, 8}));
}

TEST(RecurrentLowering, BidirectionalWithoutMergeGivesTwoOutputsOnlyAsLastLayer) {
  json fwd = {{"class_name", "SimpleRNN"}, {"config", rnn_cfg(2)}};
  const std::vector<std::vector<int64_t>> w = {{3, 2}, {2, 2}, {2}, {3, 2}, {2, 2}, {2}};
  {
    ModelBuilder b({4, 3});
    b.layer("Bidirectional", {{"layer", fwd}, {"merge_mode", nullptr}}, w);
    const ir::Graph g = b.graph();
    ASSERT_EQ(g.outputs.size(), 2u);
    EXPECT_EQ(g.tensors[g.outputs[0]].shape, (ir::Shape{2}));
  }
  {
    ModelBuilder b({4, 3});
    b.layer("Bidirectional", {{"layer", fwd}, {"merge_mode", nullptr}}, w);
    b.layer("Dense", {{"units", 1}}, {{2, 1}, {1}});
    EXPECT_NE(lower_error(b).find("follows a layer that gives 2 tensors"), std::string::npos) << lower_error(b);
  }
}

TEST(RecurrentLowering, TimeDistributedRunsTheLayerOnEachSlice) {
  ModelBuilder b({5, 3, 4});
  b.layer("TimeDistributed", {{"layer", {{"class_name", "PReLU"}, {"config", {{"shared_axes", {1}}}}}}}, {{1, 4}});
  b.layer("TimeDistributed", {{"layer", {{"class_name", "Flatten"}, {"config", json::object()}}}}, {});
  b.layer("TimeDistributed", {{"layer", {{"class_name", "Dense"}, {"config", {{"units", 2}}}}}}, {{12, 2}, {2}});
  const ir::Graph g = b.graph();
  ASSERT_EQ(g.ops.size(), 3u);
  EXPECT_EQ(g.ops[0].slices, 5);  // PReLU: alpha broadcast per slice [3, 4]
  EXPECT_EQ(g.weights[std::get<ir::PReluAttrs>(g.ops[0].attrs).alpha].shape, (ir::Shape{3, 4}));
  EXPECT_EQ(g.ops[0].keras_class, "TimeDistributed(PReLU)");
  EXPECT_EQ(g.ops[1].slices, 1);  // merge_slices: views and Dense run over the whole tensor
  EXPECT_EQ(g.ops[2].slices, 1);
  EXPECT_EQ(g.tensors[g.outputs[0]].shape, (ir::Shape{5, 2}));
  EXPECT_EQ(g.tensors[g.inputs[0]].shape, (ir::Shape{5, 3, 4}));  // the wrapper restores its input's shape
}

TEST(RecurrentLowering, TimeDistributedOverAnUnsupportedLayer) {
  ModelBuilder b({5, 3});
  b.layer("TimeDistributed", {{"layer", {{"class_name", "Lambda"}, {"config", json::object()}}}}, {});
  EXPECT_NE(lower_error(b).find("wraps a 'Lambda'"), std::string::npos) << lower_error(b);
}

TEST(RecurrentPasses, MergeSlicesKeepsOtherOpsSliced) {
  ir::Graph g;
  const int x = g.add_tensor({"x", {4, 3}});
  const int y = g.add_tensor({"y", {4, 3}});
  const int z = g.add_tensor({"z", {4, 3}});
  g.inputs = {x};
  ir::Op act{"a", "TimeDistributed(Activation)", {x}, {y}, ir::ActivationAttrs{}, {}, 4};
  ir::Op sm{"s", "TimeDistributed(Softmax)", {y}, {z}, ir::SoftmaxAttrs{0, false}, {}, 4};
  g.ops = {act, sm};
  g.outputs = {z};
  passes::merge_slices(g);
  EXPECT_EQ(g.ops[0].slices, 1);
  EXPECT_EQ(g.ops[1].slices, 4);  // a per-slice axis: stays sliced
}

TEST(RecurrentPlan, EachGatesColumnsAreOneRow) {
  ModelBuilder b({2, 2});
  b.layer("LSTM", rnn_cfg(3), {{2, 12}, {3, 12}, {12}});
  const ir::Graph g = b.graph();
  const auto packed = plan::pack_recurrent_weights(g, g.ops[0]);
  ASSERT_EQ(packed.size(), 3u);
  const ir::Weight& k = g.weights[std::get<ir::RnnAttrs>(g.ops[0].attrs).kernel];
  const plan::PackedWeight& p = packed[0].second;
  EXPECT_EQ(p.data, k.data);  // Keras's layout, [in][4 gates x units]
  EXPECT_EQ(p.row, 3);        // the emitter pads each gate's 3 columns per ISA
  EXPECT_EQ(plan::emitted_floats(p, 1), 2 * 12);
  EXPECT_EQ(plan::emitted_floats(p, 16), 2 * 64);
  for (const auto& [index, w] : packed) EXPECT_EQ(w.row, 3) << w.name;
}

TEST(RecurrentStep, StateLayoutAndStepGraph) {
  ModelBuilder b({6, 3});
  b.layer("LSTM", rnn_cfg(17, {{"return_sequences", true}}), {{3, 68}, {17, 68}, {68}});
  b.layer("GRU", rnn_cfg(2), {{17, 6}, {2, 6}, {2, 6}});
  b.layer("Dense", {{"units", 4}}, {{2, 4}, {4}});
  const ir::Graph g = b.graph();
  const plan::Plan p = plan::make_plan(g);
  ASSERT_TRUE(p.step);
  ASSERT_EQ(p.step->why_not, "");
  EXPECT_EQ(p.step->sequence_length, 6);
  EXPECT_FALSE(p.step->output_per_timestep);
  ASSERT_EQ(p.step->slots.size(), 3u);  // lstm h, lstm c, gru h
  EXPECT_EQ(p.step->slots[0].offset, 0);
  EXPECT_EQ(p.step->slots[1].offset, 32);
  EXPECT_EQ(p.step->slots[2].offset, 64);
  EXPECT_EQ(p.step->state_floats, 80 + 16);  // + kPad slack
  const ir::Graph& s = p.step->graph;
  EXPECT_EQ(s.tensors[s.inputs[0]].shape, (ir::Shape{3}));
  EXPECT_EQ(p.step->plan.where[s.inputs[1]].kind, plan::Location::State);
  EXPECT_EQ(p.step->plan.where[s.outputs[3]].index, 64);
  EXPECT_FALSE(p.step->plan.step);  // no step plan of the step graph
}

TEST(RecurrentStep, WhichModelsStream) {
  auto why = [](ModelBuilder& b) {
    const plan::Plan p = plan::make_plan(b.graph());
    return p.step ? p.step->why_not : std::string("(no step plan)");
  };
  {
    ModelBuilder b({4});
    b.layer("Dense", {{"units", 2}}, {{4, 2}, {2}});
    EXPECT_EQ(why(b), "(no step plan)");  // not recurrent: no State, no comment
  }
  {
    ModelBuilder b({4, 3});
    b.layer("GRU", rnn_cfg(2, {{"go_backwards", true}}), {{3, 6}, {2, 6}, {2, 6}});
    EXPECT_NE(why(b).find("go_backwards=True"), std::string::npos) << why(b);
  }
  {
    ModelBuilder b({4, 3});
    b.layer("Bidirectional", {{"layer", {{"class_name", "SimpleRNN"}, {"config", rnn_cfg(2)}}}, {"merge_mode", "sum"}},
            {{3, 2}, {2, 2}, {2}, {3, 2}, {2, 2}, {2}});
    EXPECT_NE(why(b).find("(Bidirectional) reads the sequence backwards"), std::string::npos) << why(b);
  }
  {
    ModelBuilder b({4, 3});
    b.layer("Flatten", json::object(), {});
    b.layer("Reshape", {{"target_shape", {4, 3}}}, {});
    b.layer("SimpleRNN", rnn_cfg(2), {{3, 2}, {2, 2}, {2}});
    EXPECT_NE(why(b).find("mixes timesteps"), std::string::npos) << why(b);
  }
  {
    ModelBuilder b({4, 3});
    b.layer("Softmax", {{"axis", 1}}, {});
    b.layer("SimpleRNN", rnn_cfg(2), {{3, 2}, {2, 2}, {2}});
    EXPECT_NE(why(b).find("over the time axis"), std::string::npos) << why(b);
  }
  {
    ModelBuilder b({4, 3});  // PReLU with one alpha per timestep
    b.layer("PReLU", json::object(), {{4, 3}});
    b.layer("SimpleRNN", rnn_cfg(2), {{3, 2}, {2, 2}, {2}});
    EXPECT_NE(why(b).find("different alpha"), std::string::npos) << why(b);
  }
}

TEST(RecurrentStep, EvaluatedStepsGivePredictBits) {
  {
    ModelBuilder b({9, 3});  // collapsing: y_t after the last step only
    b.layer("Dense", {{"units", 5}, {"activation", "relu"}}, {{3, 5}, {5}});
    b.layer("LSTM", rnn_cfg(17, {{"return_sequences", true}, {"recurrent_activation", "hard_sigmoid"}}),
            {{5, 68}, {17, 68}, {68}});
    b.layer("GRU", rnn_cfg(3, {{"reset_after", false}}), {{17, 9}, {3, 9}, {9}});
    b.layer("Dense", {{"units", 2}, {"activation", "softmax"}}, {{3, 2}, {2}});
    expect_steps_match_predict(b);
  }
  {
    ModelBuilder b({6, 2, 2});  // per timestep: TimeDistributed, PReLU shared over time, SimpleRNN sequence
    b.layer("TimeDistributed", {{"layer", {{"class_name", "Flatten"}, {"config", json::object()}}}}, {});
    b.layer("PReLU", {{"shared_axes", {1}}}, {{1, 4}});
    b.layer("SimpleRNN", rnn_cfg(33, {{"return_sequences", true}, {"use_bias", false}}), {{4, 33}, {33, 33}});
    b.layer("GRU", rnn_cfg(8, {{"return_sequences", true}}), {{33, 24}, {8, 24}, {2, 24}});
    b.layer("TimeDistributed", {{"layer", {{"class_name", "Dense"}, {"config", {{"units", 1}}}}}}, {{8, 1}, {1}});
    expect_steps_match_predict(b);
  }
  {
    ModelBuilder b({7});  // token ids (other families' per-timestep ops): Embedding, LayerNormalization
    b.layer("Embedding", {{"input_dim", 3}, {"output_dim", 4}}, {{3, 4}});
    b.layer("LayerNormalization", {{"axis", -1}, {"epsilon", 0.001}}, {{4}, {4}});
    b.layer("LSTM", rnn_cfg(5), {{4, 20}, {5, 20}, {20}});
    expect_steps_match_predict(b);
  }
  {
    ModelBuilder b({5, 5, 5, 2});  // ConvLSTM2D sequence, then a collapsing ConvLSTM2D, Flatten, Dense
    b.layer("ConvLSTM2D", {{"filters", 17}, {"kernel_size", 3}, {"padding", "same"}, {"return_sequences", true}},
            {{3, 3, 2, 68}, {3, 3, 17, 68}, {68}});
    b.layer("ConvLSTM2D", {{"filters", 3}, {"kernel_size", 2}, {"strides", 2}, {"padding", "valid"}, {"use_bias", false}},
            {{2, 2, 17, 12}, {2, 2, 3, 12}});
    b.layer("Flatten", json::object(), {});
    b.layer("Dense", {{"units", 2}}, {{12, 2}, {2}});
    expect_steps_match_predict(b, 2);
  }
  {
    ModelBuilder b({4, 2, 5, 5});  // channels_first ConvLSTM2D: between two Permutes keeping time first
    b.layer("ConvLSTM2D", {{"filters", 3}, {"kernel_size", 3}, {"padding", "same"}, {"return_sequences", true},
                           {"data_format", "channels_first"}},
            {{3, 3, 2, 12}, {3, 3, 3, 12}, {12}});
    expect_steps_match_predict(b, 2);
  }
  {
    ModelBuilder b({3, 3, 4, 4, 2});  // ConvLSTM3D: depth taps in both convolutions
    b.layer("ConvLSTM3D", {{"filters", 3}, {"kernel_size", 2}, {"padding", "same"}, {"return_sequences", true}},
            {{2, 2, 2, 2, 12}, {2, 2, 2, 3, 12}, {12}});
    expect_steps_match_predict(b, 2);
  }
}

TEST(RecurrentEval, GoBackwardsAndReverseOutputOrder) {
  // SimpleRNN(1) with linear activation and unit weights: h_t = x_t + h_{t-1} (no bias).
  ModelBuilder b({4, 1});
  b.layer("SimpleRNN", rnn_cfg(1, {{"activation", "linear"}, {"use_bias", false}, {"return_sequences", true},
                                   {"go_backwards", true}}), {{1, 1}, {1, 1}});
  for (auto& lw : b.m.layers)
    for (auto& a : lw.arrays) a.data = {1.0f};
  const ir::Graph g = b.graph();
  const auto y = eval::evaluate(g, {{1, 2, 3, 4}}, 1)[0];
  EXPECT_EQ(y, (std::vector<float>{4, 7, 9, 10}));  // processing order, returned reversed (Keras)
}

TEST(RecurrentEmit, StreamingApiOrAReason) {
  auto source = [](ModelBuilder& b) {
    const ir::Graph g = b.graph();
    emit::Options o;
    o.ns = "m";
    o.source_name = "m.h5";
    return emit::emit(g, plan::make_plan(g), o).source;
  };
  {
    ModelBuilder b({4, 3});
    b.layer("GRU", rnn_cfg(2), {{3, 6}, {2, 6}, {2, 6}});
    const std::string s = source(b);
    EXPECT_NE(s.find("struct State {"), std::string::npos);
    EXPECT_NE(s.find("inline constexpr int kSequenceLength = 4;"), std::string::npos);
    EXPECT_NE(s.find("void step(const float* input0, float* output0, State& state, Workspace& ws) {"), std::string::npos);
  }
  {
    ModelBuilder b({4, 3});
    b.layer("GRU", rnn_cfg(2, {{"go_backwards", true}}), {{3, 6}, {2, 6}, {2, 6}});
    const std::string s = source(b);
    EXPECT_EQ(s.find("struct State"), std::string::npos);
    EXPECT_NE(s.find("// No streaming API (State, reset, step) for this model: layer 'GRU0' (GRU) has go_backwards=True"),
              std::string::npos);
  }
}
