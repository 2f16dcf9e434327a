// kc2cpp runtime: float lanes for the ISA selected by kc2cpp_isa.h.
//
// Pasted inside `namespace <model> { namespace kc {`; includes nothing.
//
// Types:
//   vf      kLanes floats (struct over __m512 / __m256 / __m128 / float32x4_t; plain float on the
//           scalar path, where vf, vmask and vbits ARE float, bool and uint32_t)
//   vmask   per-lane booleans of vf (bool for float)
//   vbits   per-lane uint32 bit patterns of vf (uint32_t for float)
// Contract: every operation exists for float and for vf, and the vf version computes, per lane,
// exactly the bits the float version computes (any NaN may stand for any NaN). Arithmetic is
// IEEE binary32 with one rounding per operation; products are never contracted into an fma
// (KC2CPP_OPAQUE on every product). Comparisons are ordered: false when either side is NaN.
// No operation reads or writes outside the kLanes floats it is given.

// ---------------------------------------------------------------------------------------------
// float: the reference semantics of every operation.

inline std::uint32_t bits(float a) {
  std::uint32_t u;
  KC2CPP_MEMCPY(&u, &a, sizeof u);
  return u;
}
inline float from_bits(std::uint32_t u) {
  float a;
  KC2CPP_MEMCPY(&a, &u, sizeof a);
  return a;
}

inline float add(float a, float b) { return a + b; }
inline float sub(float a, float b) { return a - b; }
inline float mul(float a, float b) {
  float r = a * b;
  KC2CPP_OPAQUE(r);
  return r;
}
inline float div(float a, float b) { return a / b; }
#if defined(KC2CPP_HAS_FMA)
inline float fma(float a, float b, float c) { return __builtin_fmaf(a, b, c); }
#endif

inline float neg(float a) { return from_bits(bits(a) ^ 0x80000000u); }
inline float abs(float a) { return from_bits(bits(a) & 0x7fffffffu); }
inline float copysign_(float mag, float sgn) {
  return from_bits((bits(mag) & 0x7fffffffu) | (bits(sgn) & 0x80000000u));
}

inline bool lt(float a, float b) { return a < b; }
inline bool le(float a, float b) { return a <= b; }
inline bool gt(float a, float b) { return a > b; }
inline bool ge(float a, float b) { return a >= b; }
inline bool eq(float a, float b) { return a == b; }
inline bool mand(bool a, bool b) { return a && b; }
inline bool mor(bool a, bool b) { return a || b; }
inline bool mnot(bool a) { return !a; }
inline float select(bool m, float a, float b) { return m ? a : b; }

// min_(a, b) = a < b ? a : b and max_(a, b) = a > b ? a : b: the second operand wins on NaN and on
// equality (x86 minps/maxps semantics). So max_(0, x) keeps NaN and -0, min_(hi, x) keeps NaN.
inline float min_(float a, float b) { return a < b ? a : b; }
inline float max_(float a, float b) { return a > b ? a : b; }

// Bit-pattern lanes (internal to the math; unsigned, so every shift and add is defined).
inline std::uint32_t band(std::uint32_t a, std::uint32_t b) { return a & b; }
inline std::uint32_t bor(std::uint32_t a, std::uint32_t b) { return a | b; }
inline std::uint32_t bxor(std::uint32_t a, std::uint32_t b) { return a ^ b; }
template <int N> inline std::uint32_t shl(std::uint32_t a) { return a << N; }
template <int N> inline std::uint32_t shr(std::uint32_t a) { return a >> N; }

// Converts a uint32 bit pattern to the int an intrinsic's set1 takes, without overflow.
constexpr int as_i32(std::uint32_t u) {
  return u < 0x80000000u ? static_cast<int>(u) : -static_cast<int>(~u) - 1;
}

// ---------------------------------------------------------------------------------------------
#if defined(KC2CPP_ISA_AVX512)

constexpr int kLanes = 16;
constexpr const char* isa_name() { return "avx512"; }
struct vf { __m512 v; };
struct vmask { __mmask16 m; };
struct vbits { __m512i v; };

