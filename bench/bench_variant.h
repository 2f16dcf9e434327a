// kc2cpp benchmark: the descriptor of one compiled variant of a generated model
// (one model x one ISA path x one --fp mode). Each descriptor lives in a tiny wrapper TU
// (variant.cpp.in) compiled with the SAME -march flags as the generated source; it is a
// constant-initialised POD, so no code compiled for a wider ISA runs before the CPU check.
#pragma once

#include <cstddef>

namespace bench {

struct VariantDesc {
  const char* model;      // model id, e.g. "dense_64_64"
  const char* isa;        // the ISA path asked for: scalar | sse2 | avx2 | avx512
  const char* fp;         // unfused | fused
  const char* flags;      // the compile flags of the generated source
  const char* cpu;        // what the CPU needs to run it: base | sse2 | avx2 | avx512
  int in_size;            // kInput0Size
  int out_size;           // kOutput0Size
  int in_int;             // 1 if Input0Type is an integer type (Embedding indices), else float
  std::size_t ws_size;    // sizeof(Workspace)
  std::size_t ws_align;   // alignof(Workspace)
  void (*construct)(void* ws);                             // placement-new a Workspace
  void (*predict)(const void* in, float* out, void* ws);   // ns::predict (in: Input0Type*)
  const char* (*isa_name)();                               // ns::isa()
  // Streaming API (recurrent models only; all zero / null otherwise).
  int step_in_size;       // kStepInputSize
  int step_out_size;      // kStepOutputSize
  std::size_t state_size;   // sizeof(State)
  std::size_t state_align;  // alignof(State)
  void (*reset)(void* state);                                        // ns::reset
  void (*step)(const void* in, float* out, void* state, void* ws);  // ns::step
};

}  // namespace bench
