// kc2cpp runtime: kernels of the ops that read several tensors (Keras's merging layers). Pasted
// inside `namespace <model> { namespace kc {` after kc2cpp_kernels.h. Includes nothing.
//
// Every output element is computed by the same IEEE operations on every ISA path: the merges are
// elementwise (vectors only run across independent elements), and matmul follows the Dense
// reduction order of kc2cpp_kernels.h for each output alone. None of these kernels reads or
// writes past the end of a tensor (their operands may be the caller's input arrays).

namespace merge {
struct Add { template <class V> V operator()(V a, V b) const { return add(a, b); } };
struct Sub { template <class V> V operator()(V a, V b) const { return sub(a, b); } };
struct Mul { template <class V> V operator()(V a, V b) const { return mul(a, b); } };
struct Div { template <class V> V operator()(V a, V b) const { return div(a, b); } };
// The larger (smaller) operand; NaN if either is NaN (max_/min_ give b when a is NaN).
struct Max { template <class V> V operator()(V a, V b) const { return select(eq(a, a), max_(a, b), a); } };
struct Min { template <class V> V operator()(V a, V b) const { return select(eq(a, a), min_(a, b), a); } };

// x op c (or c op x when First): Keras 3's operations on a tensor and a number, for kc::map.
inline float number_like(float, float c) { return c; }
#if !defined(KC2CPP_ISA_SCALAR)
inline vf number_like(vf, float c) { return vsplat(c); }
#endif
template <class Op, bool First>
struct WithNumber {
  float c;
  template <class V> V operator()(V x) const { return First ? Op{}(number_like(x, c), x) : Op{}(x, number_like(x, c)); }
};
}  // namespace merge

// An elementwise binary op over R output axes of extents dims[]: a step along axis r moves
// sa[r] elements in a and sb[r] in b (0 where that operand is broadcast). On the last axis each
// stride is 0 or 1.
template <int R>
struct Broadcast {
  int dims[R];
  int sa[R];
  int sb[R];
};

// y[i] = f(op(a[i * SA], b[i * SB])) for i < n.
template <int SA, int SB, class Op, class Act>
inline void merge_row(const float* a, const float* b, float* y, int n, Op op, Act f) {
  int i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const vf x = SA ? vload(a + i) : vsplat(a[0]);
    const vf z = SB ? vload(b + i) : vsplat(b[0]);
    vstore(y + i, f(op(x, z)));
  }
  for (; i < n; ++i) y[i] = f(op(a[SA * i], b[SB * i]));
}

// y = f(op(a, b)) with broadcasting (Broadcast); y is dense with the output's shape. y may be a
// (the accumulator of a merge of several inputs: y = y op x_k). f: the merge's activation, on its
// last step only.
template <int R, class Op, class Act = act::Linear>
inline void merge2(const float* a, const float* b, float* y, const Broadcast<R>& s, Op op, Act f = {}) {
  const int n = s.dims[R - 1];
  int outer = 1;
  for (int r = 0; r + 1 < R; ++r) outer *= s.dims[r];
  for (int o = 0; o < outer; ++o) {
    int oa = 0, ob = 0;
    for (int r = R - 2, rest = o; r >= 0; --r) {
      const int i = rest % s.dims[r];
      rest /= s.dims[r];
      oa += i * s.sa[r];
      ob += i * s.sb[r];
    }
    const int la = s.sa[R - 1], lb = s.sb[R - 1];
    if (la && lb) merge_row<1, 1>(a + oa, b + ob, y + o * n, n, op, f);
    else if (la) merge_row<1, 0>(a + oa, b + ob, y + o * n, n, op, f);
    else if (lb) merge_row<0, 1>(a + oa, b + ob, y + o * n, n, op, f);
    else merge_row<0, 0>(a + oa, b + ob, y + o * n, n, op, f);
  }
}

// y[i] = y[i] / d for i < n (Average's last step: a division, not a multiply by 1/d).
inline void divide(float* y, int n, float d) {
  int i = 0;
  for (; i + kLanes <= n; i += kLanes) vstore(y + i, div(vload(y + i), vsplat(d)));
  for (; i < n; ++i) y[i] = div(y[i], d);
}

// Concatenation: `count` blocks of `n` elements of x go to y, block o at y + o * ld.
inline void copy_blocks(const float* x, float* y, int count, int n, int ld) {
  for (int o = 0; o < count; ++o) copy(x + o * n, y + o * ld, n);
}

