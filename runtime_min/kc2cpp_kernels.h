// kc2cpp runtime: layer kernels. Pasted inside `namespace <model> { namespace kc {` after
// kc2cpp_simd.h and kc2cpp_math.h. Includes nothing.
//
// Determinism: every kernel computes each output with the same sequence of IEEE operations
// whatever kLanes is. Vectors run across INDEPENDENT outputs; no reduction is ever split
// by the vector width. Where a reduction is split, the split is a template parameter chosen
// by the compiler from the model alone (DenseAttrs::splits in compiler/ir/ir.h), identical
// for every ISA path, and combined by a fixed tree.
//
// Buffers: every planned buffer has at least kPad floats of room past its last element, so
// kernels may store whole vectors past a row's end (the extra lanes hold values nobody reads).
//
// Weight rows (Dense, conv and recurrent-gate columns: PackedWeight::row in compiler/plan/plan.h)
// are padded with zeros to kWPad floats by the KC2CPP_ROWPAD_<row mod 16> macros in the weight
// arrays: to the vector width on AVX2 and AVX-512 (whole vectors per row, the fastest loads
// there), not at all on SSE2, NEON and scalar builds, whose flash then holds exactly the
// parameters. Kernels read weight rows as whole vectors: on unpadded builds a row's last vector
// runs on into the next row, or into the kWSlack floats after the array, in lanes nobody reads.

constexpr int kPad = 16;
[[maybe_unused]] constexpr float kInf = __builtin_huge_valf();  // only Relu with max_value=None reads it

constexpr int round_up(int n, int m) { return (n + m - 1) / m * m; }

#if defined(KC2CPP_ISA_AVX512)
#define KC2CPP_WPAD 16
#elif defined(KC2CPP_ISA_AVX2)
#define KC2CPP_WPAD 8
#else
#define KC2CPP_WPAD 1
#endif
[[maybe_unused]] constexpr int kWPad = KC2CPP_WPAD;
[[maybe_unused]] constexpr int kWSlack = kLanes - kWPad;  // 3 on SSE2 and NEON, else 0
[[maybe_unused]] constexpr int kWeightAlign = kWPad > 4 ? 4 * kWPad : kLanes > 1 ? 16 : 4;  // bytes
constexpr int row_floats(int n) { return round_up(n, kWPad); }

#ifndef KC2CPP_ROWPAD_1
#if KC2CPP_WPAD >= 8  // zeros up to a multiple of 8
#define KC2CPP_PAD8_1 0.0f,
#define KC2CPP_PAD8_2 0.0f, 0.0f,
#define KC2CPP_PAD8_3 0.0f, 0.0f, 0.0f,
#define KC2CPP_PAD8_4 0.0f, 0.0f, 0.0f, 0.0f,
#define KC2CPP_PAD8_5 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
#define KC2CPP_PAD8_6 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
#define KC2CPP_PAD8_7 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
#else
#define KC2CPP_PAD8_1
#define KC2CPP_PAD8_2
#define KC2CPP_PAD8_3
#define KC2CPP_PAD8_4
#define KC2CPP_PAD8_5
#define KC2CPP_PAD8_6
#define KC2CPP_PAD8_7
#endif
#if KC2CPP_WPAD == 16  // then from a multiple of 8 to one of 16
#define KC2CPP_PAD16 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
#else
#define KC2CPP_PAD16
#endif
#define KC2CPP_ROWPAD_1 KC2CPP_PAD8_7 KC2CPP_PAD16
#define KC2CPP_ROWPAD_2 KC2CPP_PAD8_6 KC2CPP_PAD16
#define KC2CPP_ROWPAD_3 KC2CPP_PAD8_5 KC2CPP_PAD16
#define KC2CPP_ROWPAD_4 KC2CPP_PAD8_4 KC2CPP_PAD16
#define KC2CPP_ROWPAD_5 KC2CPP_PAD8_3 KC2CPP_PAD16
#define KC2CPP_ROWPAD_6 KC2CPP_PAD8_2 KC2CPP_PAD16
#define KC2CPP_ROWPAD_7 KC2CPP_PAD8_1 KC2CPP_PAD16
#define KC2CPP_ROWPAD_8 KC2CPP_PAD16
#define KC2CPP_ROWPAD_9 KC2CPP_PAD8_7
#define KC2CPP_ROWPAD_10 KC2CPP_PAD8_6
#define KC2CPP_ROWPAD_11 KC2CPP_PAD8_5
#define KC2CPP_ROWPAD_12 KC2CPP_PAD8_4
#define KC2CPP_ROWPAD_13 KC2CPP_PAD8_3
#define KC2CPP_ROWPAD_14 KC2CPP_PAD8_2
#define KC2CPP_ROWPAD_15 KC2CPP_PAD8_1
#endif