inline vf vsplat(float a) { return {_mm512_set1_ps(a)}; }
inline vf vzero() { return {_mm512_setzero_ps()}; }
inline vf vload(const float* p) { return {_mm512_loadu_ps(p)}; }
inline void vstore(float* p, vf a) { _mm512_storeu_ps(p, a.v); }
inline vbits bits(vf a) { return {_mm512_castps_si512(a.v)}; }
inline vf from_bits(vbits a) { return {_mm512_castsi512_ps(a.v)}; }
inline vbits vsplat_bits(std::uint32_t u) { return {_mm512_set1_epi32(as_i32(u))}; }

inline vf add(vf a, vf b) { return {_mm512_add_ps(a.v, b.v)}; }
inline vf sub(vf a, vf b) { return {_mm512_sub_ps(a.v, b.v)}; }
inline vf mul(vf a, vf b) {
  __m512 r = _mm512_mul_ps(a.v, b.v);
  KC2CPP_OPAQUE(r);
  return {r};
}
inline vf div(vf a, vf b) { return {_mm512_div_ps(a.v, b.v)}; }
#if defined(KC2CPP_HAS_FMA)
inline vf fma(vf a, vf b, vf c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
#endif
inline vf min_(vf a, vf b) { return {_mm512_min_ps(a.v, b.v)}; }
inline vf max_(vf a, vf b) { return {_mm512_max_ps(a.v, b.v)}; }

inline vmask lt(vf a, vf b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_LT_OQ)}; }
inline vmask le(vf a, vf b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_LE_OQ)}; }
inline vmask gt(vf a, vf b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_GT_OQ)}; }
inline vmask ge(vf a, vf b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_GE_OQ)}; }
inline vmask eq(vf a, vf b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_EQ_OQ)}; }
inline vmask mand(vmask a, vmask b) { return {static_cast<__mmask16>(a.m & b.m)}; }
inline vmask mor(vmask a, vmask b) { return {static_cast<__mmask16>(a.m | b.m)}; }
inline vmask mnot(vmask a) { return {static_cast<__mmask16>(~a.m)}; }
inline vf select(vmask m, vf a, vf b) { return {_mm512_mask_blend_ps(m.m, b.v, a.v)}; }

inline vbits band(vbits a, vbits b) { return {_mm512_and_si512(a.v, b.v)}; }
inline vbits bor(vbits a, vbits b) { return {_mm512_or_si512(a.v, b.v)}; }
inline vbits bxor(vbits a, vbits b) { return {_mm512_xor_si512(a.v, b.v)}; }
template <int N> inline vbits shl(vbits a) { return {_mm512_slli_epi32(a.v, N)}; }
template <int N> inline vbits shr(vbits a) { return {_mm512_srli_epi32(a.v, N)}; }

// ---------------------------------------------------------------------------------------------
#elif defined(KC2CPP_ISA_AVX2)

constexpr int kLanes = 8;
constexpr const char* isa_name() { return "avx2"; }
struct vf { __m256 v; };
struct vmask { __m256 m; };
struct vbits { __m256i v; };

inline vf vsplat(float a) { return {_mm256_set1_ps(a)}; }
inline vf vzero() { return {_mm256_setzero_ps()}; }
inline vf vload(const float* p) { return {_mm256_loadu_ps(p)}; }
inline void vstore(float* p, vf a) { _mm256_storeu_ps(p, a.v); }
inline vbits bits(vf a) { return {_mm256_castps_si256(a.v)}; }
inline vf from_bits(vbits a) { return {_mm256_castsi256_ps(a.v)}; }
inline vbits vsplat_bits(std::uint32_t u) { return {_mm256_set1_epi32(as_i32(u))}; }