// Floats of matmul_nt's stack tile at most (8 KB): longer rows take the one-output form.
constexpr int kMatMulTile = 2048;

// R rows of matmul_nt's product with one tile t (nj of its kLanes columns), into y (rows N apart);
// one row by dense_block (any S).
template <int K, int S, int R, bool Fused>
inline void matmul_rows(const float* a, const float* t, float* y, int N, int nj) {
  vf out[R][1];
  if constexpr (R == 1) {
    dense_block<K, S, 1, Fused>(a, t, kLanes, out[0]);
  } else {
    chains_rows<K, S, 1, R, Fused, false>(a, t, kLanes, nullptr, out);
  }
KC2CPP_UNROLL(8)
  for (int q = 0; q < R; ++q) {
    if (nj == kLanes) vstore(y + q * N, out[q][0]);
    else vstore_n(y + q * N, out[q][0], nj);  // the next row's first columns are already written
  }
}

// y[i * N + j] = sum_k a[i * K + k] * b[j * K + k] (both operands with the contraction last),
// each sum in the Dense reduction order with S chains; B such products one after another (a, b
// and y advance by M*K, N*K and M*N). kLanes columns j at a time: their rows of b are copied
// transposed into t (K x kLanes floats on the stack, the lanes past N zero), and dense_block
// computes the kLanes sums of row i of a with them, one per lane, in the same order (the
// attention's products: transformer_s32_d64 1.8x faster than one dot_tree per output); where
// row_block says so, chains_rows does R rows of a at once, each load of t serving R products.
template <int M, int K, int N, int S, bool Fused, int B = 1>
inline void matmul_nt(const float* a, const float* b, float* y) {
  static_assert(S >= 1 && S <= K, "splits must be in [1, K]");
  if constexpr (K * kLanes > kMatMulTile) {
    for (int h = 0; h < B; ++h)
      for (int i = 0; i < M; ++i)
        for (int j = 0; j < N; ++j)
          y[(h * M + i) * N + j] = dot_tree<K, S, Fused, false, 0, S>(a + (h * M + i) * K, b + (h * N + j) * K, nullptr);
  } else {
    alignas(64) float t[K * kLanes];
    for (int h = 0; h < B; ++h)
      for (int j0 = 0; j0 < N; j0 += kLanes) {
        const int nj = N - j0 < kLanes ? N - j0 : kLanes;
        for (int k = 0; k < K; ++k)
          for (int l = 0; l < kLanes; ++l) t[k * kLanes + l] = l < nj ? b[(h * N + j0 + l) * K + k] : 0.0f;
        // R rows of a at a time, sharing each load of t, then the rest as one block, then a last row
        constexpr int R = row_block(S, 1).rows;
        constexpr int RB_ROWS = R > 1 ? M / R * R : 0, R2 = R > 1 && M % R > 1 ? M % R : 0;
        if constexpr (RB_ROWS > 0) {
          for (int i = 0; i < RB_ROWS; i += R)
            matmul_rows<K, S, R, Fused>(a + (h * M + i) * K, t, y + (h * M + i) * N + j0, N, nj);
        }
        if constexpr (R2 > 0)
          matmul_rows<K, S, R2, Fused>(a + (h * M + RB_ROWS) * K, t, y + (h * M + RB_ROWS) * N + j0, N, nj);
        for (int i = RB_ROWS + R2; i < M; ++i)
          matmul_rows<K, S, 1, Fused>(a + (h * M + i) * K, t, y + (h * M + i) * N + j0, N, nj);
      }
  }
}

// y = x * (1 / sqrt(max(s, floor))) per row of n, s = x_0 x_0 + x_1 x_1 + ... in index order
// (one fma per term after the first in --fp fused); a NaN s stays NaN.
template <bool Fused>
inline void l2_normalize(const float* x, float* y, int rows, int n, float floor) {
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float s = mul(xr[0], xr[0]);
    for (int i = 1; i < n; ++i) s = madd<Fused>(xr[i], xr[i], s);
    const float inv = div(1.0f, sqrt(s < floor ? floor : s));  // NaN stays NaN
    for (int i = 0; i < n; ++i) y[r * n + i] = mul(xr[i], inv);
  }
}
