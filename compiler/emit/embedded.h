// The runtime sources (runtime_min/), embedded at build time by cmake/embed.cmake.
#pragma once

namespace kc2cpp::embedded {

struct File {
  const char* name;  // e.g. "kc2cpp_simd.h"
  const char* text;
};

extern const File kPrelude;  // kc2cpp_isa.h: pasted at the top, outside any namespace
extern const File kBody[];   // pasted in order inside `namespace <model> { namespace kc {`
extern const int kBodyCount;

}  // namespace kc2cpp::embedded