inline vf add(vf a, vf b) { return {_mm256_add_ps(a.v, b.v)}; }
inline vf sub(vf a, vf b) { return {_mm256_sub_ps(a.v, b.v)}; }
inline vf mul(vf a, vf b) {
  __m256 r = _mm256_mul_ps(a.v, b.v);
  KC2CPP_OPAQUE(r);
  return {r};
}
inline vf div(vf a, vf b) { return {_mm256_div_ps(a.v, b.v)}; }
#if defined(KC2CPP_HAS_FMA)
inline vf fma(vf a, vf b, vf c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
#endif
inline vf min_(vf a, vf b) { return {_mm256_min_ps(a.v, b.v)}; }
inline vf max_(vf a, vf b) { return {_mm256_max_ps(a.v, b.v)}; }

inline vmask lt(vf a, vf b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_LT_OQ)}; }
inline vmask le(vf a, vf b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_LE_OQ)}; }
inline vmask gt(vf a, vf b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_GT_OQ)}; }
inline vmask ge(vf a, vf b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_GE_OQ)}; }
inline vmask eq(vf a, vf b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_EQ_OQ)}; }
inline vmask mand(vmask a, vmask b) { return {_mm256_and_ps(a.m, b.m)}; }
inline vmask mor(vmask a, vmask b) { return {_mm256_or_ps(a.m, b.m)}; }
inline vmask mnot(vmask a) {
  return {_mm256_xor_ps(a.m, _mm256_castsi256_ps(_mm256_set1_epi32(-1)))};
}
inline vf select(vmask m, vf a, vf b) { return {_mm256_blendv_ps(b.v, a.v, m.m)}; }

inline vbits band(vbits a, vbits b) { return {_mm256_and_si256(a.v, b.v)}; }
inline vbits bor(vbits a, vbits b) { return {_mm256_or_si256(a.v, b.v)}; }
inline vbits bxor(vbits a, vbits b) { return {_mm256_xor_si256(a.v, b.v)}; }
template <int N> inline vbits shl(vbits a) { return {_mm256_slli_epi32(a.v, N)}; }
template <int N> inline vbits shr(vbits a) { return {_mm256_srli_epi32(a.v, N)}; }

// ---------------------------------------------------------------------------------------------
#elif defined(KC2CPP_ISA_SSE2)

constexpr int kLanes = 4;
constexpr const char* isa_name() { return "sse2"; }
struct vf { __m128 v; };
struct vmask { __m128 m; };
struct vbits { __m128i v; };

inline vf vsplat(float a) { return {_mm_set1_ps(a)}; }
inline vf vzero() { return {_mm_setzero_ps()}; }
inline vf vload(const float* p) { return {_mm_loadu_ps(p)}; }
inline void vstore(float* p, vf a) { _mm_storeu_ps(p, a.v); }
inline vbits bits(vf a) { return {_mm_castps_si128(a.v)}; }
inline vf from_bits(vbits a) { return {_mm_castsi128_ps(a.v)}; }
inline vbits vsplat_bits(std::uint32_t u) { return {_mm_set1_epi32(as_i32(u))}; }

inline vf add(vf a, vf b) { return {_mm_add_ps(a.v, b.v)}; }
inline vf sub(vf a, vf b) { return {_mm_sub_ps(a.v, b.v)}; }
inline vf mul(vf a, vf b) {
  __m128 r = _mm_mul_ps(a.v, b.v);
  KC2CPP_OPAQUE(r);
  return {r};
}
inline vf div(vf a, vf b) { return {_mm_div_ps(a.v, b.v)}; }
#if defined(KC2CPP_HAS_FMA)
inline vf fma(vf a, vf b, vf c) { return {_mm_fmadd_ps(a.v, b.v, c.v)}; }
#endif
inline vf min_(vf a, vf b) { return {_mm_min_ps(a.v, b.v)}; }
inline vf max_(vf a, vf b) { return {_mm_max_ps(a.v, b.v)}; }

inline vmask lt(vf a, vf b) { return {_mm_cmplt_ps(a.v, b.v)}; }
inline vmask le(vf a, vf b) { return {_mm_cmple_ps(a.v, b.v)}; }
inline vmask gt(vf a, vf b) { return {_mm_cmpgt_ps(a.v, b.v)}; }
inline vmask ge(vf a, vf b) { return {_mm_cmpge_ps(a.v, b.v)}; }
inline vmask eq(vf a, vf b) { return {_mm_cmpeq_ps(a.v, b.v)}; }
inline vmask mand(vmask a, vmask b) { return {_mm_and_ps(a.m, b.m)}; }
inline vmask mor(vmask a, vmask b) { return {_mm_or_ps(a.m, b.m)}; }
inline vmask mnot(vmask a) { return {_mm_xor_ps(a.m, _mm_castsi128_ps(_mm_set1_epi32(-1)))}; }
#if defined(__SSE4_1__)
inline vf select(vmask m, vf a, vf b) { return {_mm_blendv_ps(b.v, a.v, m.m)}; }
#else
inline vf select(vmask m, vf a, vf b) {
  return {_mm_or_ps(_mm_and_ps(m.m, a.v), _mm_andnot_ps(m.m, b.v))};
}
#endif

