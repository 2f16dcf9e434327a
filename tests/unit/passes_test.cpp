// Each pass alone, on small hand-built graphs.
#include <gtest/gtest.h>

#include <tuple>

#include "passes/passes.h"
#include "plan/plan.h"

using namespace kc2cpp;

namespace {

// input(8) -> Dense(4) -> [Identity] -> Activation(tanh) -> Reshape(2,2)
ir::Graph chain(bool identity) {
  ir::Graph g;
  int t = g.add_tensor({"in", {8}});
  g.inputs = {t};
  auto add = [&](ir::OpAttrs a, ir::Shape s, const char* name) {
    const int out = g.add_tensor({name, s});
    g.ops.push_back({name, name, {t}, {out}, a, {}});
    t = out;
  };
  ir::DenseAttrs d;
  d.units = 4;
  d.kernel = g.add_weight({"k", {8, 4}, std::vector<float>(32, 1.0f)});
  add(d, {4}, "dense");
  if (identity) add(ir::IdentityAttrs{}, {4}, "dropout");
  ir::Activation tanh;
  tanh.kind = ir::ActKind::Tanh;
  add(ir::ActivationAttrs{tanh}, {4}, "act");
  add(ir::ReshapeAttrs{}, {2, 2}, "reshape");
  g.outputs = {t};
  return g;
}

}  // namespace

TEST(Passes, RemoveIdentityRewiresConsumers) {
  ir::Graph g = chain(true);
  passes::remove_identity(g);
  ASSERT_EQ(g.ops.size(), 3u);
  EXPECT_EQ(g.ops[1].inputs[0], g.ops[0].outputs[0]);
}

TEST(Passes, FuseActivationIntoDense) {
  ir::Graph g = chain(false);
  passes::fuse_activation(g);
  ASSERT_EQ(g.ops.size(), 2u);
  const auto& d = std::get<ir::DenseAttrs>(g.ops[0].attrs);
  EXPECT_EQ(d.act.kind, ir::ActKind::Tanh);
  EXPECT_EQ(g.ops[1].inputs[0], g.ops[0].outputs[0]);
  EXPECT_EQ(g.ops[0].fused.size(), 1u);
}

TEST(Passes, NoFusionWhenDenseOutputIsAModelOutput) {
  ir::Graph g = chain(false);
  g.outputs = {g.ops[0].outputs[0]};
  passes::fuse_activation(g);
  EXPECT_EQ(g.ops.size(), 3u);
}

TEST(Passes, SplitsDependOnReductionLengthAndFpModeOnly) {
  using F = ir::FpMode;
  for (auto [n, fp, want] : {std::tuple{1, F::Unfused, 1}, {3, F::Unfused, 3}, {32, F::Unfused, 32}, {33, F::Unfused, 4},
                             {1000, F::Unfused, 4}, {1, F::Fused, 1}, {2, F::Fused, 1}, {3, F::Fused, 2},
                             {5, F::Fused, 3}, {8, F::Fused, 4}, {9, F::Fused, 4}, {32, F::Fused, 4},
                             {33, F::Fused, 4}}) {
    ir::Graph g;
    g.fp = fp;
    g.inputs = {g.add_tensor({"in", {n}})};
    ir::DenseAttrs d;
    d.units = 3;
    g.ops.push_back({"d", "Dense", {0}, {g.add_tensor({"d", {3}})}, d, {}});
    passes::choose_splits(g);
    EXPECT_EQ(std::get<ir::DenseAttrs>(g.ops[0].attrs).splits, want) << n;
    EXPECT_EQ(passes::reduction_splits(n, fp), want) << n;
  }
}

