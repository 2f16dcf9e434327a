// kc2cpp runtime: embedding, normalization and shape kernels. Pasted inside `namespace <model> {
// namespace kc {` after kc2cpp_kernels.h. Includes nothing.
//
// Each kernel computes exactly the operation order documented beside its IR attrs in
// compiler/ir/ops_shape.h (the reference evaluator, compiler/eval/ops_shape.cpp, follows it too).
// Vectors run across independent elements only; the one reduction (LayerNorm's sums) uses 16 virtual
// accumulators whatever kLanes is. Loops use whole vectors, then scalar tails: no kernel here writes
// past the extent it is given, nor reads past its input.

// Per-sample extents or amounts over 4 (or 6) axes, leading axes padded (extent 1, amount 0).
struct Dims4 {
  int d[4];
};
struct Dims6 {
  int d[6];
};

inline void fill_zero(float* y, int n) {
  int i = 0;
  for (; i + kLanes <= n; i += kLanes) vstore(y + i, vzero());
  for (; i < n; ++i) y[i] = 0.0f;
}

inline void copy_run(const float* x, float* y, int n) {
  int i = 0;
  for (; i + kLanes <= n; i += kLanes) vstore(y + i, vload(x + i));
  for (; i < n; ++i) y[i] = x[i];
}

// ---------------------------------------------------------------------------------------------
// Embedding

// The table row of an index, or false for an index outside [0, n) (ir::EmbeddingAttrs).
inline bool embedding_row(std::int32_t i, int n, int& row) {
  row = i;
  return i >= 0 && i < n;
}
// Float indices (an Input declared float32): Keras's cast to int32 truncates toward zero; NaN, +-Inf
// and values outside (-1, n) are invalid. The conversion happens only when it is defined.
inline bool embedding_row(float x, int n, int& row) {
  if (!(x > -1.0f && x < static_cast<float>(n))) return false;
  row = static_cast<int>(x);
  return true;
}

// y[p][0..dim) = table[index p][0..dim) for p < count; +0 for an invalid index.
template <class I>
inline void embedding(const I* indices, const float* table, float* y, int count, int input_dim, int dim) {
  for (int p = 0; p < count; ++p) {
    int row = 0;
    if (embedding_row(indices[p], input_dim, row)) copy_run(table + row * dim, y + p * dim, dim);
    else fill_zero(y + p * dim, dim);
  }
}

// ---------------------------------------------------------------------------------------------
// y = f(x, a[c], b[c]) over [outer][channels][inner], for vf and float alike (f: a generic lambda).
template <class F>
inline void per_channel(const float* x, const float* a, const float* b, float* y, int outer, int channels, int inner,
                        F f) {
  for (int o = 0; o < outer; ++o) {
    const float* xo = x + o * channels * inner;
    float* yo = y + o * channels * inner;
    if (inner == 1) {
      int c = 0;
      for (; c + kLanes <= channels; c += kLanes) vstore(yo + c, f(vload(xo + c), vload(a + c), vload(b + c)));
      for (; c < channels; ++c) yo[c] = f(xo[c], a[c], b[c]);
      continue;
    }
    for (int c = 0; c < channels; ++c) {
      const float* xc = xo + c * inner;
      float* yc = yo + c * inner;
      const vf s = vsplat(a[c]), t = vsplat(b[c]);
      int i = 0;
      for (; i + kLanes <= inner; i += kLanes) vstore(yc + i, f(vload(xc + i), s, t));
      for (; i < inner; ++i) yc[i] = f(xc[i], a[c], b[c]);
    }
  }
}

// BatchNormalization: y = x * scale[c] + shift[c] over [outer][channels][inner].
template <bool Fused>
inline void batchnorm(const float* x, const float* scale, const float* shift, float* y, int outer, int channels,
                      int inner) {
  per_channel(x, scale, shift, y, outer, channels, inner, [](auto v, auto s, auto t) { return madd<Fused>(v, s, t); });
}

// ---------------------------------------------------------------------------------------------
// LayerNormalization

constexpr int kSumLanes = 16;  // the virtual accumulators of ir/ops_shape.h (never kLanes)
static_assert(kSumLanes % kLanes == 0, "the virtual accumulators must fill whole vectors");

