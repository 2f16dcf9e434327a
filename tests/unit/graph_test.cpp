// Functional graphs: the DAG lowering from hand-written configs in the Keras 2 and Keras 3 forms
// (merges, shared layers, nested models, clear errors), weight sharing, liveness planning over a
// DAG, and the merge family's kernels (runtime_min/kc2cpp_kernels_merge.h, compiled here for the
// host's ISA path) against the reference evaluator, bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "error.h"
#include "unit_util.h"
#include "eval/eval.h"
#include "lower/lower.h"
#include "passes/passes.h"
#include "plan/plan.h"

#include "kc2cpp_isa.h"
namespace graph_test {
namespace kc {
#include "kc2cpp_simd.h"
#include "kc2cpp_math.h"
#include "kc2cpp_kernels.h"
#include "kc2cpp_kernels_merge.h"
}  // namespace kc
}  // namespace graph_test

using namespace kc2cpp;
namespace kc = graph_test::kc;
using json = nlohmann::json;

namespace {

// A reference to output `tensor` of call `node` of `layer`, in the file's Keras version's form.
json ref(int major, const std::string& layer, int node = 0, int tensor = 0) {
  if (major == 2) return json::array({layer, node, tensor, json::object()});
  return {{"class_name", "__keras_tensor__"},
          {"config", {{"shape", json::array()}, {"dtype", "float32"}, {"keras_history", {layer, node, tensor}}}}};
}

// One call on `args` (several: a list, as merge layers are called).
json call(int major, std::vector<json> args) {
  if (major == 2) return json(args);
  json a = args.size() == 1 ? args[0] : json(args);
  return {{"args", json::array({a})}, {"kwargs", json::object()}};
}

struct Functional {
  int major;
  load::KerasModel m;
  json layers = json::array();
  json inputs = json::array(), outputs = json::array();