// Vector registers of the path (x86-64 without AVX-512 and the scalar path: 16 xmm/ymm).
#if defined(KC2CPP_ISA_AVX512) || defined(KC2CPP_ISA_NEON)
constexpr int kVectorRegs = 32;
#else
constexpr int kVectorRegs = 16;
#endif

// Accumulator budget per register block (vector registers minus operands); size-first, one.
#if defined(KC2CPP_OPTIMIZE_SIZE)
constexpr int kMaxAcc = 1;
#elif defined(KC2CPP_ISA_AVX512) || defined(KC2CPP_ISA_NEON)
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
  return pin(add(acc, mul(a, b)));
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
  return S <= 4 && kMaxAcc / S > 0 ? kMaxAcc / S : (kMaxAcc / 6 > 0 ? kMaxAcc / 6 : 1);
}

// The order above for one vector, as one loop shared by every layer (KC2CPP_OPTIMIZE_SIZE): the S
// chains in turn, each pushed on a binary counter of perfect pairwise trees (after chain s, the
// trailing zeros of s + 1 say how many merges of equal trees, left + right, follow); the trees left,
// largest first, are then combined right to left. That is reduce_tree's split at the largest power
// of two below the count, and (s0 + s1) + s2 etc. for S <= 4. Smaller than the unrolled trees, and
// slower where the chains are short (S near K): the counter's work is per chain.
template <bool Fused>
vf dense_tree(const float* x, const float* w, int ldw, int K, int S, const float* init) {
  vf part[32];
  int top = 0;
  for (int s = 0; s < S; ++s) {
    vf acc = mul(vsplat(x[s]), vload(w + s * ldw));
    if constexpr (Fused) {
      if (s == 0 && init) acc = madd<true>(vsplat(x[0]), vload(w), vload(init));
    }
    for (int i = s + S; i < K; i += S) acc = madd<Fused>(vsplat(x[i]), vload(w + i * ldw), acc);
    for (int n = s + 1; (n & 1) == 0; n >>= 1) acc = add(part[--top], acc);
    part[top++] = acc;
  }
  vf sum = part[--top];
  while (top > 0) sum = add(part[--top], sum);
  return sum;
}

// A chain's first step for NB vectors: x_s w_s, or, for chain 0 with Init (--fp fused Dense with a
// bias), fma(x_0, w_0, b): the bias enters the sum first, in the same rounding.
template <int NB, bool Init>
KC2CPP_ALWAYS_INLINE inline void chain_start(vf xs, const float* w, const float* init, vf (&out)[NB]) {
KC2CPP_UNROLL(24)
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
KC2CPP_UNROLL(4)
    for (int i = Lo + S; i < K; i += S) {
      const vf xs = vsplat(x[i]);
KC2CPP_UNROLL(24)
      for (int v = 0; v < NB; ++v) out[v] = madd<Fused>(xs, vload(w + i * ldw + v * kLanes), out[v]);
    }
  } else {
    constexpr int M = Lo + tree_split(Hi - Lo);
    vf right[NB];
    reduce_tree<K, S, NB, Fused, Init, Lo, M>(x, w, ldw, init, out);
    reduce_tree<K, S, NB, Fused, Init, M, Hi>(x, w, ldw, init, right);
KC2CPP_UNROLL(24)
    for (int v = 0; v < NB; ++v) out[v] = pin(add(out[v], right[v]));
  }
}

