# add_keras_model(): compile a Keras model file into a C++ library target at build time.
#
#   add_keras_model(<target> MODEL <model.keras | model.h5 | model.json>
#                   [WEIGHTS <model.weights.h5>]  # with an architecture JSON (model.to_json()): its weights
#                   [NAMESPACE <ns>]          # C++ namespace of the API (default: <target> as an identifier)
#                   [HEADER <name.h>]         # header to generate (default: <target>.h)
#                   [STATIC | SHARED | OBJECT]  # library type (default: STATIC)
#                   [OPTIONS <kc2cpp args>...])  # passed to kc2cpp as is, e.g. OPTIONS --fp fused
#   add_keras_model(TARGET <target> MODEL ...)   # the same
#
# Creates the library <target> from the generated source. The generated header's folder is a
# PUBLIC include directory, so `#include "<name.h>"` works in whatever links <target>, and
# install(TARGETS <target> ...) installs the header with the library (PUBLIC_HEADER: into include/). The
# source is regenerated whenever the model file, the weights file or the kc2cpp executable changes.
# Generated files go to ${CMAKE_CURRENT_BINARY_DIR}/kc2cpp/<target>/; the target's properties
# KC2CPP_SOURCE, KC2CPP_HEADER, KC2CPP_MODEL, KC2CPP_WEIGHTS and KC2CPP_NAMESPACE name them.
#
# Which kc2cpp runs (always on the build host, also when cross-compiling):
#   1. KC2CPP_EXECUTABLE, if set (cache variable: -DKC2CPP_EXECUTABLE=/path/to/host/kc2cpp);
#   2. the target kc2cpp::kc2cpp: the imported executable of find_package(kc2cpp), or, in the
#      kc2cpp source tree (add_subdirectory/FetchContent), an alias of the `kc2cpp` target that
#      is built first; an in-tree target cannot be used when cross-compiling (it would be built
#      for the target machine), so a cross build needs 1. or a host find_package(kc2cpp);
#   3. `kc2cpp` found on the PATH (find_program).
# See docs/cmake.md.
include_guard(GLOBAL)

# In the kc2cpp tree itself, give the in-tree executable the name the installed package uses.
if(TARGET kc2cpp AND NOT TARGET kc2cpp::kc2cpp)
  get_target_property(_kc2cpp_type kc2cpp TYPE)
  if(_kc2cpp_type STREQUAL "EXECUTABLE")
    add_executable(kc2cpp::kc2cpp ALIAS kc2cpp)
  endif()
  unset(_kc2cpp_type)
endif()

# Sets <out_cmd> to what to put after COMMAND and <out_dep> to the file the command depends on.
function(_kc2cpp_resolve_executable out_cmd out_dep)
  if(KC2CPP_EXECUTABLE)
    if(NOT EXISTS "${KC2CPP_EXECUTABLE}")
      message(FATAL_ERROR "add_keras_model: KC2CPP_EXECUTABLE='${KC2CPP_EXECUTABLE}' does not exist; "
                          "point it at a kc2cpp built for this (the build) machine")
    endif()
    set(${out_cmd} "${KC2CPP_EXECUTABLE}" PARENT_SCOPE)
    set(${out_dep} "${KC2CPP_EXECUTABLE}" PARENT_SCOPE)
    return()
  endif()
  if(TARGET kc2cpp::kc2cpp)
    get_target_property(imported kc2cpp::kc2cpp IMPORTED)
    if(CMAKE_CROSSCOMPILING AND NOT imported)
      message(FATAL_ERROR
        "add_keras_model: this build cross-compiles, so the in-tree kc2cpp would be built for the "
        "target machine and cannot run here. Build kc2cpp for the host first and pass "
        "-DKC2CPP_EXECUTABLE=/path/to/host/kc2cpp (or find_package(kc2cpp) from a host install).")
    endif()
    set(${out_cmd} "$<TARGET_FILE:kc2cpp::kc2cpp>" PARENT_SCOPE)
    set(${out_dep} "$<TARGET_FILE:kc2cpp::kc2cpp>" PARENT_SCOPE)
    return()
  endif()
  find_program(KC2CPP_EXECUTABLE kc2cpp DOC "kc2cpp executable that runs on the build machine")
  if(NOT KC2CPP_EXECUTABLE)
    message(FATAL_ERROR
      "add_keras_model: no kc2cpp found. Use find_package(kc2cpp CONFIG REQUIRED) (with "
      "CMAKE_PREFIX_PATH or kc2cpp_DIR pointing at an install), add_subdirectory() of the kc2cpp "
      "sources, or -DKC2CPP_EXECUTABLE=/path/to/kc2cpp.")
  endif()
  set(${out_cmd} "${KC2CPP_EXECUTABLE}" PARENT_SCOPE)
  set(${out_dep} "${KC2CPP_EXECUTABLE}" PARENT_SCOPE)