// The fixed tree: for h = 8, 4, 2, 1: s_k = s_k + s_{k+h} (k < h).
inline float sum_tree16(float (&s)[kSumLanes]) {
  for (int h = kSumLanes / 2; h >= 1; h /= 2)
    for (int k = 0; k < h; ++k) s[k] = add(s[k], s[k + h]);
  return s[0];
}

// Lane indices 0, 1, ..., kSumLanes - 1 (the tail mask of sum16).
alignas(64) inline constexpr float kSumLaneIndex[kSumLanes] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

// sum_tree16 on the accumulators held as kSumLanes / kLanes vectors (accumulator k in lane
// k mod kLanes of vector k / kLanes): the same adds, s[k] + s[k + h], in registers.
template <int NV>
inline float sum_tree16(vf (&acc)[NV]) {
  for (int h = NV / 2; h >= 1; h /= 2)  // h >= kLanes: whole vectors
    for (int v = 0; v < h; ++v) acc[v] = add(acc[v], acc[v + h]);
  return fold_lanes(acc[0], [](vf a, vf down) { return add(a, down); });
}

// Sum of x[j * stride], j < n (Sq = false), or of (x[j * stride] - mean)^2 (Sq = true), element j into
// accumulator j mod 16. stride 1 runs 16 elements per step in 16 / kLanes vectors, the last partial
// step too (its missing elements add +0, an exact no-op: an accumulator that starts at +0 is never
// -0), and combines them in registers.
template <bool Sq, bool Fused>
inline float sum16(const float* x, int n, int stride, float mean) {
  int j = 0;
  if (stride == 1) {
    constexpr int NV = kSumLanes / kLanes;
    vf acc[NV];
    for (int v = 0; v < NV; ++v) acc[v] = vzero();
    const vf m = vsplat(mean);
    for (; j + kSumLanes <= n; j += kSumLanes)
      for (int v = 0; v < NV; ++v) {
        const vf e = vload(x + j + v * kLanes);
        if constexpr (Sq) {
          const vf d = sub(e, m);
          acc[v] = madd<Fused>(d, d, acc[v]);
        } else {
          acc[v] = add(acc[v], e);
        }
      }
    if (j < n) {
      const vf rest = vsplat(static_cast<float>(n - j));
      for (int v = 0; v < NV && j + v * kLanes < n; ++v) {
        const int lanes = n - j - v * kLanes < kLanes ? n - j - v * kLanes : kLanes;
        const vf e = vload_n(x + j + v * kLanes, lanes);
        if constexpr (Sq) {
          const vf d = select(lt(vload(kSumLaneIndex + v * kLanes), rest), sub(e, m), vzero());
          acc[v] = madd<Fused>(d, d, acc[v]);
        } else {
          acc[v] = add(acc[v], e);
        }
      }
    }
    return sum_tree16(acc);
  }
  float s[kSumLanes];
  for (int k = 0; k < kSumLanes; ++k) s[k] = 0.0f;
  // k = j mod kSumLanes, kept as a wrapping counter (with `j % kSumLanes` gcc -O3 on the scalar
  // path mis-derives an out-of-bounds iteration and warns).
  for (int k = 0; j < n; ++j, k = k + 1 == kSumLanes ? 0 : k + 1) {
    float& acc = s[k];
    const float e = x[j * stride];
    if constexpr (Sq) {
      const float d = sub(e, mean);
      acc = madd<Fused>(d, d, acc);
    } else {
      acc = add(acc, e);
    }
  }
  return sum_tree16(s);
}

// One element of the Affine form: inv = r * gamma (or r); res = beta - mean * inv (or -(mean * inv));
// y = x * inv + res. V = float or vf.
template <bool Fused, bool HasGamma, bool HasBeta, class V>
inline V layernorm_affine(V x, V mean, V r, V gamma, V beta) {
  V inv = r;
  if constexpr (HasGamma) inv = mul(r, gamma);
  V res;
  if constexpr (HasBeta) res = madd<Fused>(neg(mean), inv, beta);  // beta - mean * inv
  else res = neg(mul(mean, inv));
  return madd<Fused>(x, inv, res);
}

// One element of the Centered form: t = (x - mean) * r; t = t * gamma; y = t + beta.
template <bool Fused, bool HasGamma, bool HasBeta, class V>
inline V layernorm_centered(V x, V mean, V r, V gamma, V beta) {
  const V t = mul(sub(x, mean), r);
  if constexpr (HasGamma && HasBeta) return madd<Fused>(t, gamma, beta);
  if constexpr (HasGamma) return mul(t, gamma);
  if constexpr (HasBeta) return add(t, beta);
  return t;
}