// Rows [i, i + S) of w for R rows of x (row q at x + q * K), NB vectors: each weight vector is
// loaded once for the R rows, each x broadcast once for the NB vectors.
template <int K, int S, int NB, int R, bool Fused>
KC2CPP_ALWAYS_INLINE inline void chains_step(const float* x, const float* w, int ldw, int i, vf (&acc)[S][R][NB]) {
KC2CPP_UNROLL(4)
  for (int s = 0; s < S; ++s) {
    if constexpr (R == 1) {  // each weight vector used once: loaded at its product (g++ unfused
                             // kept all NB live otherwise, spilling S x NB = 24 accumulators)
      const vf xs = vsplat(x[i + s]);
KC2CPP_UNROLL(24)
      for (int v = 0; v < NB; ++v) acc[s][0][v] = madd<Fused>(xs, vload(w + (i + s) * ldw + v * kLanes), acc[s][0][v]);
    } else {
      vf wv[NB];  // pinned: g++'s generic x86-64-v4 tuning folded each use back into its fma as a load
KC2CPP_UNROLL(24)
      for (int v = 0; v < NB; ++v) wv[v] = pin(vload(w + (i + s) * ldw + v * kLanes));
KC2CPP_UNROLL(8)
      for (int q = 0; q < R; ++q) {
        const vf xs = vsplat(x[q * K + i + s]);
KC2CPP_UNROLL(24)
        for (int v = 0; v < NB; ++v) acc[s][q][v] = madd<Fused>(xs, wv[v], acc[s][q][v]);
      }
    }
  }
}

// The S <= 4 chains of the order above for R rows of x at once (row q at x + q * K), NB vectors
// each: out[q][v] = sum_i x[q*K + i] * w[i*ldw + v*kLanes + lane]; with Init (Fused only), chain 0
// of every row starts from init[v*kLanes + lane] (chain_start). NB + R loads per R x NB products
// (row_block). R = 1 is dense_block's.
template <int K, int S, int NB, int R, bool Fused, bool Init>
KC2CPP_ALWAYS_INLINE inline void chains_rows(const float* x, const float* w, int ldw, const float* init, vf (&out)[R][NB]) {
  static_assert(S >= 1 && S <= 4 && S <= K, "interleaved chains: S in [1, min(4, K)]");
  vf acc[S][R][NB];
KC2CPP_UNROLL(8)
  for (int q = 0; q < R; ++q) {
    chain_start<NB, Init>(vsplat(x[q * K]), w, init, acc[0][q]);
KC2CPP_UNROLL(4)
    for (int s = 1; s < S; ++s) chain_start<NB, false>(vsplat(x[q * K + s]), w + s * ldw, nullptr, acc[s][q]);
  }
  int i = S;
  if constexpr (R == 1) {
KC2CPP_UNROLL(2)
    for (; i + S <= K; i += S) chains_step<K, S, NB, R, Fused>(x, w, ldw, i, acc);
  } else {  // clang spilled R x NB x S = 24 accumulators unrolled twice
    for (; i + S <= K; i += S) chains_step<K, S, NB, R, Fused>(x, w, ldw, i, acc);
  }
KC2CPP_UNROLL(4)
  for (int s = 0; i < K; ++i, ++s)
KC2CPP_UNROLL(8)
    for (int q = 0; q < R; ++q) {
      const vf xs = vsplat(x[q * K + i]);
KC2CPP_UNROLL(24)
      for (int v = 0; v < NB; ++v) acc[s][q][v] = madd<Fused>(xs, vload(w + i * ldw + v * kLanes), acc[s][q][v]);
    }
KC2CPP_UNROLL(8)
  for (int q = 0; q < R; ++q)
KC2CPP_UNROLL(24)
    for (int v = 0; v < NB; ++v) {
      if constexpr (S == 1) out[q][v] = acc[0][q][v];
      if constexpr (S == 2) out[q][v] = add(acc[0][q][v], acc[1][q][v]);
      if constexpr (S == 3) out[q][v] = add(add(acc[0][q][v], acc[1][q][v]), acc[2][q][v]);
      if constexpr (S == 4) out[q][v] = add(add(acc[0][q][v], acc[1][q][v]), add(acc[2][q][v], acc[3][q][v]));
    }
}