TEST(Passes, LongDenseSumsTakeFewEnoughChainsForOneBlock) {
  using F = ir::FpMode;
  // {n, columns, fp, splits}: below kLongSum, or over more than kOnePassFloats columns, as reduction_splits
  for (auto [n, cols, fp, want] :
       {std::tuple{1023, 128, F::Fused, 4}, {1023, 128, F::Unfused, 4}, {1024, 128, F::Fused, 3},
        {32768, 128, F::Unfused, 3}, {32768, 97, F::Fused, 3}, {32768, 96, F::Fused, 4}, {4096, 1, F::Unfused, 4},
        {4096, 192, F::Fused, 2}, {4096, 193, F::Unfused, 1}, {4096, 384, F::Fused, 1}, {4096, 385, F::Fused, 4},
        {4096, 1000, F::Unfused, 4}}) {
    ir::Graph g;
    g.fp = fp;
    g.inputs = {g.add_tensor({"in", {n}})};
    ir::DenseAttrs d;
    d.units = cols;
    g.ops.push_back({"d", "Dense", {0}, {g.add_tensor({"d", {cols}})}, d, {}});
    passes::choose_splits(g);
    EXPECT_EQ(std::get<ir::DenseAttrs>(g.ops[0].attrs).splits, want) << n << " x " << cols;
    EXPECT_EQ(passes::dense_splits(n, cols, fp), want) << n << " x " << cols;
  }
}

TEST(Passes, RecurrentSplitsAreFourChainsUnfused) {
  using F = ir::FpMode;
  for (auto [n, fp, want] : {std::tuple{1, F::Unfused, 1}, {3, F::Unfused, 3}, {4, F::Unfused, 4}, {5, F::Unfused, 4},
                             {32, F::Unfused, 4}, {1000, F::Unfused, 4}, {3, F::Fused, 2}, {32, F::Fused, 4}}) {
    EXPECT_EQ(passes::recurrent_splits(n, fp), want) << n;
    if (n <= 4) EXPECT_EQ(passes::recurrent_splits(n, fp), passes::reduction_splits(n, fp)) << n;
  }
}

TEST(Plan, ChainReusesBuffersAndViewsAlias) {
  ir::Graph g = chain(false);
  passes::optimize(g);
  const plan::Plan p = plan::make_plan(g);
  EXPECT_EQ(p.where[g.inputs[0]].kind, plan::Location::Input);
  const int dense_out = g.ops[0].outputs[0], reshape_out = g.ops[1].outputs[0];
  EXPECT_EQ(p.where[reshape_out].index, p.where[dense_out].index);  // a view
  EXPECT_EQ(p.where[dense_out].index % plan::kPad, 0);
  EXPECT_GE(p.arena_floats, 4 + plan::kPad);
  // packed kernel: Keras's [8][4] as is, rows of 4 marked for the emitter to pad per ISA
  const auto& w = p.weights[p.weight_slot[0]];
  ASSERT_EQ(w.data, g.weights[0].data);
  EXPECT_EQ(w.row, 4);
  EXPECT_EQ(plan::emitted_floats(w, 1), 8 * 4);
  EXPECT_EQ(plan::emitted_floats(w, 8), 8 * 8);
  EXPECT_EQ(plan::emitted_floats(w, 16), 8 * 16);
}

TEST(Plan, LiveTensorsNeverOverlap) {
  // in -> a -> b -> c, where every op reads the previous one: a and b are live together,
  // as are b and c; a and c may share.
  ir::Graph g;
  int t = g.add_tensor({"in", {100}});
  g.inputs = {t};
  for (int i = 0; i < 3; ++i) {
    ir::Activation r;
    r.kind = ir::ActKind::Relu;
    const int out = g.add_tensor({"t", {100}});
    g.ops.push_back({"r", "ReLU", {t}, {out}, ir::ActivationAttrs{r}, {}});
    t = out;
  }
  g.outputs = {t};
  const plan::Plan p = plan::make_plan(g);
  const int64_t a = p.where[1].index, b = p.where[2].index, c = p.where[3].index;
  const int64_t size = 112 + plan::kPad;
  EXPECT_TRUE(a + size <= b || b + size <= a);
  EXPECT_TRUE(b + size <= c || c + size <= b);
  EXPECT_EQ(p.arena_floats, 2 * size);
}
