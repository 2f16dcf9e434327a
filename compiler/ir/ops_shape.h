// Embedding, normalization and shape ops. A fragment of ir/ir.h: included there INSIDE namespace
// kc2cpp::ir, so it has no includes and no namespace of its own; do not include it directly.
//
// Geometry (outer/inner extents, per-axis amounts) is resolved by the lowering and stored in the
// attrs: the evaluator, the planner and the emitter never recompute it. Shape ops only copy (or
// write +0): their results are exact whatever order the elements are visited in.
//
// Reductions (LayerNorm) use 16 virtual accumulators, a number fixed here and never taken from the
// ISA (kLanes is 1, 4, 8 or 16; 16 is a multiple of each):
//   s_k = +0 (k < 16); element j (j = 0, 1, ..., n-1) is added into s_{j mod 16};
//   then the fixed tree  for h = 8, 4, 2, 1: s_k = s_k + s_{k+h} for k < h;  the sum is s_0.
#pragma once

// y[p, :] = table[i_p, :] for each index i_p of the input (in order), output_dim floats per index;
// an index that is not valid gives a row of +0 (no read of the table at all). Valid:
//   integer input (DType::I32, the model's Input declared with an integer dtype): 0 <= i < input_dim;
//   float input (the Input declared float32; Keras then casts to int32, truncating toward zero):
//   -1 < x < input_dim, i = trunc(x). NaN and +-Inf are invalid.
// Keras itself, for indices outside [0, input_dim): Keras 3 (JAX) returns NaN rows for i >= input_dim
// and for i < -input_dim and wraps -input_dim <= i < 0 to i + input_dim; tf.keras 2 on CPU raises
// InvalidArgumentError (TF on GPU returns zeros). kc2cpp returns zeros for all of them.
struct EmbeddingAttrs {
  int table = -1;  // weight [input_dim, output_dim], Keras's layout
  int64_t input_dim = 0, output_dim = 0;
};

// BatchNormalization at inference, standalone (passes::fold_batchnorm folds it into the preceding
// Dense/Conv when that is exact enough). The tensor is viewed as [outer][channels][inner]:
//   y = x * scale[c] + shift[c]   (product rounded, then the sum; FpMode::Fused: fma(x, scale, shift))
// with, per channel, computed in double from the float32 parameters and rounded to float once:
//   scale = gamma / sqrt(variance + float(epsilon)),  shift = beta - mean * scale
// (gamma = 1 when scale=False, beta = 0 when center=False). Keras computes the same structure in
// float32 (inv = rsqrt(var + eps) * gamma; y = x * inv + (beta - mean * inv)).
struct BatchNormAttrs {
  int scale = -1, shift = -1;  // weights [channels]: what the kernels read
  // Keras's own parameters (weights [channels]; gamma/beta -1 when absent), for folding.
  int gamma = -1, beta = -1, mean = -1, variance = -1;
  float epsilon = 1e-3f;
  int64_t outer = 1, channels = 1, inner = 1;
};

// LayerNormalization over n elements. The tensor is viewed as [outer][n][inner] (the normalised axes
// are contiguous; the lowering moves any other axis set there with Permute). Per (outer, inner) column
// x_0 .. x_{n-1}:
//   sum   of x_j with the 16 virtual accumulators (file comment)
//   mean  = sum / n                  (Centered form: sum * float(1/n), as TensorFlow's fused kernel)
//   sq    of d_j * d_j, d_j = x_j - mean, with the 16 virtual accumulators (product rounded, then the
//         sum; FpMode::Fused: s = fma(d, d, s))
//   var   = sq / n                   (Centered form: sq * float(1/n))
//   r     = 1 / sqrt(var + epsilon)  (IEEE division and correctly rounded sqrt)
// Affine form (Keras 3; tf.keras 2 when it does not use its fused kernel):
//   inv_j = r * gamma_j   (r when there is no gamma)
//   res_j = beta_j - mean * inv_j   (FpMode::Fused: fma(-mean, inv_j, beta_j); no beta: -(mean * inv_j))
//   y_j   = x_j * inv_j + res_j     (FpMode::Fused: fma(x_j, inv_j, res_j))
// Centered form (tf.keras 2's fused path: normalised axes trailing and contiguous, epsilon >= 1.001e-5):
//   t = (x_j - mean) * r;  with gamma: t = t * gamma_j;  with beta: y_j = t + beta_j
//   (FpMode::Fused with both gamma and beta: y_j = fma(t, gamma_j, beta_j))
// gamma, beta: weights [n] indexed by j (Keras's parameter reshaped to the normalised axes in order).
enum class LayerNormForm { Affine, Centered };
struct LayerNormAttrs {
  int gamma = -1, beta = -1;
  float epsilon = 1e-3f;
  LayerNormForm form = LayerNormForm::Affine;
  int64_t outer = 1, n = 1, inner = 1;
};

