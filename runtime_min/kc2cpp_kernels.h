// kc2cpp runtime: layer kernels. Pasted inside `namespace <model> { namespace kc {` after
// kc2cpp_simd.h and kc2cpp_math.h. Includes nothing.
//
// Determinism: every kernel computes each output with the same sequence of IEEE operations
// whatever kLanes is. Vectors run across INDEPENDENT outputs; no reduction is ever split
// by the vector width. Where a reduction is split, the split is a template parameter chosen
// by the compiler from the model alone (DenseAttrs::splits in compiler/ir/ir.h), identical
// for every ISA path, and combined by a fixed tree.
//
// Buffers: every planned buffer has at least kPad floats of room past its last element, and
// packed weight rows are padded with zeros to a multiple of kPad, so kernels may load and
// store whole vectors past a row's end (the extra lanes hold deterministic values nobody reads).

constexpr int kPad = 16;
[[maybe_unused]] constexpr float kInf = __builtin_huge_valf();  // only Relu with max_value=None reads it

constexpr int round_up(int n, int m) { return (n + m - 1) / m * m; }

// Accumulator budget per register block (vector registers minus operands).
#if defined(KC2CPP_ISA_AVX512) || defined(KC2CPP_ISA_NEON)
constexpr int kMaxAcc = 24;
#elif defined(KC2CPP_ISA_SCALAR)
constexpr int kMaxAcc = 8;
#else
constexpr int kMaxAcc = 12;
#endif

// Elementwise activations as function objects: the kernels apply them in their epilogue,
// to vf and to float alike (same bits per lane). Those on the exponential core take the model's
// --fp mode (Fused: kc2cpp_math.h's mla); the compiler writes it out, e.g. act::Sigmoid<true>{}.
namespace act {
struct Linear { template <class V> V operator()(V x) const { return x; } };
struct Relu {
  float slope, max_value, threshold;
  template <class V> V operator()(V x) const { return relu(x, slope, max_value, threshold); }
};
struct ReluPlain { template <class V> V operator()(V x) const { return relu_plain(x); } };
template <bool Fused> struct Elu {
  float alpha;
  template <class V> V operator()(V x) const { return elu<Fused>(x, alpha); }
};
#define KC2CPP_ACT(Name, fn) \
  struct Name { template <class V> V operator()(V x) const { return fn(x); } };
#define KC2CPP_ACT_EXP(Name, fn) \
  template <bool Fused> struct Name { template <class V> V operator()(V x) const { return fn<Fused>(x); } };
KC2CPP_ACT_EXP(Selu, selu)
KC2CPP_ACT_EXP(Sigmoid, sigmoid)
KC2CPP_ACT(HardSigmoidK2, hard_sigmoid_k2)
KC2CPP_ACT(HardSigmoidK3, hard_sigmoid_k3)
KC2CPP_ACT(HardSilu, hard_silu)
KC2CPP_ACT_EXP(Tanh, tanh)
KC2CPP_ACT_EXP(Softplus, softplus)
KC2CPP_ACT(Softsign, softsign)
KC2CPP_ACT_EXP(Exponential, exponential)
KC2CPP_ACT_EXP(Silu, silu)
KC2CPP_ACT_EXP(Gelu, gelu)
KC2CPP_ACT_EXP(GeluTanh, gelu_tanh)
KC2CPP_ACT_EXP(Mish, mish)
#undef KC2CPP_ACT
#undef KC2CPP_ACT_EXP
}  // namespace act

// acc + a*b for vf or float: two roundings (Fused=false) or one (Fused=true, needs KC2CPP_HAS_FMA).
template <bool Fused, class V>
inline V madd(V a, V b, V acc) {
#if defined(KC2CPP_HAS_FMA)
  if constexpr (Fused) return fma(a, b, acc);
#else
  static_assert(!Fused, "this model was compiled with --fp fused, which needs a hardware FMA on the target");
#endif
  return add(acc, mul(a, b));
}

// The reduction order of every Dense-like dot product (DenseAttrs in compiler/ir/ir.h):
// S virtual accumulators; accumulator k is the chain of products i = k, k+S, k+2S, ... in order,
// starting from the first product (acc = x_k w_k, then acc += x_i w_i, or one fused rounding);
// the S accumulators are combined by reduce_tree: [lo, hi) splits at lo + the largest power of
// two below hi - lo, left half + right half ((s0+s1)+(s2+s3) for S = 4). S = K is a pure pairwise
// tree of the products (latency log2 K adds instead of K/S). A Dense bias is added to the total,
// except in --fp fused, where it starts accumulator 0 (acc = fma(x_0, w_0, b)).

