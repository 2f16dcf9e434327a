# Turns a float32 .npy file into a C++ header holding its values as IEEE bit patterns (exact, and
# no float parsing on the target). Runs on the build machine at build time:
#   cmake -DNPY=inputs.npy -DOUT=inputs.h -DNAME=kInputs -P npy_to_header.cmake
# The header defines <NAME>Rows (first dimension), <NAME>Cols (product of the others) and
# <NAME>Bits[Rows * Cols] (uint32_t, C order).
file(READ "${NPY}" hex HEX)
string(SUBSTRING "${hex}" 0 12 magic)
string(SUBSTRING "${hex}" 12 2 major)
if(NOT magic STREQUAL "934e554d5059" OR NOT major STREQUAL "01")
  message(FATAL_ERROR "${NPY}: not a version 1 .npy file")
endif()
string(SUBSTRING "${hex}" 16 2 len_lo)
string(SUBSTRING "${hex}" 18 2 len_hi)
math(EXPR header_len "0x${len_hi}${len_lo}")
file(READ "${NPY}" header OFFSET 10 LIMIT ${header_len})
if(NOT header MATCHES "'descr': '<f4'" OR NOT header MATCHES "'fortran_order': False")
  message(FATAL_ERROR "${NPY}: not a little-endian C-order float32 array")
endif()
if(NOT header MATCHES "'shape': \\(([0-9]+),")
  message(FATAL_ERROR "${NPY}: needs at least one dimension")
endif()
set(rows ${CMAKE_MATCH_1})

math(EXPR data_start "2 * (10 + ${header_len})")
string(SUBSTRING "${hex}" ${data_start} -1 data)
string(LENGTH "${data}" data_len)
math(EXPR count "${data_len} / 8")
math(EXPR cols "${count} / ${rows}")
set(words "")
math(EXPR last "${count} - 1")
foreach(i RANGE 0 ${last})
  math(EXPR at "${i} * 8")
  string(SUBSTRING "${data}" ${at} 8 w)
  string(REGEX REPLACE "(..)(..)(..)(..)" "0x\\4\\3\\2\\1u" w "${w}")  # little-endian bytes -> word
  math(EXPR in_row "${i} % ${cols}")
  if(in_row EQUAL 0)
    string(APPEND words "\n   ")
  endif()
  string(APPEND words " ${w},")
endforeach()

get_filename_component(npy_name "${NPY}" NAME)
file(WRITE "${OUT}.tmp"
"// Generated from ${npy_name} by npy_to_header.cmake. DO NOT EDIT.
#pragma once
#include <cstdint>

constexpr long ${NAME}Rows = ${rows};
constexpr long ${NAME}Cols = ${cols};
constexpr std::uint32_t ${NAME}Bits[${count}] = {${words}
};
")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
