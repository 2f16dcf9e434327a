// kc2cpp runtime: preprocessing kernels. Pasted inside `namespace <model> { namespace kc {` after
// kc2cpp_kernels_shape.h (whose batchnorm kernel also serves ir::ChannelMapForm::MulAdd). Includes nothing.
//
// Each kernel computes exactly the operation order documented beside its IR attrs in
// compiler/ir/ops_preprocessing.h (the reference evaluator, compiler/eval/ops_preprocessing.cpp, follows it
// too). Vectors run across independent elements only; whole vectors, then scalar tails.

// Normalization: y = (x - mean[c]) / d[c] over [outer][channels][inner] (difference rounded, then an IEEE
// division, the same in every path: no fused form exists).
inline void channel_sub_div(const float* x, const float* mean, const float* d, float* y, int outer, int channels,
                            int inner) {
  per_channel(x, mean, d, y, outer, channels, inner, [](auto v, auto m, auto s) { return div(sub(v, m), s); });
}