// out[v] = sum_i x[i] * w[i*ldw + v*kLanes + lane] for NB vectors, in the order above; with Init
// (Fused only), chain 0 starts from init[v*kLanes + lane] (chain_start).
template <int K, int S, int NB, bool Fused, bool Init = false>
KC2CPP_ALWAYS_INLINE inline void dense_block(const float* x, const float* w, int ldw, vf (&out)[NB], const float* init = nullptr) {
  static_assert(S >= 1 && S <= K, "splits must be in [1, K]");
  static_assert(Fused || !Init, "the bias starts a chain only in --fp fused");
#if defined(KC2CPP_OPTIMIZE_SIZE)
  for (int v = 0; v < NB; ++v) out[v] = dense_tree<Fused>(x, w + v * kLanes, ldw, K, S, Init ? init + v * kLanes : nullptr);
#else
  if constexpr (S > 4) {
    reduce_tree<K, S, NB, Fused, Init, 0, S>(x, w, ldw, init, out);
  } else {
    // S <= 4 interleaved chains (long reductions: throughput-bound, S x NB accumulators).
    vf one[1][NB];
    chains_rows<K, S, NB, 1, Fused, Init>(x, w, ldw, init, one);
KC2CPP_UNROLL(24)
    for (int v = 0; v < NB; ++v) out[v] = one[0][v];
  }
#endif
}

// Rows x vectors of one register block of a Dense over rows (chains_rows), for split S and NV
// vectors of outputs. R > 1 only with 32 vector registers (AVX-512, NEON: S x R x NB accumulators,
// NB weight vectors and a broadcast; 16 registers leave no room at S = 4), and only where it cuts
// the loads per product by a fifth or more. Loads over the NV vectors of R rows: NV + R * ceil(NV /
// NB), for R * NV products. AVX-512, S = 4, 64 or 128 columns: 3 rows x 2 vectors, 20 loads per 24
// products instead of 5 per 4 (Dense 64 -> 64 over 32 rows, g++: 1.2x in --fp fused; unfused, where
// the products and the sums share the FP ports, 1.04x).
struct RowBlock {
  int rows, vectors;
};
constexpr RowBlock row_block(int S, int NV) {
  const int nb1 = NV < block_vectors(S) ? NV : block_vectors(S);
  const RowBlock one{1, nb1};
  if (S > 4 || kMaxAcc < 24) return one;
  RowBlock best = one;
  long num = NV, den = NV + (NV + nb1 - 1) / nb1;  // products and loads of `best`
  const long num1 = num, den1 = den;
  for (int r = 2; r <= 8; ++r)
    for (int nb = 1; nb <= NV && S * r * nb <= kMaxAcc && S * r * nb + nb + 1 <= kVectorRegs; ++nb) {
      const long n = static_cast<long>(r) * NV, d = NV + static_cast<long>(r) * ((NV + nb - 1) / nb);
      if (n * den > num * d) best = RowBlock{r, nb}, num = n, den = d;
    }
  return 4 * num * den1 >= 5 * num1 * den ? best : one;
}

// y = f(sum + b) for R rows (x and y advance by K and ldy); in --fp fused the bias starts chain 0
// instead (DenseAttrs), off the latency path.
template <int K, int S, int NB, int R, bool HasBias, bool Fused, class Act>
inline void dense_out(const float* x, const float* w, const float* b, float* y, int ldy, int ldw, Act f) {
  vf sum[R][NB];
  if constexpr (R == 1) {
    dense_block<K, S, NB, Fused, HasBias && Fused>(x, w, ldw, sum[0], b);
  } else {
    chains_rows<K, S, NB, R, Fused, HasBias && Fused>(x, w, ldw, b, sum);
  }
KC2CPP_UNROLL(8)
  for (int q = 0; q < R; ++q)
KC2CPP_UNROLL(24)
    for (int v = 0; v < NB; ++v) {
      vf t = sum[q][v];
      if constexpr (HasBias && !Fused) t = add(t, vload(b + v * kLanes));
      vstore(y + q * ldy + v * kLanes, f(t));
    }
}