inline vbits band(vbits a, vbits b) { return {_mm_and_si128(a.v, b.v)}; }
inline vbits bor(vbits a, vbits b) { return {_mm_or_si128(a.v, b.v)}; }
inline vbits bxor(vbits a, vbits b) { return {_mm_xor_si128(a.v, b.v)}; }
template <int N> inline vbits shl(vbits a) { return {_mm_slli_epi32(a.v, N)}; }
template <int N> inline vbits shr(vbits a) { return {_mm_srli_epi32(a.v, N)}; }

// ---------------------------------------------------------------------------------------------
#elif defined(KC2CPP_ISA_NEON)

constexpr int kLanes = 4;
constexpr const char* isa_name() { return "neon"; }
struct vf { float32x4_t v; };
struct vmask { uint32x4_t m; };
struct vbits { uint32x4_t v; };

inline vf vsplat(float a) { return {vdupq_n_f32(a)}; }
inline vf vzero() { return {vdupq_n_f32(0.0f)}; }
inline vf vload(const float* p) { return {vld1q_f32(p)}; }
inline void vstore(float* p, vf a) { vst1q_f32(p, a.v); }
inline vbits bits(vf a) { return {vreinterpretq_u32_f32(a.v)}; }
inline vf from_bits(vbits a) { return {vreinterpretq_f32_u32(a.v)}; }
inline vbits vsplat_bits(std::uint32_t u) { return {vdupq_n_u32(u)}; }

inline vf add(vf a, vf b) { return {vaddq_f32(a.v, b.v)}; }
inline vf sub(vf a, vf b) { return {vsubq_f32(a.v, b.v)}; }
inline vf mul(vf a, vf b) {
  float32x4_t r = vmulq_f32(a.v, b.v);
  KC2CPP_OPAQUE(r);
  return {r};
}
inline vf div(vf a, vf b) { return {vdivq_f32(a.v, b.v)}; }
#if defined(KC2CPP_HAS_FMA)
inline vf fma(vf a, vf b, vf c) { return {vfmaq_f32(c.v, a.v, b.v)}; }
#endif

inline vmask lt(vf a, vf b) { return {vcltq_f32(a.v, b.v)}; }
inline vmask le(vf a, vf b) { return {vcleq_f32(a.v, b.v)}; }
inline vmask gt(vf a, vf b) { return {vcgtq_f32(a.v, b.v)}; }
inline vmask ge(vf a, vf b) { return {vcgeq_f32(a.v, b.v)}; }
inline vmask eq(vf a, vf b) { return {vceqq_f32(a.v, b.v)}; }
inline vmask mand(vmask a, vmask b) { return {vandq_u32(a.m, b.m)}; }
inline vmask mor(vmask a, vmask b) { return {vorrq_u32(a.m, b.m)}; }
inline vmask mnot(vmask a) { return {vmvnq_u32(a.m)}; }
inline vf select(vmask m, vf a, vf b) { return {vbslq_f32(m.m, a.v, b.v)}; }
// NEON fmin/fmax treat NaN and -0 differently from min_/max_; compare + select keeps the contract.
inline vf min_(vf a, vf b) { return select(lt(a, b), a, b); }
inline vf max_(vf a, vf b) { return select(gt(a, b), a, b); }

inline vbits band(vbits a, vbits b) { return {vandq_u32(a.v, b.v)}; }
inline vbits bor(vbits a, vbits b) { return {vorrq_u32(a.v, b.v)}; }
inline vbits bxor(vbits a, vbits b) { return {veorq_u32(a.v, b.v)}; }
template <int N> inline vbits shl(vbits a) { return {vshlq_n_u32(a.v, N)}; }
template <int N> inline vbits shr(vbits a) { return {vshrq_n_u32(a.v, N)}; }

// ---------------------------------------------------------------------------------------------
#else  // KC2CPP_ISA_SCALAR: vf is float; every operation above serves both.

