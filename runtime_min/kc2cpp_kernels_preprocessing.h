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
  for (int o = 0; o < outer; ++o) {
    const float* xo = x + o * channels * inner;
    float* yo = y + o * channels * inner;
    if (inner == 1) {
      int c = 0;
      for (; c + kLanes <= channels; c += kLanes)
        vstore(yo + c, div(sub(vload(xo + c), vload(mean + c)), vload(d + c)));
      for (; c < channels; ++c) yo[c] = div(sub(xo[c], mean[c]), d[c]);
      continue;
    }
    for (int c = 0; c < channels; ++c) {
      const float* xc = xo + c * inner;
      float* yc = yo + c * inner;
      const vf m = vsplat(mean[c]), s = vsplat(d[c]);
      int i = 0;
      for (; i + kLanes <= inner; i += kLanes) vstore(yc + i, div(sub(vload(xc + i), m), s));
      for (; i < inner; ++i) yc[i] = div(sub(xc[i], mean[c]), d[c]);
    }
  }
}
