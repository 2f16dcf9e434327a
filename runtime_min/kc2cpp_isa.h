// kc2cpp runtime: ISA selection and floating-point environment checks.
//
// License: this runtime code and the file kc2cpp generated around it may be used, copied, modified,
// distributed and sold under any terms, including in closed-source firmware, without attribution
// (kc2cpp's LICENSE, "Generated files").
//
// Pasted at the top of every generated file, outside any namespace. Rules:
// - Exactly one of KC2CPP_ISA_AVX512 / _AVX2 / _SSE2 / _NEON / _SCALAR is defined, chosen from the
//   compiler's own target macros; -DKC2CPP_FORCE_SCALAR forces _SCALAR.
// - KC2CPP_HAS_FMA is defined when a single-rounding hardware fma exists for float AND for the
//   vector type of the selected ISA.
// - Results are bit-exact only under IEEE single-precision evaluation with the default floating-point
//   environment (round to nearest even, no flush-to-zero / denormals-are-zero). Builds that cannot
//   give that (fast-math, finite-math-only, x87 excess precision) are refused.
// - -DKC2CPP_OPTIMIZE_SIZE builds the same file size-first, for the same bits: loops stay loops
//   (KC2CPP_UNROLL and KC2CPP_ALWAYS_INLINE do nothing), and Dense-like sums (kc2cpp_kernels.h's
//   dense_block) run one vector at a time through one shared loop instead of per-layer unrolled trees.
// - Contraction of a*b+c into an fma is switched off here by pragma; kc2cpp_simd.h additionally puts
//   an asm barrier on every product, because clang ignores the pragma under -ffp-contract=fast.
// Includes only standard headers and the selected ISA's intrinsics header.
#ifndef KC2CPP_ISA_H
#define KC2CPP_ISA_H

#if defined(__FAST_MATH__)
#error "kc2cpp: generated code must not be compiled with -ffast-math (results would not be reproducible)"
#endif
#if defined(__FINITE_MATH_ONLY__) && __FINITE_MATH_ONLY__
#error "kc2cpp: generated code must not be compiled with -ffinite-math-only (NaN/Inf handling is part of the contract)"
#endif
#if defined(__FLT_EVAL_METHOD__) && (__FLT_EVAL_METHOD__ == 1 || __FLT_EVAL_METHOD__ == 2)
#error "kc2cpp: float expressions are evaluated in excess precision (x87?); compile with SSE2 (-msse2 -mfpmath=sse)"
#endif

// Value-changing optimisations that have no macro to detect are switched off for the code below:
// contraction, reassociation, reciprocal approximation, ignoring the sign of zero
// (-fassociative-math, -freciprocal-math, -fno-signed-zeros: checked to leave results unchanged).
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wignored-pragmas"  // clang 14 ignores float_control on aarch64
#pragma float_control(precise, on)
#pragma clang diagnostic pop
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)
#pragma clang fp reassociate(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off", "no-associative-math", "no-reciprocal-math", "signed-zeros")
#endif

#include <cstddef>
#include <cstdint>

#if defined(KC2CPP_FORCE_SCALAR)
#define KC2CPP_ISA_SCALAR 1
#elif defined(__AVX512F__)
#define KC2CPP_ISA_AVX512 1
#elif defined(__AVX2__) && defined(__FMA__)
#define KC2CPP_ISA_AVX2 1
#elif defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2)
#define KC2CPP_ISA_SSE2 1
#elif defined(__aarch64__) && defined(__ARM_NEON)
#define KC2CPP_ISA_NEON 1
#else
#define KC2CPP_ISA_SCALAR 1
#endif

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
#define KC2CPP_ARCH_X86 1
#endif

#if defined(KC2CPP_ISA_AVX512) || defined(KC2CPP_ISA_AVX2) || defined(KC2CPP_ISA_SSE2)
// gcc 12's AVX-512 intrinsics read a deliberately uninitialised `__Y` and warn about it where they
// are inlined (gcc PR 105593); the warning is silenced for the header's own lines only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif
#elif defined(KC2CPP_ISA_NEON)
#include <arm_neon.h>
#endif

// Hardware fma for float (via __builtin_fmaf, which gcc and clang always expand inline when the
// target has the instruction) and for the vector type.
#if defined(__GNUC__) && defined(KC2CPP_ARCH_X86) && defined(__FMA__)
#define KC2CPP_HAS_FMA 1
#elif defined(__GNUC__) && defined(__aarch64__)
#define KC2CPP_HAS_FMA 1
#elif defined(__GNUC__) && defined(__arm__) && defined(__ARM_FEATURE_FMA) && defined(__ARM_FP) && (__ARM_FP & 4)
#define KC2CPP_HAS_FMA 1
#endif

// Bit copies between float and integer lanes (no strict-aliasing violations).
#if defined(__GNUC__)
#define KC2CPP_MEMCPY __builtin_memcpy
#else
#include <cstring>
#define KC2CPP_MEMCPY std::memcpy
#endif

// KC2CPP_ALWAYS_INLINE: for kernel helpers that take register blocks (vf arrays) by reference;
// out of line, those blocks would live in memory. KC2CPP_UNROLL(n): unrolls the next loop n times
// (register blocks, short fixed loops). Neither changes an operation, so KC2CPP_OPTIMIZE_SIZE drops both.
#if defined(__GNUC__) && !defined(KC2CPP_OPTIMIZE_SIZE)
#define KC2CPP_ALWAYS_INLINE __attribute__((always_inline))
#define KC2CPP_PRAGMA(x) _Pragma(#x)
#define KC2CPP_UNROLL(n) KC2CPP_PRAGMA(GCC unroll n)
#else
#define KC2CPP_ALWAYS_INLINE
#define KC2CPP_UNROLL(n)
#endif

// KC2CPP_OPAQUE(r): forgets how register value r was computed, so the compiler cannot fuse the
// product stored in r into a later add (contraction) nor reassociate across it. Emits no instruction.
#if defined(__GNUC__)
#if defined(KC2CPP_ARCH_X86) && defined(__AVX512F__)
#define KC2CPP_OPAQUE(r) __asm__("" : "+v"(r))
#elif defined(KC2CPP_ARCH_X86) && defined(__SSE2__)
#define KC2CPP_OPAQUE(r) __asm__("" : "+x"(r))
#elif defined(__aarch64__)
#define KC2CPP_OPAQUE(r) __asm__("" : "+w"(r))
#elif defined(__arm__) && defined(__ARM_FP) && (__ARM_FP & 4)
#define KC2CPP_OPAQUE(r) __asm__("" : "+t"(r))
#elif defined(__arm__) || (defined(__riscv) && !defined(__riscv_flen))
#define KC2CPP_OPAQUE(r) __asm__("" : "+r"(r))
#elif defined(__riscv)
#define KC2CPP_OPAQUE(r) __asm__("" : "+f"(r))
#else
#define KC2CPP_OPAQUE(r) __asm__("" : "+m"(r))
#endif
#else
#define KC2CPP_OPAQUE(r) ((void)0)
#endif

// KC2CPP_HIDE_POINTER(p): forgets where pointer p points; emits no instruction. A pooling kernel
// inlined after the kernel that wrote its input then loads that input from memory:
// clang otherwise rebuilt the vectors it could see being stored, lane group by lane group through
// general registers (pool_1d, AVX-512: 69 ns instead of 11).
#if defined(__GNUC__)
#define KC2CPP_HIDE_POINTER(p) __asm__("" : "+r"(p))
#else
#define KC2CPP_HIDE_POINTER(p) ((void)0)
#endif

#endif  // KC2CPP_ISA_H