constexpr int kLanes = 1;
constexpr const char* isa_name() { return "scalar"; }
using vf = float;
using vmask = bool;
using vbits = std::uint32_t;

inline vf vsplat(float a) { return a; }
inline vf vzero() { return 0.0f; }
inline vf vload(const float* p) { return *p; }
inline void vstore(float* p, vf a) { *p = a; }
inline vbits vsplat_bits(std::uint32_t u) { return u; }

#endif

// ---------------------------------------------------------------------------------------------
// Sign operations on vf, as bit operations (exact for every input, NaN included). On AVX-512 and
// AVX2 the one mask is the float -0.0 (the sign bit), with and-not for abs and (AVX-512) one ternary
// select for copysign: g++ builds an integer splat such as 0x7fffffff from a general register and,
// short of registers (the recurrent cells' gate loops hold two activations' constants), keeps it on
// the stack; a float constant it reads from .rodata instead.
#if defined(KC2CPP_ISA_AVX512)
inline vbits sign_mask() { return {_mm512_castps_si512(_mm512_set1_ps(-0.0f))}; }
inline vf neg(vf a) { return from_bits(bxor(bits(a), sign_mask())); }
inline vf abs(vf a) { return from_bits({_mm512_andnot_si512(sign_mask().v, bits(a).v)}); }
inline vf copysign_(vf mag, vf sgn) {  // per bit: mask ? sgn : mag
  return from_bits({_mm512_ternarylogic_epi32(sign_mask().v, bits(mag).v, bits(sgn).v, 0xAC)});
}
#elif defined(KC2CPP_ISA_AVX2)
inline __m256 sign_mask() { return _mm256_set1_ps(-0.0f); }
inline vf neg(vf a) { return {_mm256_xor_ps(a.v, sign_mask())}; }
inline vf abs(vf a) { return {_mm256_andnot_ps(sign_mask(), a.v)}; }
inline vf copysign_(vf mag, vf sgn) {
  return {_mm256_or_ps(_mm256_andnot_ps(sign_mask(), mag.v), _mm256_and_ps(sign_mask(), sgn.v))};
}
#elif !defined(KC2CPP_ISA_SCALAR)
inline vf neg(vf a) { return from_bits(bxor(bits(a), vsplat_bits(0x80000000u))); }
inline vf abs(vf a) { return from_bits(band(bits(a), vsplat_bits(0x7fffffffu))); }
inline vf copysign_(vf mag, vf sgn) {
  const vbits magnitude = band(bits(mag), vsplat_bits(0x7fffffffu));
  return from_bits(bor(magnitude, band(bits(sgn), vsplat_bits(0x80000000u))));
}
#endif

// a, unchanged, through KC2CPP_OPAQUE: the compiler must have computed it here. g++ otherwise defers
// single-use sums to where their total is used (TER at expansion): after every product of a tree
// or chain, all of which it then keeps live at once (unfused products are opaque, kc2cpp_isa.h).
#if !defined(KC2CPP_ISA_SCALAR)
inline vf pin(vf a) {
  KC2CPP_OPAQUE(a.v);
  return a;
}
#endif
inline float pin(float a) {
  KC2CPP_OPAQUE(a);
  return a;
}