// Long Dense sums over several register blocks (K >= kChunkK, S <= 4): w is read in chunks of
// kChunkRows rows (rounded down to a multiple of S, so that each chunk starts at chain 0), and
// within a chunk every block of a group of up to kChunkBlocks blocks in turn, so each row of w
// streams once, whole, where block after block would stream the matrix once per block's
// columns (the MNIST head, Dense 32768 -> 128: 8 vectors in 2 blocks on AVX-512). Between
// chunks a block's S x NB chains wait in a stack array (kChunkBlocks x S x NB vectors: 12 KB on
// AVX-512, 3 KB on NEON, 256 B on scalar builds). The same chains in the same order as
// dense_block: chain s takes i = s, s + S, ... in turn, started by chain_start.
// Size-first builds keep dense_block's one loop (kChunkK out of reach).
#if defined(KC2CPP_OPTIMIZE_SIZE)
constexpr int kChunkK = 0x7fffffff, kChunkRows = 256, kChunkBlocks = 8;
#else
constexpr int kChunkK = 1024, kChunkRows = 256, kChunkBlocks = 8;
#endif

template <int S, int NB, bool Fused>
KC2CPP_ALWAYS_INLINE inline void chains_run(const float* x, const float* w, int ldw, int i0, int i1, vf (&acc)[S][NB]) {
  for (int i = i0; i < i1; i += S)
KC2CPP_UNROLL(4)
    for (int s = 0; s < S; ++s) {
      const vf xs = vsplat(x[i + s]);
KC2CPP_UNROLL(24)
      for (int v = 0; v < NB; ++v) acc[s][v] = madd<Fused>(xs, vload(w + (i + s) * ldw + v * kLanes), acc[s][v]);
    }
}

// Rows [k0, k1) (multiples of S) of block `blk` (NBj vectors at column vector v0), its chains in
// acc; k0 == 0 starts them.
template <int S, int NBj, int NB, bool Fused, bool Init>
KC2CPP_ALWAYS_INLINE inline void chunk_block(const float* x, const float* w, int ldw, const float* b, int v0, int k0,
                                             int k1, vf (&store)[S][NB]) {
  vf acc[S][NBj];
  if (k0 == 0) {
    chain_start<NBj, Init>(vsplat(x[0]), w + v0 * kLanes, Init ? b + v0 * kLanes : nullptr, acc[0]);
KC2CPP_UNROLL(4)
    for (int s = 1; s < S; ++s) chain_start<NBj, false>(vsplat(x[s]), w + s * ldw + v0 * kLanes, nullptr, acc[s]);
    k0 = S;
  } else {
KC2CPP_UNROLL(4)
    for (int s = 0; s < S; ++s)
KC2CPP_UNROLL(24)
      for (int v = 0; v < NBj; ++v) acc[s][v] = store[s][v];
  }
  chains_run<S, NBj, Fused>(x, w + v0 * kLanes, ldw, k0, k1, acc);
KC2CPP_UNROLL(4)
  for (int s = 0; s < S; ++s)
KC2CPP_UNROLL(24)
    for (int v = 0; v < NBj; ++v) store[s][v] = acc[s][v];
}

