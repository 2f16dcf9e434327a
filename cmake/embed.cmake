# Turns the runtime sources into C++ string literals (see compiler/emit/embedded.h):
#   cmake -DOUT=<out.cpp> -DPRELUDE=<file> "-DBODY=<file>;<file>..." -P embed.cmake
# The prelude is pasted outside any namespace; the body files, in order, inside the model's.
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
file(WRITE ${OUT}.tmp "// Generated from runtime_min/ by cmake/embed.cmake. DO NOT EDIT.
#include \"emit/embedded.h\"

namespace kc2cpp::embedded {
const File kPrelude = ${prelude};
const File kBody[] = {
${body}};
const int kBodyCount = ${count};
}  // namespace kc2cpp::embedded
")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