// Permute (and the axis moves of other lowerings): output axis k is input axis perm[k]. A copy:
// y is row-major with the 6 extents `dims`; a step along output axis k moves strides[k] elements in x.
// (The lowering drops extent-1 axes, merges axes that stay adjacent, pads in front with extent 1.)
struct PermuteAttrs {
  std::vector<int> perm;                // over the per-sample axes, as Keras's dims minus 1
  std::vector<int64_t> dims, strides;   // 6 each
};

// ZeroPadding1D/2D/3D (amounts > 0) and Cropping1D/2D/3D (amounts < 0) on the tensor viewed as
// 4 axes `in` (leading axes padded with extent 1 and amount 0), per axis a:
//   out[a] = in[a] + before[a] + after[a];
//   y[i] = x[i - before] when every axis has 0 <= i[a] - before[a] < in[a], else +0.
struct PadCropAttrs {
  std::vector<int64_t> in, before, after;  // 4 each
};

// Nearest-neighbour repetition on the tensor viewed as 4 axes `in` (padded as above):
//   y[i0, i1, i2, i3] = x[i0 / f0, i1 / f1, i2 / f2, i3 / f3], out[a] = in[a] * f[a].
// UpSampling1D/2D/3D (interpolation "nearest") and RepeatVector ([1][1][1][F] repeated n times on axis 2).
struct RepeatAttrs {
  std::vector<int64_t> in, factors;  // 4 each
};

// Image resizing on the tensor viewed as [outer][in_h][in_w][inner] -> [outer][out_h][out_w][inner]
// (UpSampling2D bilinear; Resizing and CenterCrop, nearest and bilinear, with crop_to_aspect_ratio).
// Per output row i and column j the lowering resolves, at compile time, the taps: source indices
// lo <= hi (into the whole input: a crop only offsets them) and the weight w of hi, each a float32
// computed by the rule of the Keras version that saved the file (lower/layers_preprocessing.cpp,
// resize_taps). The evaluator and the generated code only read the tables.
//   Nearest:  y[i][j] = x[rows[i].lo][cols[j].lo]   (a copy; hi and w unused)
//   Bilinear: with tl = x[rows.lo][cols.lo], tr = x[rows.lo][cols.hi], bl = x[rows.hi][cols.lo],
//             br = x[rows.hi][cols.hi], wx = cols[j].w, wy = rows[i].w, in TensorFlow's order:
//     top = tl + (tr - tl) * wx;  bottom = bl + (br - bl) * wx;  y = top + (bottom - top) * wy
//     (each a * b + c is the product rounded, then the sum; FpMode::Fused: fma).
// UpSampling2D's taps (integer factor f, input size n, output index i = f*k + q; TensorFlow's
// resize_bilinear(half_pixel_centers=True) up to the rounding of w; jax.image.resize likewise):
//   2q+1 < f:  lo = max(k-1, 0), hi = k,            w = float(2q+1+f) / float(2f)
//   2q+1 = f:  lo = hi = k,                          w = 0
//   2q+1 > f:  lo = k,           hi = min(k+1, n-1), w = float(2q+1-f) / float(2f)
// (each w one correctly rounded division of exact integers).
enum class ResizeMethod { Nearest, Bilinear };
struct ResizeTap {
  int32_t lo = 0, hi = 0;
  float w = 0.0f;
};
struct ResizeAttrs {
  ResizeMethod method = ResizeMethod::Bilinear;
  int64_t outer = 1, in_h = 1, in_w = 1, inner = 1;
  std::vector<ResizeTap> rows, cols;  // out_h and out_w entries
  std::string rule;                   // for the emitted comment: which tap rule the lowering used
};

// The weights of these ops that the generated code reads exactly as stored (plan::pack_weights),
// with the layout note for the emitted comment; {} for every other op kind.
template <class A>
std::vector<std::pair<int, std::string>> unpadded_weights(const A&) {
  return {};
}
inline std::vector<std::pair<int, std::string>> unpadded_weights(const EmbeddingAttrs& a) {
  return {{a.table, "table [" + std::to_string(a.input_dim) + "][" + std::to_string(a.output_dim) + "]"}};
}
inline std::vector<std::pair<int, std::string>> unpadded_weights(const BatchNormAttrs& a) {
  const std::string n = "[" + std::to_string(a.channels) + "]";
  return {{a.scale, "scale = gamma / sqrt(variance + epsilon) " + n}, {a.shift, "shift = beta - mean * scale " + n}};
}
inline std::vector<std::pair<int, std::string>> unpadded_weights(const LayerNormAttrs& a) {
  std::vector<std::pair<int, std::string>> w;
  if (a.gamma >= 0) w.push_back({a.gamma, "gamma [" + std::to_string(a.n) + "]"});
  if (a.beta >= 0) w.push_back({a.beta, "beta [" + std::to_string(a.n) + "]"});
  return w;
}