endfunction()

function(add_keras_model target)
  set(first 1)
  if(target STREQUAL "TARGET")  # add_keras_model(TARGET <name> ...)
    if(ARGC LESS 2)
      message(FATAL_ERROR "add_keras_model: TARGET needs a name")
    endif()
    set(target "${ARGV1}")
    set(first 2)
  endif()
  cmake_parse_arguments(PARSE_ARGV ${first} arg "STATIC;SHARED;OBJECT" "MODEL;WEIGHTS;NAMESPACE;HEADER" "OPTIONS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "add_keras_model(${target}): unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_MODEL)
    message(FATAL_ERROR "add_keras_model(${target}): MODEL <file> is required")
  endif()
  get_filename_component(model "${arg_MODEL}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  if(NOT EXISTS "${model}")
    message(FATAL_ERROR "add_keras_model(${target}): model file '${model}' does not exist")
  endif()
  set(weights_args "")
  set(weights "")
  if(arg_WEIGHTS)
    get_filename_component(weights "${arg_WEIGHTS}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    if(NOT EXISTS "${weights}")
      message(FATAL_ERROR "add_keras_model(${target}): weights file '${weights}' does not exist")
    endif()
    set(weights_args --weights "${weights}")
  elseif("${model}" MATCHES "\\.json$")
    message(FATAL_ERROR "add_keras_model(${target}): MODEL '${arg_MODEL}' is an architecture JSON; "
                        "give its weights too: WEIGHTS <file written by model.save_weights()>")
  endif()

  set(ns "${arg_NAMESPACE}")
  if(NOT ns)
    string(MAKE_C_IDENTIFIER "${target}" ns)
  endif()
  set(type STATIC)
  foreach(t SHARED OBJECT)
    if(arg_${t})
      set(type ${t})
    endif()
  endforeach()

  set(out_dir "${CMAKE_CURRENT_BINARY_DIR}/kc2cpp/${target}")
  set(source "${out_dir}/${target}.cpp")
  set(header "${arg_HEADER}")
  if(NOT header)
    set(header "${target}.h")
  endif()
  if(IS_ABSOLUTE "${header}")
    get_filename_component(include_dir "${header}" DIRECTORY)
  else()
    set(include_dir "${out_dir}")  # HEADER "models/net.h" is included as "models/net.h"
    set(header "${out_dir}/${header}")
  endif()
  get_filename_component(header_dir "${header}" DIRECTORY)

  _kc2cpp_resolve_executable(kc2cpp_cmd kc2cpp_dep)
  file(RELATIVE_PATH model_rel "${CMAKE_SOURCE_DIR}" "${model}")
  if(model_rel MATCHES "^\\.\\./")  # outside the source tree: say where
    set(model_rel "${model}")
  endif()
  add_custom_command(
    OUTPUT "${source}" "${header}"
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${out_dir}" "${header_dir}"
    COMMAND "${kc2cpp_cmd}" "${model}" ${weights_args} -o "${source}" --header "${header}" --name "${ns}" ${arg_OPTIONS}
    DEPENDS "${model}" ${weights} "${kc2cpp_dep}"
    COMMENT "kc2cpp: compiling Keras model ${model_rel} for ${target}"
    VERBATIM)

  add_library(${target} ${type} "${source}" "${header}")
  # The header belongs to the target: install(TARGETS <target>) installs it with the library, into
  # include/ (a HEADER subfolder is not kept; install(TARGETS <target> ... PUBLIC_HEADER DESTINATION
  # <dir>) to choose, needed as soon as other destinations are given).
  # A PUBLIC_HEADER rather than a file set: install(TARGETS ... EXPORT) works unchanged.
  set_target_properties(${target} PROPERTIES PUBLIC_HEADER "${header}")
  target_include_directories(${target} PUBLIC "$<BUILD_INTERFACE:${include_dir}>")
  # The generated source includes its header by file name.
  target_include_directories(${target} PRIVATE "${header_dir}")
  target_compile_features(${target} PUBLIC cxx_std_17)
  set_target_properties(${target} PROPERTIES
    KC2CPP_MODEL "${model}" KC2CPP_WEIGHTS "${weights}" KC2CPP_SOURCE "${source}" KC2CPP_HEADER "${header}" KC2CPP_NAMESPACE "${ns}")
endfunction()
