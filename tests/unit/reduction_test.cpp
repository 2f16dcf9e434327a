// The reduction order of Dense-like sums (ir::DenseAttrs), as the reference evaluator computes it:
// values are chosen so that the other natural groupings give a different float.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "error.h"
#include "eval/ops.h"

using namespace kc2cpp;

namespace {

float reduce(const std::vector<float>& x, int splits, ir::FpMode fp = ir::FpMode::Unfused) {
  const std::vector<float> w(x.size(), 1.0f);  // one column of ones: the products are x
  float y = 0;
  eval::reduce_columns(x.data(), static_cast<int64_t>(x.size()), w.data(), 1, 1, splits, fp, &y);
  return y;
}

TEST(Reduction, TreeSplitsAtTheLargestPowerOfTwoBelowTheCount) {
  // 2^24 + 1 rounds back to 2^24 (a tie, to even), so where the 1s meet the big values decides
  // the result.
  const float big = 0x1p24f;
  // 5 leaves: ((p0 + p1) + (p2 + p3)) + p4.
  const std::vector<float> x = {big, 1.0f, 1.0f, 1.0f, -big};
  EXPECT_EQ(reduce(x, 5), ((big + 1.0f) + (1.0f + 1.0f)) + -big);
  EXPECT_EQ(reduce(x, 5), 2.0f);
  // 3 leaves: (p0 + p1) + p2.
  EXPECT_EQ(reduce({big, 1.0f, -big}, 3), 0.0f);
  EXPECT_EQ(reduce({1.0f, 1.0f, big}, 3), big + 2.0f);
}

TEST(Reduction, ChainsTakeEveryStthTermInOrderThenTheTree) {
  const float big = 0x1p24f;
  // S = 2: s0 = p0 + p2 + p4, s1 = p1 + p3; total s0 + s1.
  const std::vector<float> x = {big, 1.0f, 1.0f, 1.0f, -big};
  const float s0 = (big + 1.0f) + -big, s1 = 1.0f + 1.0f;
  EXPECT_EQ(reduce(x, 2), s0 + s1);
  EXPECT_EQ(reduce(x, 2), 2.0f);
  // S = 1: one chain in index order.
  EXPECT_EQ(reduce(x, 1), (((big + 1.0f) + 1.0f) + 1.0f) + -big);
  EXPECT_EQ(reduce(x, 1), 0.0f);
}

TEST(Reduction, AChainStartsFromItsFirstProduct) {
  // 0 + (-0) would be +0; the chain starts from the product itself, so a sum of -0s stays -0.
  const float y = reduce({-0.0f, -0.0f, -0.0f}, 3);
  EXPECT_EQ(y, 0.0f);
  EXPECT_TRUE(std::signbit(y));
}

TEST(Reduction, FusedChainsRoundEachMultiplyAddOnce) {
  // x1 * w1 + p0 with one rounding: (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24 exactly, minus 1.
  const float a = 1.0f + 0x1p-12f;
  std::vector<float> x = {-1.0f, a}, w = {1.0f, a};
  float fused = 0, unfused = 0;
  eval::reduce_columns(x.data(), 2, w.data(), 1, 1, 1, ir::FpMode::Fused, &fused);
  eval::reduce_columns(x.data(), 2, w.data(), 1, 1, 1, ir::FpMode::Unfused, &unfused);
  EXPECT_EQ(fused, 0x1p-11f + 0x1p-24f);
  EXPECT_EQ(unfused, 0x1p-11f);  // a * a rounded to 1 + 2^-11 first (ties to even)
}

TEST(Reduction, FusedDenseBiasStartsTheFirstChainInTheSameRounding) {
  // x0 * w0 + b with one rounding: a * a - 1 = 2^-11 + 2^-24 exactly; the bias added to the
  // total instead would lose the 2^-24 (a * a rounds to 1 + 2^-11 only when rounded on its own).
  const float a = 1.0f + 0x1p-12f, b = -1.0f;
  std::vector<float> x = {a, 0x1p-30f}, w = {a, 1.0f};
  float y = 0;
  eval::reduce_columns(x.data(), 2, w.data(), 1, 1, 2, ir::FpMode::Fused, &y, &b);
  EXPECT_EQ(y, (0x1p-11f + 0x1p-24f) + 0x1p-30f);  // s0 = fma(x0, w0, b), s1 = x1 w1, s0 + s1
  EXPECT_THROW(eval::reduce_columns(x.data(), 2, w.data(), 1, 1, 2, ir::FpMode::Unfused, &y, &b), Error);
}

}  // namespace