// Partial loads/stores for loop tails: lanes [0, n) are read/written, other lanes of the loaded
// value are +0. Requires 0 <= n <= kLanes.
// vload_n reads the n floats as power-of-two pieces (8, 4, 2, 1 lanes) and joins them in
// registers. A tail is usually data a kernel has just stored (the last partial vector of a
// channel row), and each piece lies inside one earlier store, so store forwarding serves it; a
// whole-vector load spans the next row's store too, and a masked load is not forwarded (both wait
// for the stores to retire: 48 ns instead of 12 for the pool_1d bench model on AVX-512, Intel
// Xeon). With n known at compile time the branches fold away.
#if defined(KC2CPP_ISA_AVX512) || defined(KC2CPP_ISA_AVX2) || defined(KC2CPP_ISA_SSE2)
// Lanes [0, n) of p for 0 <= n < 4; the others +0.
inline __m128 vload_n3(const float* p, int n) {
  if (n <= 0) return _mm_setzero_ps();
  if (n == 1) return _mm_load_ss(p);
  // lanes 0 and 1 by movq (the __m128i pointer of the intrinsic may alias floats)
  const __m128 two = _mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  return n == 2 ? two : _mm_movelh_ps(two, _mm_load_ss(p + 2));
}
#endif
#if defined(KC2CPP_ISA_AVX512) || defined(KC2CPP_ISA_AVX2)
// Lanes [0, n) of p for 0 <= n < 8; the others +0.
inline __m256 vload_n7(const float* p, int n) {
  if (n < 4) return _mm256_zextps128_ps256(vload_n3(p, n));
  const __m256 lo = _mm256_zextps128_ps256(_mm_loadu_ps(p));
  return n == 4 ? lo : _mm256_insertf128_ps(lo, vload_n3(p + 4, n - 4), 1);
}
#endif
inline vf vload_n(const float* p, int n) {
#if defined(KC2CPP_ISA_AVX512)
  if (n >= 16) return vload(p);
  if (n < 8) return {_mm512_zextps256_ps512(vload_n7(p, n))};
  const __m512 lo = _mm512_zextps256_ps512(_mm256_loadu_ps(p));
  if (n == 8) return {lo};
  const __m256d hi = _mm256_castps_pd(vload_n7(p + 8, n - 8));  // joined by AVX512F's 64-bit insert
  return {_mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(lo), hi, 1))};
#elif defined(KC2CPP_ISA_AVX2)
  if (n >= 8) return vload(p);
  return {vload_n7(p, n)};
#elif defined(KC2CPP_ISA_SSE2)
  if (n >= 4) return vload(p);
  return {vload_n3(p, n)};
#elif defined(KC2CPP_ISA_NEON)
  if (n >= 4) return vload(p);
  if (n <= 0) return vzero();
  const float32x2_t zero = vdup_n_f32(0.0f);
  const float32x2_t lo = n >= 2 ? vld1_f32(p) : vld1_lane_f32(p, zero, 0);
  return {vcombine_f32(lo, n == 3 ? vld1_lane_f32(p + 2, zero, 0) : zero)};
#else
  if (n >= kLanes) return vload(p);
  float t[kLanes] = {};
  for (int i = 0; i < n; ++i) t[i] = p[i];
  return vload(t);
#endif
}
inline void vstore_n(float* p, vf a, int n) {
  float t[kLanes];
  vstore(t, a);
  for (int i = 0; i < n; ++i) p[i] = t[i];
}

// Horizontal steps in registers (for reductions whose order pairs lane k with lane k + H):
// lanes_down<H>(a) has a's lane k + H in lane k for k < H (the other lanes: unspecified lanes of
// a); H is a power of two below kLanes. lane0(a) is a's lane 0.
#if defined(KC2CPP_ISA_AVX512)
template <int H> inline vf lanes_down(vf a) {
  static_assert(H == 8 || H == 4 || H == 2 || H == 1, "H: a power of two below 16");
  if constexpr (H == 8) return {_mm512_shuffle_f32x4(a.v, a.v, 0x4E)};  // 128-bit blocks 2, 3, 0, 1
  if constexpr (H == 4) return {_mm512_shuffle_f32x4(a.v, a.v, 0xB1)};  // blocks 1, 0, 3, 2
  if constexpr (H == 2) return {_mm512_permute_ps(a.v, 0x4E)};          // lanes 2, 3, 0, 1 per block
  if constexpr (H == 1) return {_mm512_permute_ps(a.v, 0xB1)};          // lanes 1, 0, 3, 2 per block
}
inline float lane0(vf a) { return _mm512_cvtss_f32(a.v); }
#elif defined(KC2CPP_ISA_AVX2)
template <int H> inline vf lanes_down(vf a) {
  static_assert(H == 4 || H == 2 || H == 1, "H: a power of two below 8");
  if constexpr (H == 4) return {_mm256_permute2f128_ps(a.v, a.v, 0x01)};
  if constexpr (H == 2) return {_mm256_permute_ps(a.v, 0x4E)};
  if constexpr (H == 1) return {_mm256_permute_ps(a.v, 0xB1)};
}
inline float lane0(vf a) { return _mm256_cvtss_f32(a.v); }
#elif defined(KC2CPP_ISA_SSE2)
template <int H> inline vf lanes_down(vf a) {
  static_assert(H == 2 || H == 1, "H: a power of two below 4");
  if constexpr (H == 2) return {_mm_shuffle_ps(a.v, a.v, 0x4E)};
  if constexpr (H == 1) return {_mm_shuffle_ps(a.v, a.v, 0xB1)};
}
inline float lane0(vf a) { return _mm_cvtss_f32(a.v); }
#elif defined(KC2CPP_ISA_NEON)
template <int H> inline vf lanes_down(vf a) {
  static_assert(H == 2 || H == 1, "H: a power of two below 4");
  if constexpr (H == 2) return {vextq_f32(a.v, a.v, 2)};
  if constexpr (H == 1) return {vrev64q_f32(a.v)};
}
inline float lane0(vf a) { return vgetq_lane_f32(a.v, 0); }
#else  // scalar: one lane, nothing to move
template <int H> inline vf lanes_down(vf a) { return a; }
inline float lane0(float a) { return a; }
#endif
// a's lanes folded by f in that pairing: a = f(a, lanes_down<H>(a)) for H = kLanes / 2, ..., 1,
// then lane 0 (sum16's tree of adds, softmax's row max).
template <class F> inline float fold_lanes(vf a, F f) {
  if constexpr (kLanes >= 16) a = f(a, lanes_down<8>(a));
  if constexpr (kLanes >= 8) a = f(a, lanes_down<4>(a));
  if constexpr (kLanes >= 4) a = f(a, lanes_down<2>(a));
  if constexpr (kLanes >= 2) a = f(a, lanes_down<1>(a));
  return lane0(a);
}

