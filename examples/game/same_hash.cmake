# cmake -DA=<program> -DB=<program> -DARGS=<args;...> -P same_hash.cmake
# Runs both programs with the same arguments; fails unless both pass and print the same
# "simulation hash" line (e.g. the native ISA path against the scalar path).
foreach(p A B)
  execute_process(COMMAND "${${p}}" ${ARGS} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
  message("${out}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${${p}} failed (${rc})")
  endif()
  string(REGEX MATCH "simulation hash: [0-9a-f]+  states hash: [0-9a-f]+" hash_${p} "${out}")
  if(NOT hash_${p})
    message(FATAL_ERROR "${${p}} printed no hash")
  endif()
endforeach()
if(NOT hash_A STREQUAL hash_B)
  message(FATAL_ERROR "different simulations:\n  ${A}: ${hash_A}\n  ${B}: ${hash_B}")
endif()
message("same simulation on both: ${hash_A}")