// Largest power of two strictly below n (n >= 2).
constexpr int tree_split(int n) { return n <= 2 ? 1 : 2 * tree_split((n + 1) / 2); }

// Vectors of outputs a Dense-like kernel computes at once for split S: S <= 4 keeps S x NB
// accumulators live; a wider tree keeps about log2(S) partial sums per vector.
constexpr int block_vectors(int S) {
  return S <= 4 ? kMaxAcc / S : (kMaxAcc / 6 > 0 ? kMaxAcc / 6 : 1);
}

// A chain's first step for NB vectors: x_s w_s, or, for chain 0 with Init (--fp fused Dense with a
// bias), fma(x_0, w_0, b): the bias enters the sum first, in the same rounding.
template <int NB, bool Init>
inline void chain_start(vf xs, const float* w, const float* init, vf (&out)[NB]) {
#pragma GCC unroll 24
  for (int v = 0; v < NB; ++v) {
    if constexpr (Init) {
      out[v] = madd<true>(xs, vload(w + v * kLanes), vload(init + v * kLanes));
    } else {
      out[v] = mul(xs, vload(w + v * kLanes));
    }
  }
}

// Accumulators [Lo, Hi) of the order above, combined by the tree, for NB vectors; depth first,
// so few partial sums are live at once. Used when S > 4 (every chain has at most K/S + 1 terms).
template <int K, int S, int NB, bool Fused, bool Init, int Lo, int Hi>
inline void reduce_tree(const float* x, const float* w, int ldw, const float* init, vf (&out)[NB]) {
  if constexpr (Hi - Lo == 1) {
    chain_start<NB, Init && Lo == 0>(vsplat(x[Lo]), w + Lo * ldw, init, out);
#pragma GCC unroll 4
    for (int i = Lo + S; i < K; i += S) {
      const vf xs = vsplat(x[i]);
#pragma GCC unroll 24
      for (int v = 0; v < NB; ++v) out[v] = madd<Fused>(xs, vload(w + i * ldw + v * kLanes), out[v]);
    }
  } else {
    constexpr int M = Lo + tree_split(Hi - Lo);
    vf right[NB];
    reduce_tree<K, S, NB, Fused, Init, Lo, M>(x, w, ldw, init, out);
    reduce_tree<K, S, NB, Fused, Init, M, Hi>(x, w, ldw, init, right);
#pragma GCC unroll 24
    for (int v = 0; v < NB; ++v) out[v] = add(out[v], right[v]);
  }
}

// out[v] = sum_i x[i] * w[i*ldw + v*kLanes + lane] for NB vectors, in the order above; with Init
// (Fused only), chain 0 starts from init[v*kLanes + lane] (chain_start).
template <int K, int S, int NB, bool Fused, bool Init = false>
inline void dense_block(const float* x, const float* w, int ldw, vf (&out)[NB], const float* init = nullptr) {
  static_assert(S >= 1 && S <= K, "splits must be in [1, K]");
  static_assert(Fused || !Init, "the bias starts a chain only in --fp fused");
  if constexpr (S > 4) {
    reduce_tree<K, S, NB, Fused, Init, 0, S>(x, w, ldw, init, out);
  } else {
    // S <= 4 interleaved chains (long reductions: throughput-bound, S x NB accumulators).
    vf acc[S][NB];
    chain_start<NB, Init>(vsplat(x[0]), w, init, acc[0]);
#pragma GCC unroll 4
    for (int s = 1; s < S; ++s) chain_start<NB, false>(vsplat(x[s]), w + s * ldw, nullptr, acc[s]);
    int i = S;
#pragma GCC unroll 2
    for (; i + S <= K; i += S)
#pragma GCC unroll 4
      for (int s = 0; s < S; ++s) {
        const vf xs = vsplat(x[i + s]);
#pragma GCC unroll 24
        for (int v = 0; v < NB; ++v) acc[s][v] = madd<Fused>(xs, vload(w + (i + s) * ldw + v * kLanes), acc[s][v]);
      }
#pragma GCC unroll 4
    for (int s = 0; i < K; ++i, ++s) {
      const vf xs = vsplat(x[i]);
#pragma GCC unroll 24
      for (int v = 0; v < NB; ++v) acc[s][v] = madd<Fused>(xs, vload(w + i * ldw + v * kLanes), acc[s][v]);
    }
#pragma GCC unroll 24
    for (int v = 0; v < NB; ++v) {
      if constexpr (S == 1) out[v] = acc[0][v];
      if constexpr (S == 2) out[v] = add(acc[0][v], acc[1][v]);
      if constexpr (S == 3) out[v] = add(add(acc[0][v], acc[1][v]), acc[2][v]);
      if constexpr (S == 4) out[v] = add(add(acc[0][v], acc[1][v]), add(acc[2][v], acc[3][v]));
    }
  }
}