// t[i mod 32] per lane (table lookups of kc2cpp_math.h); t is 64-byte aligned. Plain loads, so
// every path returns the table's own bits: a two-source permute on AVX-512 and four permutes and
// a blend tree on AVX2, which read only the index's low 5 bits anyway; lane by lane, masked,
// elsewhere.
inline float lookup32(const float* t, std::uint32_t i) { return t[i & 31u]; }
#if defined(KC2CPP_ISA_AVX512)
inline vf lookup32(const float* t, vbits i) {
  return {_mm512_permutex2var_ps(_mm512_load_ps(t), i.v, _mm512_load_ps(t + 16))};
}
#elif defined(KC2CPP_ISA_AVX2)
inline vf lookup32(const float* t, vbits i) {
  const __m256 q0 = _mm256_permutevar8x32_ps(_mm256_load_ps(t), i.v);
  const __m256 q1 = _mm256_permutevar8x32_ps(_mm256_load_ps(t + 8), i.v);
  const __m256 q2 = _mm256_permutevar8x32_ps(_mm256_load_ps(t + 16), i.v);
  const __m256 q3 = _mm256_permutevar8x32_ps(_mm256_load_ps(t + 24), i.v);
  const __m256 bit3 = _mm256_castsi256_ps(_mm256_slli_epi32(i.v, 28));  // blendv reads the sign bit
  const __m256 bit4 = _mm256_castsi256_ps(_mm256_slli_epi32(i.v, 27));
  return {_mm256_blendv_ps(_mm256_blendv_ps(q0, q1, bit3), _mm256_blendv_ps(q2, q3, bit3), bit4)};
}
#elif !defined(KC2CPP_ISA_SCALAR)
inline vf lookup32(const float* t, vbits i) {
  std::uint32_t k[kLanes];
  float r[kLanes];
  KC2CPP_MEMCPY(k, &i, sizeof k);
  for (int l = 0; l < kLanes; ++l) r[l] = t[k[l] & 31u];
  return vload(r);
}
#endif

// ---------------------------------------------------------------------------------------------
// Generic access for code templated over V = float or V = vf.
template <class V> struct lane_traits;
template <> struct lane_traits<float> {
  using mask = bool;
  using bits = std::uint32_t;
  static float splat(float a) { return a; }
  static std::uint32_t splat_bits(std::uint32_t u) { return u; }
};
#if !defined(KC2CPP_ISA_SCALAR)
template <> struct lane_traits<vf> {
  using mask = vmask;
  using bits = vbits;
  static vf splat(float a) { return vsplat(a); }
  static vbits splat_bits(std::uint32_t u) { return vsplat_bits(u); }
};
#endif
template <class V> using mask_t = typename lane_traits<V>::mask;
template <class V> using bits_t = typename lane_traits<V>::bits;
template <class V> inline V splat_v(float a) { return lane_traits<V>::splat(a); }
template <class V> inline bits_t<V> splat_bits(std::uint32_t u) {
  return lane_traits<V>::splat_bits(u);
}

