// Merge ops: the ops that read several tensors (Keras's merging layers). A fragment of ir/ir.h:
// included there INSIDE namespace kc2cpp::ir, so it has no includes and no namespace of its own.
#pragma once

// Elementwise merge of n >= 2 inputs (Add, Subtract, Multiply, Average, Maximum, Minimum) with
// numpy broadcasting: shapes are aligned at their last axis, a missing leading axis or an axis
// of size 1 repeats; the output has the broadcast shape. Order (Keras's own loop):
//   y = x_0 op x_1; y = y op x_2; ...  (each op rounded once), left to right;
//   Average: then y = y / n (a division, not a multiply by 1/n); Subtract: exactly two inputs.
// Maximum/Minimum: the larger/smaller value; NaN if either operand is NaN.
// Divide: x_0 / x_1 (Keras 3's `x / y` operation, two inputs).
// Then the activation `act` (linear unless passes::fuse_activation moved one in).
enum class MergeKind { Add, Subtract, Multiply, Average, Maximum, Minimum, Divide };
const char* to_string(MergeKind k);

struct MergeAttrs {
  MergeKind kind = MergeKind::Add;
  Activation act;
};

// Keras 3's operations on a tensor and a Python number (`x + 3.0`, `x * (1 / 6)`, `1 - x`, saved
// as op entries of keras.src.ops): y = x op c, or c op x with `c_first`; one rounding per element.
// c is the number rounded to float32, as JAX and TensorFlow convert a Python float for a float32
// tensor. Average is not an operation; the other MergeKinds are.
struct ScalarOpAttrs {
  MergeKind kind = MergeKind::Add;
  float c = 0.0f;
  bool c_first = false;
};

// Concatenation along per-sample axis `axis` (0-based, no batch): each input's elements are
// copied unchanged, so the order of visits does not matter.
struct ConcatAttrs {
  int axis = 0;
};

// y[i, j] = sum_k a[i, k] * b[j, k] with a = input 0 as [m][k], b = input 1 as [n][k] (both with
// the contraction axis last), y [m][n]; `batch` such products one after another (inputs
// [batch][m][k] and [batch][n][k], output [batch][m][n]: attention heads). Keras's Dot after the
// lowering moved the contraction axes (Permute ops, then this), attention scores and outputs. Each
// sum follows the Dense reduction order (DenseAttrs) with `splits` virtual accumulators
// (passes::choose_splits, from k and the --fp mode).
struct MatMulAttrs {
  int64_t m = 1, k = 1, n = 1;
  int splits = 1;
  int64_t batch = 1;
};

// y = x * (1 / sqrt(max(s, floor))) over the last axis, s = sum of x_i * x_i in index order
// (s = x_0 x_0, then s = s + x_i x_i, each product and sum rounded; FpMode::Fused: one fma per
// term after the first). Keras's Dot(normalize=True): Keras 3 computes x * min(rsqrt(s), 1e7)
// (floor 1e-14), tf.keras 2 x * rsqrt(max(s, 1e-12)) (floor 1e-12); the lowering picks the floor.
struct L2NormalizeAttrs {
  int64_t rows = 1, n = 1;  // the input viewed as [rows][n]
  float floor = 1e-14f;
};