template <bool Fused, bool Centered, bool HasGamma, bool HasBeta, class V>
inline V layernorm_one(V x, V mean, V r, V gamma, V beta) {
  if constexpr (Centered) return layernorm_centered<Fused, HasGamma, HasBeta>(x, mean, r, gamma, beta);
  else return layernorm_affine<Fused, HasGamma, HasBeta>(x, mean, r, gamma, beta);
}

// LayerNorm over [outer][n][inner] (ir::LayerNormAttrs). gamma/beta: [n] or nullptr when absent.
// Always inline, so that n and inner are constants in the loops: clang kept it out of line
// (ln_w100 AVX2: 56.5 -> 25.5 ns inlined; g++ inlined it already).
template <bool Fused, bool Centered, bool HasGamma, bool HasBeta>
KC2CPP_ALWAYS_INLINE inline void layernorm(const float* x, const float* gamma, const float* beta, float* y, int outer, int n, int inner,
                      float epsilon) {
  const float fn = static_cast<float>(n);
  const float rcp_n = div(1.0f, fn);
  for (int o = 0; o < outer; ++o) {
    for (int c = 0; c < inner; ++c) {
      const float* xc = x + o * n * inner + c;
      float* yc = y + o * n * inner + c;
      const float sum = sum16<false, Fused>(xc, n, inner, 0.0f);
      const float mean = Centered ? mul(sum, rcp_n) : div(sum, fn);
      const float sq = sum16<true, Fused>(xc, n, inner, mean);
      const float var = Centered ? mul(sq, rcp_n) : div(sq, fn);
      const float r = div(1.0f, sqrt(add(var, epsilon)));
      int j = 0;
      if (inner == 1) {
        const vf vm = vsplat(mean), vr = vsplat(r), one = vsplat(1.0f), zero = vzero();
        for (; j + kLanes <= n; j += kLanes)
          vstore(yc + j, layernorm_one<Fused, Centered, HasGamma, HasBeta>(
                             vload(xc + j), vm, vr, HasGamma ? vload(gamma + j) : one, HasBeta ? vload(beta + j) : zero));
      }
      for (; j < n; ++j)
        yc[j * inner] = layernorm_one<Fused, Centered, HasGamma, HasBeta>(
            xc[j * inner], mean, r, HasGamma ? gamma[j] : 1.0f, HasBeta ? beta[j] : 0.0f);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Shape ops (copies only)

// y = x with its axes permuted: y is row-major with extents `out`; output axis k steps the input by
// in_stride[k] elements.
inline void permute(const float* x, float* y, Dims6 out, Dims6 in_stride) {
  const int* o = out.d;
  const int* s = in_stride.d;
  for (int i0 = 0; i0 < o[0]; ++i0)
    for (int i1 = 0; i1 < o[1]; ++i1)
      for (int i2 = 0; i2 < o[2]; ++i2)
        for (int i3 = 0; i3 < o[3]; ++i3)
          for (int i4 = 0; i4 < o[4]; ++i4) {
            const float* xr = x + i0 * s[0] + i1 * s[1] + i2 * s[2] + i3 * s[3] + i4 * s[4];
            if (s[5] == 1) {
              copy_run(xr, y, o[5]);
            } else {
              for (int i5 = 0; i5 < o[5]; ++i5) y[i5] = xr[i5 * s[5]];
            }
            y += o[5];
          }
}

// Zero padding (before/after > 0) and cropping (< 0) of [n0][n1][n2][n3] (ir::PadCropAttrs).
inline void pad_crop(const float* x, float* y, Dims4 in, Dims4 before, Dims4 after) {
  const int* n = in.d;
  const int* b = before.d;
  int o[4];
  for (int k = 0; k < 4; ++k) o[k] = n[k] + b[k] + after.d[k];
  // Along the last axis, output columns [lo, hi) copy input columns [lo - b3, hi - b3); the others are +0.
  const int lo = b[3] > 0 ? b[3] : 0;
  const int hi = o[3] < n[3] + b[3] ? o[3] : n[3] + b[3];
  for (int i0 = 0; i0 < o[0]; ++i0)
    for (int i1 = 0; i1 < o[1]; ++i1)
      for (int i2 = 0; i2 < o[2]; ++i2, y += o[3]) {
        const int s0 = i0 - b[0], s1 = i1 - b[1], s2 = i2 - b[2];
        if (s0 < 0 || s0 >= n[0] || s1 < 0 || s1 >= n[1] || s2 < 0 || s2 >= n[2] || lo >= hi) {
          fill_zero(y, o[3]);
          continue;
        }
        fill_zero(y, lo);
        copy_run(x + ((s0 * n[1] + s1) * n[2] + s2) * n[3] + (lo - b[3]), y + lo, hi - lo);
        fill_zero(y + hi, o[3] - hi);
      }
}

// Nearest repetition: y[i0][i1][i2][i3] = x[i0 / f0][i1 / f1][i2 / f2][i3 / f3] (ir::RepeatAttrs).
inline void repeat(const float* x, float* y, Dims4 in, Dims4 factor) {
  const int* n = in.d;
  const int* f = factor.d;
  const int o0 = n[0] * f[0], o1 = n[1] * f[1], o2 = n[2] * f[2], o3 = n[3] * f[3];
  for (int i0 = 0; i0 < o0; ++i0)
    for (int i1 = 0; i1 < o1; ++i1)
      for (int i2 = 0; i2 < o2; ++i2, y += o3) {
        const float* xr = x + (((i0 / f[0]) * n[1] + i1 / f[1]) * n[2] + i2 / f[2]) * n[3];
        if (f[3] == 1) {
          copy_run(xr, y, n[3]);
        } else {
          for (int c = 0; c < n[3]; ++c)
            for (int r = 0; r < f[3]; ++r) y[c * f[3] + r] = xr[c];
        }
      }
}

// One output row's (or column's) source indices lo <= hi and the weight of hi, resolved at compile
// time (ir::ResizeAttrs).
struct ResizeTap {
  int lo, hi;
  float w;
};

// top = tl + (tr - tl) * wx; bottom = bl + (br - bl) * wx; y = top + (bottom - top) * wy.
template <bool Fused, class V>
inline V bilinear_one(V tl, V tr, V bl, V br, V wx, V wy) {
  const V top = madd<Fused>(sub(tr, tl), wx, tl);
  const V bottom = madd<Fused>(sub(br, bl), wx, bl);
  return madd<Fused>(sub(bottom, top), wy, top);
}

// [outer][h][w][inner] -> [outer][out_h][out_w][inner], bilinear with the given taps.
template <bool Fused>
inline void resize_bilinear(const float* x, float* y, int outer, int h, int w, int inner, const ResizeTap* rows,
                            int out_h, const ResizeTap* cols, int out_w) {
  for (int o = 0; o < outer; ++o) {
    const float* xo = x + o * h * w * inner;
    for (int oy = 0; oy < out_h; ++oy) {
      const ResizeTap r = rows[oy];
      const vf vwy = vsplat(r.w);
      for (int ox = 0; ox < out_w; ++ox, y += inner) {
        const ResizeTap c = cols[ox];
        const float* tl = xo + (r.lo * w + c.lo) * inner;
        const float* tr = xo + (r.lo * w + c.hi) * inner;
        const float* bl = xo + (r.hi * w + c.lo) * inner;
        const float* br = xo + (r.hi * w + c.hi) * inner;
        const vf vwx = vsplat(c.w);
        int k = 0;
        for (; k + kLanes <= inner; k += kLanes)
          vstore(y + k, bilinear_one<Fused>(vload(tl + k), vload(tr + k), vload(bl + k), vload(br + k), vwx, vwy));
        for (; k < inner; ++k) y[k] = bilinear_one<Fused>(tl[k], tr[k], bl[k], br[k], c.w, r.w);
      }
    }
  }
}

// [outer][h][w][inner] -> [outer][out_h][out_w][inner], nearest: y[i][j] = x[rows[i].lo][cols[j].lo].
inline void resize_nearest(const float* x, float* y, int outer, int h, int w, int inner, const ResizeTap* rows,
                           int out_h, const ResizeTap* cols, int out_w) {
  for (int o = 0; o < outer; ++o) {
    const float* xo = x + o * h * w * inner;
    for (int oy = 0; oy < out_h; ++oy)
      for (int ox = 0; ox < out_w; ++ox, y += inner) copy_run(xo + (rows[oy].lo * w + cols[ox].lo) * inner, y, inner);
  }
}