// The tail rows i >= K - K % S (chain i - (K - K % S)), the tree over the chains, the bias and f.
template <int K, int S, int NBj, int NB, bool HasBias, bool Fused, class Act>
KC2CPP_ALWAYS_INLINE inline void chunk_finish(const float* x, const float* w, int ldw, const float* b, float* y, int v0,
                                              vf (&store)[S][NB], Act f) {
  constexpr int KM = K - K % S;
KC2CPP_UNROLL(4)
  for (int i = KM; i < K; ++i) {
    const vf xs = vsplat(x[i]);
KC2CPP_UNROLL(24)
    for (int v = 0; v < NBj; ++v) store[i - KM][v] = madd<Fused>(xs, vload(w + i * ldw + (v0 + v) * kLanes), store[i - KM][v]);
  }
KC2CPP_UNROLL(24)
  for (int v = 0; v < NBj; ++v) {
    vf t = store[0][v];
    if constexpr (S == 2) t = add(store[0][v], store[1][v]);
    if constexpr (S == 3) t = add(add(store[0][v], store[1][v]), store[2][v]);
    if constexpr (S == 4) t = add(add(store[0][v], store[1][v]), add(store[2][v], store[3][v]));
    if constexpr (HasBias && !Fused) t = add(t, vload(b + (v0 + v) * kLanes));
    vstore(y + (v0 + v) * kLanes, f(t));
  }
}

template <int K, int N, int S, bool HasBias, bool Fused, class Act>
inline void dense_chunked(const float* x, const float* w, const float* b, float* y, Act f) {
  constexpr int ldw = row_floats(N), NV = (N + kLanes - 1) / kLanes, NB = block_vectors(S);
  constexpr int NBLK = (NV + NB - 1) / NB, REM = NV - (NBLK - 1) * NB, KM = K - K % S;
  constexpr bool Init = HasBias && Fused;
  constexpr int CR = kChunkRows / S * S;
  vf store[kChunkBlocks][S][NB];
  for (int g = 0; g < NBLK; g += kChunkBlocks) {
    const int gn = NBLK - g < kChunkBlocks ? NBLK - g : kChunkBlocks;
    for (int k0 = 0; k0 < KM; k0 += CR) {
      const int k1 = KM - k0 < CR ? KM : k0 + CR;
      for (int j = 0; j < gn; ++j) {
        if (g + j < NBLK - 1) {
          chunk_block<S, NB, NB, Fused, Init>(x, w, ldw, b, (g + j) * NB, k0, k1, store[j]);
        } else {
          chunk_block<S, REM, NB, Fused, Init>(x, w, ldw, b, (g + j) * NB, k0, k1, store[j]);
        }
      }
    }
    for (int j = 0; j < gn; ++j) {
      if (g + j < NBLK - 1) {
        chunk_finish<K, S, NB, NB, HasBias, Fused>(x, w, ldw, b, y, (g + j) * NB, store[j], f);
      } else {
        chunk_finish<K, S, REM, NB, HasBias, Fused>(x, w, ldw, b, y, (g + j) * NB, store[j], f);
      }
    }
  }
}

// reduce_tree's combination of acc[Lo, Hi), in float.
template <int Lo, int Hi>
inline float tree_sum(const float* acc) {
  if constexpr (Hi - Lo == 1) {
    return acc[Lo];
  } else {
    constexpr int M = Lo + tree_split(Hi - Lo);
    return add(tree_sum<Lo, M>(acc), tree_sum<M, Hi>(acc));
  }
}

// sum_k x[k] * w[k] for k < K, one output in the order above, depth first: each chain where the
// tree takes it, so about log2(S) partial sums are live at once (pinned: g++ would otherwise defer
// each sum to its use, after every product). Init (--fp fused with a bias): chain 0 starts at
// fma(x_0, w_0, init[0]). Dense(1) with S > 4, and matmul_nt's form for long rows.
template <int K, int S, bool Fused, bool Init, int Lo, int Hi>
inline float dot_tree(const float* x, const float* w, const float* init) {
  if constexpr (Hi - Lo == 1) {
    float acc;
    if constexpr (Init && Lo == 0) {
      acc = madd<true>(x[0], w[0], init[0]);
    } else {
      acc = mul(x[Lo], w[Lo]);
    }
    for (int i = Lo + S; i < K; i += S) acc = madd<Fused>(x[i], w[i], acc);
    return pin(acc);
  } else {
    constexpr int M = Lo + tree_split(Hi - Lo);
    const float left = dot_tree<K, S, Fused, Init, Lo, M>(x, w, init);
    return pin(add(left, dot_tree<K, S, Fused, Init, M, Hi>(x, w, init)));
  }
}