// y = f(sum + b); in --fp fused the bias starts chain 0 instead (DenseAttrs), off the latency path.
template <int K, int S, int NB, bool HasBias, bool Fused, class Act>
inline void dense_out(const float* x, const float* w, const float* b, float* y, int ldw, Act f) {
  vf sum[NB];
  dense_block<K, S, NB, Fused, HasBias && Fused>(x, w, ldw, sum, b);
#pragma GCC unroll 24
  for (int v = 0; v < NB; ++v) {
    vf t = sum[v];
    if constexpr (HasBias && !Fused) t = add(t, vload(b + v * kLanes));
    vstore(y + v * kLanes, f(t));
  }
}

// Dense on the last axis: y[r, j] = f(sum_i x[r, i] * w[i, j] (+ b[j])) for r < rows.
// w is the packed kernel [K][round_up(N, kPad)], b the bias padded likewise.
template <int K, int N, int S, bool HasBias, bool Fused, class Act>
inline void dense(const float* x, const float* w, const float* b, float* y, int rows, Act f) {
  constexpr int ldw = round_up(N, kPad);
  constexpr int NV = (N + kLanes - 1) / kLanes;
  constexpr int NB0 = block_vectors(S);
  constexpr int NB = NV < NB0 ? NV : NB0;
  constexpr int REM = NV % NB;
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + r * K;
    float* yr = y + r * N;
    int j = 0;
    for (; j + NB <= NV; j += NB)
      dense_out<K, S, NB, HasBias, Fused>(xr, w + j * kLanes, HasBias ? b + j * kLanes : nullptr, yr + j * kLanes, ldw, f);
    if constexpr (REM > 0)
      dense_out<K, S, REM, HasBias, Fused>(xr, w + j * kLanes, HasBias ? b + j * kLanes : nullptr, yr + j * kLanes, ldw, f);
  }
}

// y[i] = f(x[i]) for i < n.
template <class Act>
inline void map(const float* x, float* y, int n, Act f) {
  int i = 0;
  for (; i + kLanes <= n; i += kLanes) vstore(y + i, f(vload(x + i)));
  for (; i < n; ++i) y[i] = f(x[i]);
}

// y[i] = x[i] < 0 ? alpha[i] * x[i] : x[i] for i < n (alpha broadcast per sample by the compiler).
inline void prelu(const float* x, const float* alpha, float* y, int n) {
  int i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const vf v = vload(x + i);
    vstore(y + i, select(lt(v, vzero()), mul(vload(alpha + i), v), v));
  }
  for (; i < n; ++i) y[i] = x[i] < 0.0f ? mul(alpha[i], x[i]) : x[i];
}

// Softmax over the middle axis of [outer][len][inner]:
// m = max_j x_j (first element, then x_j > m); e_j = exp(x_j - m); s = e_0 + e_1 + ... in index
// order; y_j = e_j / s, or for log-softmax y_j = (x_j - m) - log(s).
inline void softmax(const float* x, float* y, int outer, int len, int inner, bool log_softmax) {
  for (int o = 0; o < outer; ++o) {
    for (int c = 0; c < inner; ++c) {
      const float* xr = x + o * len * inner + c;
      float* yr = y + o * len * inner + c;
      float m = xr[0];
      for (int j = 1; j < len; ++j) m = xr[j * inner] > m ? xr[j * inner] : m;
      float s = 0.0f;
      for (int j = 0; j < len; ++j) {
        const float e = exp(sub(xr[j * inner], m));
        s = add(s, e);
        if (!log_softmax) yr[j * inner] = e;
      }
      if (log_softmax) {
        const float ls = log(s);
        for (int j = 0; j < len; ++j) yr[j * inner] = sub(sub(xr[j * inner], m), ls);
      } else {
        for (int j = 0; j < len; ++j) yr[j * inner] = div(yr[j * inner], s);
      }
    }
  }
}

// Attention's causal mask on scores [blocks][tq][len]: y = x, plus `add` (-1e9) at j > i in row i.
inline void causal_mask_add(const float* x, float* y, int blocks, int tq, int len, float add) {
  for (int b = 0; b < blocks; ++b)
    for (int i = 0; i < tq; ++i)
      for (int j = 0; j < len; ++j) {
        const int at = (b * tq + i) * len + j;
        y[at] = j > i ? x[at] + add : x[at];
      }
}

inline void copy(const float* x, float* y, int n) {
  for (int i = 0; i < n; ++i) y[i] = x[i];
}
