// The C interface between a runtime "variant" (variant.cpp compiled with one compiler, one ISA and
// one optimisation level, inside its own namespace) and the test programs that compare variants.
//
// Variant objects contain no standard-library code and no static constructors, so objects built
// for different -march levels can be linked into one program without one ISA's code leaking into
// another's (inline-function ODR merging); only the getter and the function pointers are shared.
#ifndef KC2CPP_TESTS_RUNTIME_VARIANT_API_H
#define KC2CPP_TESTS_RUNTIME_VARIANT_API_H

#include <stddef.h>

extern "C" {

// out[i] = op(a[i], b[i], c[i]) for i in [0, n); n is a multiple of 16 for `vec`.
typedef void (*KcOpFn)(const float* a, const float* b, const float* c, float* out, size_t n);

struct KcOp {
  const char* name;
  KcOpFn vec;     // through vf (kLanes at a time)
  KcOpFn scalar;  // through the float overloads
};

struct KcVariant {
  const char* name;   // e.g. "gcc_avx2_O3"
  const char* isa;    // kc::isa_name()
  int lanes;          // kc::kLanes
  int march_level;    // x86-64 micro-architecture level the object needs (0: none/other arch)
  int has_fma;        // KC2CPP_HAS_FMA
  size_t num_ops;
  const KcOp* ops;
  // out[0, lanes) = kc::vload_n(p, n): the partial load of loop tails and channel rows
  void (*load_n)(const float* p, int n, float* out);
};

}  // extern "C"

#endif  // KC2CPP_TESTS_RUNTIME_VARIANT_API_H