// Dense with one output column: w is K contiguous floats. The order above, in scalar registers:
// one output per vector would use one lane in kLanes for every product, where a scalar operation
// costs a vector's issue slot at most (a Dense(1) regression head, stepped after a GRU). S <= 4
// chains side by side; wider trees depth first (dot_tree: an unfused Dense(32 -> 1) has S = 32,
// whose 32 products computed first spilled on AVX2's 16 registers).
template <int K, int S, bool HasBias, bool Fused, class Act>
inline void dense_one(const float* x, const float* w, const float* b, float* y, int rows, Act f) {
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + r * K;
    float t;
    if constexpr (S > 4) {
      t = dot_tree<K, S, Fused, HasBias && Fused, 0, S>(xr, w, b);
    } else {
      float acc[S];
KC2CPP_UNROLL(4)
      for (int s = 0; s < S; ++s) acc[s] = mul(xr[s], w[s]);
      if constexpr (HasBias && Fused) acc[0] = madd<true>(xr[0], w[0], b[0]);
KC2CPP_UNROLL(64)
      for (int i = S; i < K; ++i) acc[i % S] = madd<Fused>(xr[i], w[i], acc[i % S]);
      t = tree_sum<0, S>(acc);
    }
    if constexpr (HasBias && !Fused) t = add(t, b[0]);
    y[r] = f(t);
  }
}

// R rows of a Dense (N > 1) in register blocks of R rows x NB vectors, the column blocks right to
// left: a row's last vector, stored whole, runs on into the next row's first columns, which the
// leftmost block, stored last, then writes.
template <int K, int N, int S, int R, int NB, bool HasBias, bool Fused, class Act>
inline void dense_rows(const float* x, const float* w, const float* b, float* y, Act f) {
  constexpr int ldw = row_floats(N), NV = (N + kLanes - 1) / kLanes, REM = NV % NB, JR = NV - REM;
  if constexpr (REM > 0)
    dense_out<K, S, REM, R, HasBias, Fused>(x, w + JR * kLanes, HasBias ? b + JR * kLanes : nullptr, y + JR * kLanes,
                                            N, ldw, f);
  for (int j = JR - NB; j >= 0; j -= NB)
    dense_out<K, S, NB, R, HasBias, Fused>(x, w + j * kLanes, HasBias ? b + j * kLanes : nullptr, y + j * kLanes, N,
                                           ldw, f);
}