// ---------------------------------------------------------------------------------------------
// sqrt(V): the IEEE square root, correctly rounded on every path (the hardware instructions used are
// all correctly rounded, subnormals included): sqrt(+-0) = +-0, sqrt(+Inf) = +Inf, negative or NaN
// -> NaN. Never a libm call (__builtin_sqrtf may call sqrtf to set errno): intrinsics, or the
// instruction through asm on the scalar path, or sqrt_soft where no instruction is known.

// Correctly rounded square root from integer operations only (the fallback; tests compare it with
// the hardware). x = m * 2^k with k even and m in [2^24, 2^26); root = floor(sqrt(m * 2^22)) is 24
// bits, rem = m * 2^22 - root^2; round to nearest (no ties exist for a square root): root + 1 iff
// rem > root.
inline float sqrt_soft(float a) {
  const std::uint32_t u = bits(a);
  if ((u & 0x7fffffffu) == 0) return a;                                   // +-0
  if (u >= 0x7f800000u) return u == 0x7f800000u ? a : from_bits(0x7fc00000u);  // +Inf; NaN, negative
  int e = static_cast<int>(u >> 23);  // biased exponent; x = m * 2^(e - 150)
  std::uint32_t m = u & 0x7fffffu;
  if (e == 0) {  // subnormal: normalise
    e = 1;
    while (m < 0x800000u) m <<= 1, --e;
  } else {
    m |= 0x800000u;
  }
  int k = e - 150;
  if (k & 1) m <<= 1, k -= 1;
  else m <<= 2, k -= 2;
  std::uint64_t rest = static_cast<std::uint64_t>(m) << 22, rem = 0, root = 0;
  for (int i = 0; i < 24; ++i) {  // two bits of the 48-bit radicand per step
    rem = (rem << 2) | (rest >> 46);
    rest = (rest << 2) & 0xffffffffffffull;
    root <<= 1;
    if (rem >= 2 * root + 1) rem -= 2 * root + 1, root |= 1;
  }
  if (rem > root) ++root;  // may carry into the exponent below
  const int biased = (k - 22) / 2 + 23 + 127;
  return from_bits((static_cast<std::uint32_t>(biased) << 23) + static_cast<std::uint32_t>(root - 0x800000u));
}

#if defined(KC2CPP_ISA_AVX512) || defined(KC2CPP_ISA_AVX2) || defined(KC2CPP_ISA_SSE2)
inline float sqrt(float a) { return _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(a))); }
#elif defined(__GNUC__) && defined(KC2CPP_ARCH_X86) && defined(__SSE2__)
inline float sqrt(float a) {
  float r;
  __asm__("sqrtss %1, %0" : "=x"(r) : "x"(a));
  return r;
}
#elif defined(__GNUC__) && defined(__aarch64__)
inline float sqrt(float a) {
  float r;
  __asm__("fsqrt %s0, %s1" : "=w"(r) : "w"(a));
  return r;
}
#elif defined(__GNUC__) && defined(__arm__) && defined(__ARM_FP) && (__ARM_FP & 4)
inline float sqrt(float a) {
  float r;
  __asm__("vsqrt.f32 %0, %1" : "=t"(r) : "t"(a));
  return r;
}
#else
inline float sqrt(float a) { return sqrt_soft(a); }
#endif

#if defined(KC2CPP_ISA_AVX512)
inline vf sqrt(vf a) { return {_mm512_sqrt_ps(a.v)}; }
#elif defined(KC2CPP_ISA_AVX2)
inline vf sqrt(vf a) { return {_mm256_sqrt_ps(a.v)}; }
#elif defined(KC2CPP_ISA_SSE2)
inline vf sqrt(vf a) { return {_mm_sqrt_ps(a.v)}; }
#elif defined(KC2CPP_ISA_NEON)
inline vf sqrt(vf a) { return {vsqrtq_f32(a.v)}; }
#endif
