# cmake -DCXX=... -DOBJDUMP=... -DPATTERN=<regex> -DSRC=variant.cpp -DRT_DIR=... -DTEST_DIR=...
#       -DOUT=<path prefix> -DFLAGS=<;-list> -P check_no_fma.cmake
# Fails if the object of SRC (all runtime ops, the deliberate fma op left out) contains an
# instruction matching PATTERN, or if a plain `a * b + c` compiled with the same FLAGS does NOT
# (then the check could not have caught a contraction).
function(disassemble src obj out_var)
  execute_process(
    COMMAND ${CXX} -std=c++17 ${FLAGS} -I${RT_DIR} -I${TEST_DIR} -DKC_VARIANT=kc_probe
            -DKC_MARCH_LEVEL=0 -DKC_NO_FMA_OP -c ${src} -o ${obj}
    RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "compiling ${src} failed:\n${err}")
  endif()
  execute_process(COMMAND ${OBJDUMP} -d --no-show-raw-insn ${obj} OUTPUT_VARIABLE asm RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${OBJDUMP} failed on ${obj}")
  endif()
  set(${out_var} "${asm}" PARENT_SCOPE)
endfunction()

file(WRITE ${OUT}_control.cpp "float kc_control(float a, float b, float c) { return a * b + c; }\n")
disassemble(${OUT}_control.cpp ${OUT}_control.o control_asm)
string(REGEX MATCHALL "${PATTERN}" control_hits "${control_asm}")
list(LENGTH control_hits n_control)
if(n_control EQUAL 0)
  message(FATAL_ERROR "control: a * b + c with '${FLAGS}' has no instruction matching '${PATTERN}'; "
                      "the check is not able to detect contraction here")
endif()

disassemble(${SRC} ${OUT}.o asm)
string(REGEX MATCHALL "[^\n]*(${PATTERN})[^\n]*" hits "${asm}")
list(LENGTH hits n_hits)
if(NOT n_hits EQUAL 0)
  list(SUBLIST hits 0 10 first)
  string(REPLACE ";" "\n" first "${first}")
  message(FATAL_ERROR "${n_hits} fused multiply-add instruction(s) in the runtime ops:\n${first}")
endif()
string(REGEX MATCHALL "\n" lines "${asm}")
list(LENGTH lines n_lines)
message(STATUS "ok: no instruction matching '${PATTERN}' in ${n_lines} lines of runtime assembly; "
               "control a*b+c has ${n_control}")