// Dense on the last axis: y[r, j] = f(sum_i x[r, i] * w[i, j] (+ b[j])) for r < Rows.
// w is the kernel [K][row_floats(N)] (N = 1: [K], dense_one), b the bias [row_floats(N)].
// Rows is a template argument so that a one-row layer compiles no row-block code.
template <int K, int N, int S, int Rows, bool HasBias, bool Fused, class Act>
inline void dense(const float* x, const float* w, const float* b, float* y, Act f) {
  constexpr int rows = Rows;
  if constexpr (N == 1) {
    dense_one<K, S, HasBias, Fused>(x, w, b, y, rows, f);
  } else if constexpr (K >= kChunkK && S <= 4 && (N + kLanes - 1) / kLanes > block_vectors(S)) {
    for (int r = 0; r < rows; ++r) dense_chunked<K, N, S, HasBias, Fused>(x + r * K, w, b, y + r * N, f);
  } else {
    constexpr int NV = (N + kLanes - 1) / kLanes, NB = NV < block_vectors(S) ? NV : block_vectors(S);
    constexpr RowBlock RB = row_block(S, NV);
    constexpr int R = RB.rows, RNB = RB.vectors;
    constexpr int RB_ROWS = R > 1 ? rows / R * R : 0;  // rows done R at a time
    constexpr int R2 = R > 1 && rows % R > 1 ? rows % R : 0;  // then the rest as one block
    if constexpr (RB_ROWS > 0) {
      for (int r = 0; r < RB_ROWS; r += R) dense_rows<K, N, S, R, RNB, HasBias, Fused>(x + r * K, w, b, y + r * N, f);
    }
    if constexpr (R2 > 0) dense_rows<K, N, S, R2, RNB, HasBias, Fused>(x + RB_ROWS * K, w, b, y + RB_ROWS * N, f);
    for (int r = RB_ROWS + R2; r < rows; ++r) dense_rows<K, N, S, 1, NB, HasBias, Fused>(x + r * K, w, b, y + r * N, f);
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

// The max of x[0..n) as softmax defines it (m = x_0, then x_j > m ? x_j : m), a vector at a time:
// every lane starts at x_0, so a NaN x_0 makes it NaN and any later NaN is skipped, as in the
// scalar loop. The rest is order-free: the max of non-NaN floats is exact, and where +0 and -0
// tie, which one is kept does not change exp(x - m).
inline float row_max(const float* x, int n) {
  vf vm = vsplat(x[0]);
  int j = 0;
  for (; j + kLanes <= n; j += kLanes) vm = max_(vload(x + j), vm);
  float m = fold_lanes(vm, [](vf a, vf down) { return max_(down, a); });
  for (; j < n; ++j) m = max_(x[j], m);
  return m;
}

// Softmax over the middle axis of [outer][len][inner]:
// m = max_j x_j (first element, then x_j > m); e_j = exp(x_j - m); s = e_0 + e_1 + ... in index
// order; y_j = e_j / s, or for log-softmax y_j = (x_j - m) - log(s).
// Softmax of contiguous rows (inner == 1) takes the max and the exponentials a vector at a time
// (row_max; the same bits per element) and runs the index-order sums of up to 8 rows side by side,
// one chain each: transformer_s32_d64 spent a third of its time in the scalar exp, then a fifth in
// the max's and the sum's dependent chains.
inline void softmax(const float* x, float* y, int outer, int len, int inner, bool log_softmax) {
  if (inner == 1 && !log_softmax) {  // log-softmax rereads x after the sum: y may be x
    constexpr int R = 8;
    for (int o0 = 0; o0 < outer; o0 += R) {
      const int rows = outer - o0 < R ? outer - o0 : R;
      for (int r = 0; r < rows; ++r) {
        const float* xr = x + (o0 + r) * len;
        float* yr = y + (o0 + r) * len;
        const float m = row_max(xr, len);
        const vf vm = vsplat(m);
        int j = 0;
        for (; j + kLanes <= len; j += kLanes) vstore(yr + j, exp(sub(vload(xr + j), vm)));
        for (; j < len; ++j) yr[j] = exp(sub(xr[j], m));
      }
      float s[R] = {};
      const float* yb = y + o0 * len;
      if (rows == R) {
        for (int j = 0; j < len; ++j)
KC2CPP_UNROLL(8)
          for (int r = 0; r < R; ++r) s[r] = add(s[r], yb[r * len + j]);
      } else {
        for (int r = 0; r < rows; ++r)
          for (int j = 0; j < len; ++j) s[r] = add(s[r], yb[r * len + j]);
      }
      for (int r = 0; r < rows; ++r) {
        float* yr = y + (o0 + r) * len;
        const vf vs = vsplat(s[r]);
        int j = 0;
        for (; j + kLanes <= len; j += kLanes) vstore(yr + j, div(vload(yr + j), vs));
        for (; j < len; ++j) yr[j] = div(yr[j], s[r]);
      }
    }
    return;
  }
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
// copy into the caller's output buffer (predict's and step()'s last line), which never overlaps
// the source: whole vectors, then the tail (clang 14 copied float by float, reloading each from
// the vector just stored: Dense 8->8 1.4x g++'s time).
inline void copy_out(const float* x, float* y, int n) {
  int i = 0;
  for (; i + kLanes <= n; i += kLanes) vstore(y + i, vload(x + i));
  for (; i < n; ++i) y[i] = x[i];
}
