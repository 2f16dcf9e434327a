// The runtime sources (runtime_min/) and templates (templates/), embedded at build time by
// cmake/embed.cmake.
#pragma once

#include <string>

namespace kc2cpp::embedded {

struct File {
  const char* name;  // e.g. "kc2cpp_simd.h"
  const char* text;
};

extern const File kPrelude;  // kc2cpp_isa.h: pasted at the top, outside any namespace
extern const File kBody[];   // pasted in order inside `namespace <model> { namespace kc {`
extern const int kBodyCount;
extern const File kTemplates[];  // templates/*.in: the generated file's skeleton, in sections
extern const int kTemplateCount;

// The text of section `section` of template `file` (templates/README.md): the lines after its
// `//@ <section>` line up to the next one, preceded by one newline (Printer::emit drops the first
// line), so leading and trailing blank lines of the section are kept. Throws Error if missing.
std::string template_section(const std::string& file, const std::string& section);

}  // namespace kc2cpp::embedded
