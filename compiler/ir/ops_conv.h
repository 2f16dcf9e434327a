// Convolution and pooling ops. A fragment of ir/ir.h: included there INSIDE namespace kc2cpp::ir,
// after Activation, so it has no includes and no namespace of its own; do not include it directly.
//
// Tensors are channels_last and viewed as [H][W][C] (1-D layers: H = 1, so a Keras [L, C] tensor is
// [1][L][C]). Geometry is resolved by the lowering and stored in the attrs: the evaluator, the
// planner and the emitter never recompute it.
//
// Taps and padding (every op below): output pixel (oh, ow) reads, for tap (kh, kw), input pixel
//   ih = oh * stride_h - pad_top + kh * dil_h,   iw = ow * stride_w - pad_left + kw * dil_w
// (transposed convolution: see ConvTransposeAttrs). A tap whose input pixel lies outside
// [0, in_h) x [0, in_w) is a padded tap: it is SKIPPED - no operation at all, not an addition of
// 0 * w - so padding never changes a result's bits beyond leaving that term out.
//
// Reduction order (the determinism contract shared by eval/ops_conv.cpp and
// runtime_min/kc2cpp_kernels_conv.h). Convolutions (ConvAttrs, ConvTransposeAttrs) sum in blocks:
// number the kernel positions r = (kh * k_w + kw) * C + c (C: input channels per group); block
// b holds the positions r in [b * kConvBlock, (b + 1) * kConvBlock). For each output element
//   s = +0; for each block b ascending that holds a valid tap:
//     p = +0; for its valid positions r ascending: p = p + x * w
//       (the product rounded, then the sum: FpMode::Unfused; p = fma(x, w, p): FpMode::Fused);
//     s = s + p
//   y = act(s + bias)            (no bias: y = act(s))
// A block sum is never -0 (it starts at +0), so the first block's s = +0 + p = p exactly; with at
// most kConvBlock positions (e.g. 3x3 kernels over 7 channels) the sum is one sequential chain.
// Blocks bound the rounding error of deep sums: ResNet50's 3x3x512 kernels sum 72 blocks of 64
// terms, not one chain of 4,608. DepthwiseConvAttrs (at most k_h * k_w terms) and PoolAttrs sum
// sequentially: s = +0 (pooling: the first valid tap), then the valid taps in (kh, kw) order.
// The kernels get their instruction-level parallelism from register blocks of output pixels x
// output channels, which never changes an output's sum.
#pragma once

// Kernel positions per block of a convolution's sum (above; kc2cpp_kernels_conv.h's kConvBlock).
constexpr int64_t kConvBlock = 64;

struct ConvGeom {
  int64_t in_h = 1, in_w = 1, in_c = 1;     // input viewed as [in_h][in_w][in_c]
  int64_t out_h = 1, out_w = 1, out_c = 1;  // output viewed as [out_h][out_w][out_c]
  int64_t k_h = 1, k_w = 1;                 // window (kernel or pool) size
  int64_t stride_h = 1, stride_w = 1;
  int64_t dil_h = 1, dil_w = 1;
  int64_t pad_top = 0, pad_left = 0;        // padded rows/columns before the input (see above)
  std::string padding;                      // Keras's name ("valid", "same", "causal"), for comments
};

// Conv1D / Conv2D: groups G, C/G input and F/G
// output channels per group; output channel f = g * (F/G) + j reads input channels
// [g * C/G, (g + 1) * C/G) of the receptive field.
// kernel: rearranged by the lowering to [G][k_h][k_w][C/G][F/G] (2-D shape [G*k_h*k_w*C/G, F/G]),
// i.e. one row per tap-channel in reduction order; bias [F].
struct ConvAttrs {
  ConvGeom geom;
  int64_t groups = 1;
  int kernel = -1, bias = -1;
  Activation act;
};

// DepthwiseConv1D/2D with depth multiplier 1 (a multiplier m > 1 is lowered to RepeatChannels(m)
// first): y[oh, ow, c] = act(sum over taps of x[ih, iw, c] * w[kh, kw, c] + b[c]), same order as
// above (one term per tap). kernel [k_h * k_w, C] (Keras's [k_h, k_w, C, m] read as C*m channels);
// bias [C]. out_c == in_c.
struct DepthwiseConvAttrs {
  ConvGeom geom;
  int kernel = -1, bias = -1;
  Activation act;
};

// Conv3D's depth taps as channels, so that a 2-D ConvAttrs on each output depth slice (Op::slices)
// does the rest: x [in_d][plane][C] -> y [out_d][plane][k_d * C],
//   y[od][p][kd * C + c] = x[id][p][c], id = od * stride_d - pad_front + kd * dil_d,
// or +0 where id lies outside [0, in_d) (a padded depth tap: the convolution then adds +0 * w,
// which leaves its sums' bits as skipping the tap would for finite weights).
struct DepthTapsAttrs {
  int64_t in_d = 1, out_d = 1, plane = 1, channels = 1;
  int64_t k_d = 1, stride_d = 1, dil_d = 1, pad_front = 0;
};

// y[..., c * times + m] = x[..., c] for m < times (a copy; prepares a depth multiplier).
struct RepeatChannelsAttrs {
  int64_t times = 1;
};

// Conv1DTranspose / Conv2DTranspose as a GATHER (a fixed order per output; no scatter):
//   output (oh, ow), tap (kh, kw) is valid iff  (oh + pad_top - kh * dil_h) is a multiple of
//   stride_h with ih = (oh + pad_top - kh * dil_h) / stride_h in [0, in_h)  (likewise for w);
//   then s over valid taps in (kh, kw, c) order as above, y = act(s + b[f]).
// pad_top/pad_left here are the transposed convolution's offsets (Keras 3: k_eff - 1 - left_pad of
// jax.lax.conv_transpose; tf.keras: the forward convolution's pad_before), not input padding.
// kernel: rearranged by the lowering from Keras's [k_h, k_w, F, C] to [k_h][k_w][C][F]
// (2-D shape [k_h*k_w*C, F]); bias [F].
struct ConvTransposeAttrs {
  ConvGeom geom;
  int kernel = -1, bias = -1;
  Activation act;
};

// MaxPooling1D/2D, AveragePooling1D/2D: per channel over the valid taps of the window, in (kh, kw)
// order. Max/AveragePooling3D are two of these ops: the (H, W) window on each depth slice
// (Op::slices), then the depth window over [D][1][OH*OW*C] (Max: the same result as one pass in
// (kd, kh, kw) order; Average: the average of the slices' averages). Max: m = first valid tap; then m = (x > m || x is NaN) ? x : m - NaN propagates (any NaN
// in the window gives NaN), among equal values (+0 == -0) the first one stays. Average:
// s = first valid tap; s = s + x for the others; y = s / n, n = the number of valid (non-padded)
// taps (exact in float). geom: out_c == in_c, no dilation. A window always holds a valid tap.
enum class PoolKind { Max, Average };
struct PoolAttrs {
  ConvGeom geom;
  PoolKind kind = PoolKind::Max;
};

// GlobalMaxPooling1D/2D/3D, GlobalAveragePooling1D/2D/3D (keepdims or not): over the `rows` = (D*)H*W
// positions in raster order, per channel, exactly as PoolAttrs with one window covering all.
struct GlobalPoolAttrs {
  PoolKind kind = PoolKind::Max;
  int64_t rows = 1, channels = 1;
};