  explicit Functional(int major) : major(major) {
    m.path = "graph.h5";
    m.keras_version = major == 2 ? "2.15.0" : "3.12.0";
  }
  Functional& input(const std::string& name, json batch_shape) {
    layers.push_back({{"class_name", "InputLayer"}, {"name", name},
                      {"config", {{"name", name}, {major == 2 ? "batch_input_shape" : "batch_shape", batch_shape}}},
                      {"inbound_nodes", json::array()}});
    inputs.push_back({name, 0, 0});
    return *this;
  }
  Functional& layer(const std::string& cls, const std::string& name, json cfg, std::vector<json> calls,
                    std::vector<std::vector<int64_t>> weight_shapes = {}) {
    cfg["name"] = name;
    layers.push_back({{"class_name", cls}, {"name", name}, {"config", cfg}, {"inbound_nodes", calls}});
    if (!weight_shapes.empty()) {
      load::LayerWeights w{name, {}};
      float v = 0.125f;
      for (const auto& s : weight_shapes) {
        int64_t n = 1;
        for (int64_t d : s) n *= d;
        std::vector<float> data(static_cast<size_t>(n));
        for (float& x : data) x = (v = -v * 1.25f);
        w.arrays.push_back({name + "/w" + std::to_string(w.arrays.size()), s, data});
      }
      m.layers.push_back(w);
    }
    return *this;
  }
  Functional& output(const std::string& name, int node = 0) {
    outputs.push_back({name, node, 0});
    return *this;
  }
  load::KerasModel model() {
    load::KerasModel k = m;
    k.config = {{"class_name", "Functional"},
                {"config", {{"name", "g"}, {"layers", layers}, {"input_layers", inputs}, {"output_layers", outputs}}}};
    return k;
  }
  ir::Graph graph() { return lower::lower(model()); }
  std::string error() {
    try {
      lower::lower(model());
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
};

const ir::Op* find_op(const ir::Graph& g, const std::string& kind) {
  for (const ir::Op& op : g.ops)
    if (kind == ir::op_kind_name(op.attrs)) return &op;
  return nullptr;
}

// Residual block: dense -> (dense2) -> Add(dense, dense2) -> head; both Keras forms.
Functional residual(int major) {
  Functional f(major);
  f.input("x", {nullptr, 4});
  f.layer("Dense", "a", {{"units", 4}}, {call(major, {ref(major, "x")})}, {{4, 4}, {4}});
  f.layer("Dense", "b", {{"units", 4}}, {call(major, {ref(major, "a")})}, {{4, 4}, {4}});
  f.layer("Add", "add", json::object(), {call(major, {ref(major, "a"), ref(major, "b")})});
  f.layer("Dense", "head", {{"units", 2}}, {call(major, {ref(major, "add")})}, {{4, 2}, {2}});
  f.output("head");
  return f;
}

TEST(GraphLower, ResidualInBothKerasForms) {
  for (int major : {2, 3}) {
    const ir::Graph g = residual(major).graph();
    const ir::Op* add = find_op(g, "Add");
    ASSERT_NE(add, nullptr) << major;
    ASSERT_EQ(add->inputs.size(), 2u);
    EXPECT_EQ(g.tensors[add->inputs[0]].name, "a") << major;
    EXPECT_EQ(g.tensors[add->inputs[1]].name, "b") << major;
    EXPECT_EQ(g.tensors[g.outputs[0]].shape, (ir::Shape{2}));
  }
}

TEST(GraphLower, ConfigOrderNeedNotBeTopological) {
  Functional f(3);
  f.input("x", {nullptr, 3});
  f.layer("Add", "add", json::object(), {call(3, {ref(3, "late"), ref(3, "x")})});
  f.layer("Dense", "late", {{"units", 3}}, {call(3, {ref(3, "x")})}, {{3, 3}, {3}});
  f.output("add");
  const ir::Graph g = f.graph();
  ASSERT_EQ(g.ops.size(), 2u);
  EXPECT_EQ(g.ops[0].name, "late");  // lowered first: the Add waits for it
}

TEST(GraphLower, SharedLayerIsOneWeightArray) {
  for (int major : {2, 3}) {
    Functional f(major);
    f.input("l", {nullptr, 3}).input("r", {nullptr, 3});
    f.layer("Dense", "shared", {{"units", 2}}, {call(major, {ref(major, "l")}), call(major, {ref(major, "r")})},
            {{3, 2}, {2}});
    f.layer("Concatenate", "cat", {{"axis", -1}}, {call(major, {ref(major, "shared", 0), ref(major, "shared", 1)})});
    f.output("cat");
    ir::Graph g = f.graph();
    passes::optimize(g);
    std::vector<int> kernels;
    for (const ir::Op& op : g.ops)
      if (const auto* d = std::get_if<ir::DenseAttrs>(&op.attrs)) kernels.push_back(d->kernel);
    ASSERT_EQ(kernels.size(), 2u) << major;
    EXPECT_EQ(kernels[0], kernels[1]) << major;
    EXPECT_EQ(g.inputs.size(), 2u);
    EXPECT_EQ(g.tensors[g.outputs[0]].shape, (ir::Shape{4}));
  }
}

TEST(GraphLower, NestedSequentialFindsItsWeightsByName) {
  for (int major : {2, 3}) {
    Functional f(major);
    f.input("x", {nullptr, 3});
    const json inner = {{"name", "base"},
                        {"layers", json::array({{{"class_name", "InputLayer"}, {"config", {{"name", "in"}, {"batch_shape", {nullptr, 3}}}}},
                                                {{"class_name", "Dense"}, {"config", {{"name", "d1"}, {"units", 2}}}},
                                                {{"class_name", "Dense"}, {"config", {{"name", "d2"}, {"units", 1}}}}})}};
    f.layers.push_back({{"class_name", "Sequential"}, {"name", "base"}, {"config", inner},
                        {"inbound_nodes", {call(major, {ref(major, "x")})}}});
    // One group for the nested model, its arrays named by path (Keras 3.3+: "base/d1/kernel";
    // tf.keras 2: "d1/kernel:0"), listed out of layer order to show that names decide.
    const std::string p = major == 2 ? "" : "base/";
    const std::string s = major == 2 ? ":0" : "";
    f.m.layers.push_back({"base", {{p + "d2/kernel" + s, {2, 1}, {1.0f, 2.0f}},
                                   {p + "d1/kernel" + s, {3, 2}, {1, 2, 3, 4, 5, 6}},
                                   {p + "d1/bias" + s, {2}, {0.5f, 0.25f}},
                                   {p + "d2/bias" + s, {1}, {-1.0f}}}});
    f.output("base", major == 2 ? 1 : 1);  // tf.keras 2 and Keras 3's output_layers count a nested model's calls from 1
    const ir::Graph g = f.graph();
    ASSERT_EQ(g.ops.size(), 2u) << major;
    EXPECT_EQ(g.ops[0].name, "base/d1");
    EXPECT_EQ(g.weights[std::get<ir::DenseAttrs>(g.ops[0].attrs).kernel].data, (std::vector<float>{1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(g.weights[std::get<ir::DenseAttrs>(g.ops[1].attrs).bias].data, (std::vector<float>{-1.0f}));
    const auto y = eval::evaluate(g, {{1.0f, 0.0f, -1.0f}}, 1);
    // d1 = [1 - 5 + 0.5, 2 - 6 + 0.25] = [-3.5, -3.75]; d2 = -3.5 - 7.5 - 1
    EXPECT_EQ(y[0], (std::vector<float>{-12.0f}));
  }
}

TEST(GraphLower, ClearErrors) {
  {  // a reference to a layer that is not there
    Functional f(3);
    f.input("x", {nullptr, 3});
    f.layer("Dense", "d", {{"units", 2}}, {call(3, {ref(3, "ghost")})}, {{3, 2}, {2}});
    f.output("d");
    EXPECT_NE(f.error().find("waits for 'ghost'"), std::string::npos) << f.error();
  }
  {  // a cycle
    Functional f(2);
    f.input("x", {nullptr, 3});
    f.layer("Add", "a", json::object(), {call(2, {ref(2, "x"), ref(2, "b")})});
    f.layer("Add", "b", json::object(), {call(2, {ref(2, "x"), ref(2, "a")})});
    f.output("b");
    EXPECT_NE(f.error().find("cycle"), std::string::npos) << f.error();
  }
  {  // shapes that do not broadcast; Subtract of three
    Functional f(3);
    f.input("x", {nullptr, 3}).input("y", {nullptr, 4});
    f.layer("Add", "add", json::object(), {call(3, {ref(3, "x"), ref(3, "y")})});
    f.layer("Subtract", "sub", json::object(), {call(3, {ref(3, "x"), ref(3, "x"), ref(3, "x")})});
    f.output("add").output("sub");
    const std::string e = f.error();
    EXPECT_NE(e.find("2 problems"), std::string::npos) << e;
    EXPECT_NE(e.find("layer 'add' (Add): cannot broadcast the input shapes (None, 3) and (None, 4)"), std::string::npos) << e;
    EXPECT_NE(e.find("Subtract takes exactly two"), std::string::npos) << e;
  }
  {  // a tensor passed by keyword (Keras 3) other than mask=
    Functional f(3);
    f.input("x", {nullptr, 3});
    json c = call(3, {ref(3, "x")});
    c["kwargs"]["initial_state"] = ref(3, "x");
    f.layer("Dense", "d", {{"units", 2}}, {c}, {{3, 2}, {2}});
    f.output("d");
    EXPECT_NE(f.error().find("as a keyword argument"), std::string::npos) << f.error();
  }
  {  // a model output that is not there
    Functional f(3);
    f.input("x", {nullptr, 3});
    f.layer("Dense", "d", {{"units", 2}}, {call(3, {ref(3, "x")})}, {{3, 2}, {2}});
    f.output("d", 4);
    EXPECT_NE(f.error().find("call 4 of layer 'd'"), std::string::npos) << f.error();
  }
}

// Planning over a DAG: tensors live at the same time never share arena floats.
// Keras 3 saves a Functional model's masks as operations and passes them as mask=: NotEqual(ids, 0)
// is a Mask op on the ids, and the LSTM reads it (bound to its input for that call).
TEST(GraphLower, Keras3MaskArgumentFromOperations) {
  const auto model = [](json mask_ref, int64_t steps) {
    Functional f(3);
    f.input("ids", {nullptr, 5}).input("other", {nullptr, steps});
    f.layer("Embedding", "emb", {{"input_dim", 10}, {"output_dim", 4}}, {call(3, {ref(3, "ids")})}, {{10, 4}});
    json ne = call(3, {ref(3, "ids")});
    ne["args"].push_back(0);
    f.layer("NotEqual", "ne", json::object(), {ne});
    json ne2 = call(3, {ref(3, "other")});
    ne2["args"].push_back(0.5);
    f.layer("NotEqual", "ne2", json::object(), {ne2});
    f.layer("LogicalOr", "or", json::object(), {call(3, {ref(3, "ne"), ref(3, "ne")})});
    json c = call(3, {ref(3, "emb")});
    c["kwargs"]["mask"] = mask_ref;
    f.layer("LSTM", "lstm", {{"units", 2}}, {c}, {{4, 8}, {2, 8}, {8}});
    f.output("lstm");
    return f;
  };
  Functional ok = model(ref(3, "or"), 5);
  const ir::Graph g = ok.graph();
  const ir::Op* rnn = find_op(g, "LSTM");
  ASSERT_NE(rnn, nullptr);
  EXPECT_TRUE(std::get<ir::RnnAttrs>(rnn->attrs).masked);
  const ir::Op* ne = find_op(g, "Mask");
  ASSERT_NE(ne, nullptr);
  EXPECT_EQ(std::get<ir::MaskAttrs>(ne->attrs).value, 0.0f);
  EXPECT_NE(find_op(g, "Maximum"), nullptr);  // LogicalOr of 0/1 values
  // A mask of another length than the input's timesteps is a clear error.
  const std::string e = model(ref(3, "ne2"), 4).error();
  EXPECT_NE(e.find("layer 'lstm' (LSTM): its mask= argument has shape (None, 4), not one value per timestep"),
            std::string::npos) << e;
}

// mask= as a list, one entry per input (Attention's [query_mask, value_mask]): each binds to its input;
// two masks for one tensor, or an entry that is not a tensor, are clear errors.
TEST(GraphLower, MaskListBindsPerInput) {
  const auto model = [](const json& mask, bool same) {
    Functional f(3);
    f.input("q", {nullptr, 4, 2}).input("v", {nullptr, 5, 2}).input("qm", {nullptr, 4}).input("vm", {nullptr, 5});
    json c = call(3, {ref(3, "q"), ref(3, same ? "q" : "v")});
    c["kwargs"]["mask"] = mask;
    f.layer("Attention", "att", json::object(), {c});
    f.output("att");
    return f;
  };
  Functional ok = model(json::array({ref(3, "qm"), ref(3, "vm")}), false);
  const ir::Graph g = ok.graph();
  int masks = 0;
  for (const ir::Op& op : g.ops) masks += std::holds_alternative<ir::MaskAttrs>(op.attrs);
  EXPECT_EQ(masks, 1);  // the value's mask as a bool; the query's multiplies the output as it is
  EXPECT_NE(find_op(g, "Subtract"), nullptr);
  EXPECT_NE(find_op(g, "Multiply"), nullptr);
  EXPECT_EQ(model(json::array({nullptr, ref(3, "vm")}), false).error(), "");
  std::string e = model(json::array({ref(3, "qm"), ref(3, "qm")}), true).error();
  EXPECT_NE(e.find("gives two masks to one tensor"), std::string::npos) << e;
  e = model(json::array({ref(3, "qm"), 3}), false).error();
  EXPECT_NE(e.find("mask= entry 3 is not a tensor"), std::string::npos) << e;
}

// Masks through merges, as each Keras version combines them: tf.keras 2 ANDs the masks there are
// (a product of the 0/1 masks), Keras 3 ORs them (a maximum) and gives none when an input has none.
TEST(GraphLower, MergeCombinesMasksPerKerasVersion) {
  for (int major : {2, 3}) {
    for (bool both : {true, false}) {
      Functional f(major);
      f.input("a", {nullptr, 6}).input("b", {nullptr, 6});
      f.layer("Embedding", "ea", {{"input_dim", 10}, {"output_dim", 4}, {"mask_zero", true}}, {call(major, {ref(major, "a")})},
              {{10, 4}});
      f.layer("Embedding", "eb", {{"input_dim", 10}, {"output_dim", 4}, {"mask_zero", both}}, {call(major, {ref(major, "b")})},
              {{10, 4}});
      f.layer("Add", "add", json::object(), {call(major, {ref(major, "ea"), ref(major, "eb")})});
      f.layer("GRU", "gru", {{"units", 2}}, {call(major, {ref(major, "add")})}, {{4, 6}, {2, 6}, {2, 6}});
      f.output("gru");
      const ir::Graph g = f.graph();
      const ir::Op* rnn = find_op(g, "GRU");
      ASSERT_NE(rnn, nullptr);
      SCOPED_TRACE("keras " + std::to_string(major) + (both ? ", both masked" : ", one masked"));
      EXPECT_EQ(std::get<ir::RnnAttrs>(rnn->attrs).masked, major == 2 || both);
      EXPECT_EQ(find_op(g, "Multiply") != nullptr, major == 2 && both);
      EXPECT_EQ(find_op(g, "Maximum") != nullptr, major == 3 && both);
    }
  }
}

// Keras 3's MultiHeadAttention removes the masks of the tensors it reads when it runs: another layer
// reading one of those masks sees it or not depending on Keras's execution order, so it is refused
// (in either order); tf.keras 2 leaves the masks, and both read them.
TEST(GraphLower, Keras3MultiHeadAttentionSharingAMaskIsRefused) {
  for (int major : {2, 3}) {
    for (bool attention_first : {true, false}) {
      Functional f(major);
      f.input("ids", {nullptr, 5});
      f.layer("Embedding", "emb", {{"input_dim", 10}, {"output_dim", 4}, {"mask_zero", true}},
              {call(major, {ref(major, "ids")})}, {{10, 4}});
      const auto attention = [&] { f.layer("Attention", "att", json::object(), {call(major, {ref(major, "emb"), ref(major, "emb")})}); };
      if (attention_first) attention();
      json c = call(major, {ref(major, "emb")});
      if (major == 3) c["args"].push_back(ref(3, "emb"));
      else c[0][3] = {{"value", json::array({"emb", 0, 0})}};
      f.layer("MultiHeadAttention", "mha", {{"num_heads", 1}, {"key_dim", 2}}, {c},
              {{4, 1, 2}, {1, 2}, {4, 1, 2}, {1, 2}, {4, 1, 2}, {1, 2}, {1, 2, 4}, {4}});
      const char* parts[] = {"query/kernel", "query/bias", "key/kernel", "key/bias", "value/kernel", "value/bias",
                             "attention_output/kernel", "attention_output/bias"};
      for (size_t i = 0; i < 8; ++i) f.m.layers.back().arrays[i].name = std::string("mha/") + parts[i];
      if (!attention_first) attention();
      f.output("att").output("mha");
      const std::string e = f.error();
      SCOPED_TRACE("keras " + std::to_string(major) + (attention_first ? ", Attention first" : ", MultiHeadAttention first"));
      if (major == 2) {
        EXPECT_EQ(e, "");
      } else {
        EXPECT_NE(e.find(attention_first ? "layer 'mha' (MultiHeadAttention): reads a tensor whose Keras mask another layer "
                                           "reads too"
                                         : "layer 'att' (Attention): reads a Keras mask that kc2cpp does not compute "
                                           "(Keras 3's MultiHeadAttention 'mha' removes the mask"),
                  std::string::npos) << e;
      }
    }
  }
}

TEST(GraphPlan, SkipConnectionStaysAliveAndNothingLiveOverlaps) {
  Functional f(3);
  f.input("x", {nullptr, 8});
  std::string prev = "x";
  for (int i = 0; i < 4; ++i) {  // a chain whose first tensor is read again at the end
    const std::string n = "d" + std::to_string(i);
    f.layer("Dense", n, {{"units", 8}}, {call(3, {ref(3, prev)})}, {{8, 8}, {8}});
    prev = n;
  }
  f.layer("Add", "skip", json::object(), {call(3, {ref(3, "d0"), ref(3, prev)})});
  f.output("skip");
  ir::Graph g = f.graph();
  passes::optimize(g);
  const plan::Plan p = plan::make_plan(g);
  std::vector<int> first(g.tensors.size(), -1), last(g.tensors.size(), -1);
  for (int i = 0; i < static_cast<int>(g.ops.size()); ++i) {
    for (int t : g.ops[i].inputs) last[t] = i;
    for (int t : g.ops[i].outputs) first[t] = i, last[t] = std::max(last[t], i);
  }
  for (int t : g.outputs) last[t] = static_cast<int>(g.ops.size());
  for (size_t a = 0; a < g.tensors.size(); ++a)
    for (size_t b = a + 1; b < g.tensors.size(); ++b) {
      if (first[a] < 0 || first[b] < 0 || first[a] > last[b] || first[b] > last[a]) continue;
      const int64_t na = ir::num_elements(g.tensors[a].shape), nb = ir::num_elements(g.tensors[b].shape);
      const int64_t oa = p.where[a].index, ob = p.where[b].index;
      EXPECT_TRUE(oa + na <= ob || ob + nb <= oa) << g.tensors[a].name << " and " << g.tensors[b].name << " overlap";
    }
  EXPECT_GT(p.arena_floats, 2 * 8);  // d0 is kept alive across the chain
}

// ---------------------------------------------------------------------------------------------
// Kernels against the evaluator.

using unit_test::compare;
using unit_test::random_values;

// A graph of one op reading `in_shapes`, evaluated.
std::vector<float> eval_one(ir::OpAttrs attrs, const std::vector<ir::Shape>& in_shapes, const ir::Shape& out,
                            const std::vector<std::vector<float>>& xs, ir::FpMode fp) {
  ir::Graph g;
  g.fp = fp;
  ir::Op op;
  op.attrs = std::move(attrs);
  for (const ir::Shape& s : in_shapes) g.inputs.push_back(g.add_tensor({"x", s})), op.inputs.push_back(g.inputs.back());
  op.outputs = {g.add_tensor({"y", out})};
  g.outputs = op.outputs;
  g.ops.push_back(op);
  return eval::evaluate(g, xs, 1)[0];
}

TEST(MergeKernels, BroadcastMaximumWithNaNMatchesEvaluator) {
  std::mt19937 rng(7);
  for (int n : {1, 3, 8, 15, 16, 17, 33}) {
    std::vector<float> a = random_values(rng, static_cast<size_t>(4 * n)), b = random_values(rng, static_cast<size_t>(n));
    a[0] = std::nanf(""), b[n - 1] = std::nanf("");
    std::vector<float> y(a.size());
    // (4, n) op (n,): b repeats along axis 0
    kc::merge2(a.data(), b.data(), y.data(), kc::Broadcast<2>{{4, n}, {n, 1}, {0, 1}}, kc::merge::Max{});
    const auto want = eval_one(ir::MergeAttrs{ir::MergeKind::Maximum, {}}, {{4, n}, {n}}, {4, n}, {a, b}, ir::FpMode::Unfused);
    EXPECT_EQ(compare(y, want), "") << n;
    EXPECT_TRUE(std::isnan(y[0]) && std::isnan(y[n - 1]) && std::isnan(y[3 * n + n - 1]));
  }
}

// Dense with one output column (dense_one): S <= 4 chains side by side, wider trees depth first
// (dot_tree), with and without a bias (--fp fused: the bias starts chain 0), against the evaluator.
template <int K, int S, bool HasBias, bool Fused>
void expect_dense_one_matches_evaluator(std::mt19937& rng) {
  constexpr int rows = 3;
  const auto x = random_values(rng, rows * K), w = random_values(rng, K), b = random_values(rng, 1);
  std::vector<float> y(rows);
  kc::dense<K, 1, S, rows, HasBias, Fused>(x.data(), w.data(), b.data(), y.data(), kc::act::Linear{});
  ir::Graph g;
  g.fp = Fused ? ir::FpMode::Fused : ir::FpMode::Unfused;
  ir::DenseAttrs d;
  d.units = 1, d.splits = S;
  d.kernel = g.add_weight({"d/kernel", {K, 1}, w});
  if (HasBias) d.bias = g.add_weight({"d/bias", {1}, b});
  ir::Op op;
  op.attrs = d;
  g.inputs.push_back(g.add_tensor({"x", {rows, K}}));
  op.inputs = {g.inputs[0]};
  op.outputs = {g.add_tensor({"y", {rows, 1}})};
  g.outputs = op.outputs;
  g.ops.push_back(op);
  EXPECT_EQ(compare(y, eval::evaluate(g, {x}, 1)[0]), "") << "K " << K << " S " << S << " bias " << HasBias
                                                          << " fused " << Fused;
}

TEST(DenseKernels, OneColumnMatchesEvaluator) {
  std::mt19937 rng(5);
  expect_dense_one_matches_evaluator<5, 5, true, false>(rng);
  expect_dense_one_matches_evaluator<32, 32, true, false>(rng);
  expect_dense_one_matches_evaluator<37, 7, false, false>(rng);
  expect_dense_one_matches_evaluator<37, 4, true, false>(rng);
  expect_dense_one_matches_evaluator<9, 3, false, false>(rng);
#if defined(KC2CPP_HAS_FMA)
  expect_dense_one_matches_evaluator<32, 4, true, true>(rng);
  expect_dense_one_matches_evaluator<37, 6, true, true>(rng);  // not a split the compiler picks today
  expect_dense_one_matches_evaluator<20, 20, false, true>(rng);
#endif
}

// Dense over rows (kc::dense with N > 1) on this binary's ISA path, against the evaluator, bit for
// bit, with the kernel and bias padded to row_floats(N) as the generated file stores them. Where
// row_block says so (32 vector registers) R rows share each weight load (chains_rows); the runtime
// tests' dense_rows op checks those paths (AVX-512, NEON) against the float definition.
template <int K, int N, int S, int Rows, bool HasBias, bool Fused>
void expect_dense_rows_match_evaluator(std::mt19937& rng) {
  constexpr int ldw = kc::row_floats(N);
  const auto x = random_values(rng, Rows * K), w = random_values(rng, K * N), b = random_values(rng, N);
  std::vector<float> wp(K * ldw + kc::kWSlack, 0.0f), bp(ldw + kc::kWSlack, 0.0f), y(Rows * N + kc::kPad);
  for (int i = 0; i < K; ++i)
    for (int j = 0; j < N; ++j) wp[i * ldw + j] = w[i * N + j];
  for (int j = 0; j < N; ++j) bp[j] = b[j];
  kc::dense<K, N, S, Rows, HasBias, Fused>(x.data(), wp.data(), bp.data(), y.data(), kc::act::Linear{});
  y.resize(Rows * N);
  ir::Graph g;
  g.fp = Fused ? ir::FpMode::Fused : ir::FpMode::Unfused;
  ir::DenseAttrs d;
  d.units = N, d.splits = S;
  d.kernel = g.add_weight({"d/kernel", {K, N}, w});
  if (HasBias) d.bias = g.add_weight({"d/bias", {N}, b});
  ir::Op op;
  op.attrs = d;
  g.inputs.push_back(g.add_tensor({"x", {Rows, K}}));
  op.inputs = {g.inputs[0]};
  op.outputs = {g.add_tensor({"y", {Rows, N}})};
  g.outputs = op.outputs;
  g.ops.push_back(op);
  EXPECT_EQ(compare(y, eval::evaluate(g, {x}, 1)[0]), "") << "K " << K << " N " << N << " S " << S << " rows "
                                                          << Rows << " bias " << HasBias << " fused " << Fused;
}

TEST(DenseKernels, RowsMatchEvaluator) {
  static_assert(kc::kMaxAcc < 24 || kc::row_block(4, 4).rows == 3, "AVX-512 and NEON block 3 rows at S = 4");
  std::mt19937 rng(9);
  expect_dense_rows_match_evaluator<64, 64, 4, 32, true, false>(rng);  // attention's projections, unfused
  expect_dense_rows_match_evaluator<70, 37, 4, 7, false, false>(rng);   // partial vectors, rows left over
  expect_dense_rows_match_evaluator<40, 130, 4, 5, true, false>(rng);   // a block of fewer vectors (RREM)
  expect_dense_rows_match_evaluator<20, 24, 20, 9, true, false>(rng);   // a tree (S > 4): one row at a time
  expect_dense_rows_match_evaluator<64, 64, 4, 1, true, false>(rng);    // one row
#if defined(KC2CPP_HAS_FMA)
  expect_dense_rows_match_evaluator<64, 128, 4, 32, true, true>(rng);
  expect_dense_rows_match_evaluator<7, 48, 4, 11, true, true>(rng);     // K % S != 0
  expect_dense_rows_match_evaluator<3, 64, 2, 13, true, true>(rng);     // S = 2: wider blocks
  expect_dense_rows_match_evaluator<2, 20, 1, 8, false, true>(rng);     // S = 1
  expect_dense_rows_match_evaluator<5, 33, 3, 6, true, true>(rng);      // S = 3
#endif
}

TEST(MergeKernels, MatMulAndL2NormalizeMatchEvaluator) {
  std::mt19937 rng(11);
  for (ir::FpMode fp : {ir::FpMode::Unfused, ir::FpMode::Fused}) {
#if !defined(KC2CPP_HAS_FMA)
    if (fp == ir::FpMode::Fused) continue;
#endif
    const auto a = random_values(rng, 3 * 37), b = random_values(rng, 5 * 37);
    std::vector<float> y(15), yn(3 * 37);
    ir::MatMulAttrs mm;
    mm.m = 3, mm.k = 37, mm.n = 5, mm.splits = passes::reduction_splits(37, fp);
    if (fp == ir::FpMode::Fused) {
#if defined(KC2CPP_HAS_FMA)
      kc::matmul_nt<3, 37, 5, 4, true>(a.data(), b.data(), y.data());
      kc::l2_normalize<true>(a.data(), yn.data(), 3, 37, 1e-14f);
#endif
    } else {
      kc::matmul_nt<3, 37, 5, 4, false>(a.data(), b.data(), y.data());
      kc::l2_normalize<false>(a.data(), yn.data(), 3, 37, 1e-14f);
    }
    ASSERT_EQ(mm.splits, 4);
    EXPECT_EQ(compare(y, eval_one(mm, {{3, 37}, {5, 37}}, {3, 5}, {a, b}, fp)), "");
    EXPECT_EQ(compare(yn, eval_one(ir::L2NormalizeAttrs{3, 37, 1e-14f}, {{3, 37}}, {3, 37}, {a}, fp)), "");
  }
  // Rows too long for matmul_nt's stack tile (K * kLanes > kMatMulTile) take the one-output form;
  // a partial tile of columns (N = 19) the tiled one.
  const auto a = random_values(rng, 2 * 3000), b = random_values(rng, 3 * 3000);
  const auto c = random_values(rng, 4 * 40), d = random_values(rng, 19 * 40);
  static_assert(3000 * kc::kLanes > kc::kMatMulTile && 40 * kc::kLanes <= kc::kMatMulTile, "both forms");
  std::vector<float> y(2 * 3), z(4 * 19);
  kc::matmul_nt<2, 3000, 3, 8, false>(a.data(), b.data(), y.data());
  // row_block's R rows of a per load of the tile (13 rows: whole blocks and rows left over)
  const auto e = random_values(rng, 2 * 13 * 16), f = random_values(rng, 2 * 20 * 16);
  std::vector<float> ye(2 * 13 * 20);
  kc::matmul_nt<13, 16, 20, 4, false, 2>(e.data(), f.data(), ye.data());
  ir::MatMulAttrs me;
  me.m = 13, me.k = 16, me.n = 20, me.splits = 4, me.batch = 2;
  EXPECT_EQ(compare(ye, eval_one(me, {{2, 13, 16}, {2, 20, 16}}, {2, 13, 20}, {e, f}, ir::FpMode::Unfused)), "");
  kc::matmul_nt<4, 40, 19, 3, false, 1>(c.data(), d.data(), z.data());
  ir::MatMulAttrs mm;
  mm.m = 2, mm.k = 3000, mm.n = 3, mm.splits = 8;
  EXPECT_EQ(compare(y, eval_one(mm, {{2, 3000}, {3, 3000}}, {2, 3}, {a, b}, ir::FpMode::Unfused)), "");
  mm.m = 4, mm.k = 40, mm.n = 19, mm.splits = 3;
  EXPECT_EQ(compare(z, eval_one(mm, {{4, 40}, {19, 40}}, {4, 19}, {c, d}, ir::FpMode::Unfused)), "");
}

}  // namespace

namespace {

// Concatenate of flat vectors: producers that run in slice order write in place; the others are copied.
TEST(GraphPlan, ConcatenateSlicesAreWrittenInPlaceInProducerOrder) {
  Functional f(3);
  f.input("x", {nullptr, 5});
  f.layer("Dense", "a", {{"units", 3}}, {call(3, {ref(3, "x")})}, {{5, 3}, {3}});
  f.layer("Dense", "b", {{"units", 4}}, {call(3, {ref(3, "x")})}, {{5, 4}, {4}});
  f.layer("Concatenate", "ab", {{"axis", -1}}, {call(3, {ref(3, "a"), ref(3, "b"), ref(3, "x")})});
  f.layer("Concatenate", "ba", {{"axis", -1}}, {call(3, {ref(3, "b"), ref(3, "a")})});
  f.output("ab").output("ba");
  ir::Graph g = f.graph();
  passes::optimize(g);
  const plan::Plan p = plan::make_plan(g);
  auto tensor = [&](const std::string& name) {
    for (size_t t = 0; t < g.tensors.size(); ++t)
      if (g.tensors[t].name == name) return static_cast<int>(t);
    return -1;
  };
  const plan::Location ab = p.where[tensor("ab")], a = p.where[tensor("a")], b = p.where[tensor("b")];
  EXPECT_EQ(a.index, ab.index);      // slice 0 of ab
  EXPECT_EQ(b.index, ab.index + 3);  // slice 1: b runs after a
  EXPECT_EQ(p.where[g.inputs[0]].kind, plan::Location::Input);  // x: a model input, copied
  // ba: a and b already belong to ab; ba copies both, and lives apart from ab (both are outputs).
  const plan::Location ba = p.where[tensor("ba")];
  EXPECT_TRUE(ba.index >= ab.index + 12 + plan::kPad || ab.index >= ba.index + 7 + plan::kPad);
  const auto y = eval::evaluate(g, {{1, 2, 3, 4, 5}}, 1);
  ASSERT_EQ(y[0].size(), 12u);
  EXPECT_EQ(std::vector<float>(y[0].begin() + 7, y[0].end()), (std::vector<float>{1, 2, 3, 4, 5}));
}

}  // namespace

namespace {

// Configs a damaged or crafted file may hold: each a clear error, never a crash.
TEST(GraphLower, MalformedConfigsAreClearErrors) {
  {  // a reshape whose target overflows 64 bits
    Functional f(3);
    f.input("x", {nullptr, 4});
    f.layer("Reshape", "r", {{"target_shape", {int64_t{1} << 40, int64_t{1} << 40, -1}}}, {call(3, {ref(3, "x")})});
    f.output("r");
    EXPECT_NE(f.error().find("layer 'r' (Reshape): target_shape"), std::string::npos) << f.error();
  }
  {  // one scalar per sample
    Functional f(3);
    f.input("x", {nullptr});
    f.layer("Dense", "d", {{"units", 2}}, {call(3, {ref(3, "x")})}, {{1, 2}, {2}});
    f.output("d");
    EXPECT_NE(f.error().find("one scalar per sample"), std::string::npos) << f.error();
  }
  {  // an InputLayer that is not one of the model's inputs
    Functional f(2);
    f.input("x", {nullptr, 3});
    f.layers.push_back({{"class_name", "InputLayer"}, {"name", "stray"},
                        {"config", {{"name", "stray"}, {"batch_input_shape", {nullptr, 3}}}}, {"inbound_nodes", json::array()}});
    f.layer("Add", "add", json::object(), {call(2, {ref(2, "x"), ref(2, "stray")})});
    f.output("add");
    EXPECT_NE(f.error().find("reads InputLayer 'stray', which is not one of the model's inputs"), std::string::npos)
        << f.error();
  }
  {  // a layer whose name is not a string; a dimension beyond the limit
    Functional f(3);
    f.input("x", {nullptr, int64_t{1} << 31});
    f.layer("Dense", "d", {{"units", 2}}, {call(3, {ref(3, "x")})});
    f.layers.back()["name"] = 5;
    f.layers.back()["config"]["name"] = 5;
    f.output("d");
    EXPECT_NE(f.error().find("has no name string"), std::string::npos) << f.error();
    f.layers.back()["name"] = "d";
    EXPECT_NE(f.error().find("more than 2^30 elements"), std::string::npos) << f.error();
  }
}

}  // namespace
