# Turns the runtime sources and the templates into C++ string literals (see compiler/emit/embedded.h):
#   cmake -DOUT=<out.cpp> -DPRELUDE=<file> "-DBODY=<file>;<file>..." "-DTEMPLATES=<file>;..." -P embed.cmake
# The prelude is pasted outside any namespace; the body files, in order, inside the model's; the
# templates (templates/) are the generated file's skeleton, filled by compiler/emit/emit.cpp.
function(literal var file)
  get_filename_component(name ${file} NAME)
  file(READ ${file} text)
  set(${var} "{\"${name}\", R\"KC2CPP_EMBED(${text})KC2CPP_EMBED\"}" PARENT_SCOPE)
endfunction()

literal(prelude ${PRELUDE})
set(body "")
foreach(f IN LISTS BODY)
  literal(one ${f})
  string(APPEND body "    ${one},\n")
endforeach()
list(LENGTH BODY count)
set(templates "")
foreach(f IN LISTS TEMPLATES)
  literal(one ${f})
  string(APPEND templates "    ${one},\n")
endforeach()
list(LENGTH TEMPLATES template_count)
file(WRITE ${OUT}.tmp "// Generated from runtime_min/ and templates/ by cmake/embed.cmake. DO NOT EDIT.
#include \"emit/embedded.h\"

namespace kc2cpp::embedded {
const File kPrelude = ${prelude};
const File kBody[] = {
${body}};
const int kBodyCount = ${count};
const File kTemplates[] = {
${templates}};
const int kTemplateCount = ${template_count};
}  // namespace kc2cpp::embedded
")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
