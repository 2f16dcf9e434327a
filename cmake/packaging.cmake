# Install rules, the CMake package (installed and build-tree) and CPack (.deb, .tar.gz).
# Included at the end of the top-level CMakeLists.txt, after the kc2cpp target exists.
#
# Installed layout (prefix /usr for the .deb):
#   bin/kc2cpp
#   share/cmake/kc2cpp/        kc2cppConfig.cmake, kc2cppConfigVersion.cmake, kc2cppTargets*.cmake,
#                              kc2cppFunctions.cmake (add_keras_model)
#   share/doc/kc2cpp/          README.md, LICENSE, copyright (Debian's format), changelog.gz, the docs/
#                              folder, examples/
#   share/man/man1/kc2cpp.1.gz the manual page (packaging/kc2cpp.1.in)
# The package files sit under share/ because they describe a build-machine tool, not a
# library for the target: a cross-compiling project finds them through CMAKE_PREFIX_PATH whatever
# its CMAKE_LIBRARY_ARCHITECTURE (ConfigVersion is ARCH_INDEPENDENT for the same reason).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

if(CMAKE_CURRENT_SOURCE_DIR STREQUAL CMAKE_SOURCE_DIR)
  set(_kc2cpp_top_level ON)
else()
  set(_kc2cpp_top_level OFF)
endif()
option(KC2CPP_INSTALL "Generate kc2cpp's install rules and package files" ${_kc2cpp_top_level})
if(NOT KC2CPP_INSTALL)
  return()
endif()

set(KC2CPP_INSTALL_CMAKEDIR "${CMAKE_INSTALL_DATADIR}/cmake/kc2cpp" CACHE STRING
    "Where to install kc2cpp's CMake package files (relative to the prefix)")

install(TARGETS kc2cpp EXPORT kc2cppTargets RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(EXPORT kc2cppTargets NAMESPACE kc2cpp:: DESTINATION "${KC2CPP_INSTALL_CMAKEDIR}")

configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/kc2cppConfig.cmake.in" "${PROJECT_BINARY_DIR}/package/kc2cppConfig.cmake"
  INSTALL_DESTINATION "${KC2CPP_INSTALL_CMAKEDIR}")
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/package/kc2cppConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}" COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES
  "${PROJECT_BINARY_DIR}/package/kc2cppConfig.cmake"
  "${PROJECT_BINARY_DIR}/package/kc2cppConfigVersion.cmake"
  "${CMAKE_CURRENT_LIST_DIR}/kc2cppFunctions.cmake"
  DESTINATION "${KC2CPP_INSTALL_CMAKEDIR}")

# Build-tree package: -Dkc2cpp_DIR=<this build dir> uses the freshly built kc2cpp without
# installing it (handy for a cross build next to a host build).
export(EXPORT kc2cppTargets NAMESPACE kc2cpp:: FILE "${PROJECT_BINARY_DIR}/kc2cppTargets.cmake")
configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/kc2cppConfig.cmake.in" "${PROJECT_BINARY_DIR}/kc2cppConfig.cmake"
  INSTALL_DESTINATION "${PROJECT_BINARY_DIR}" INSTALL_PREFIX "${PROJECT_BINARY_DIR}")
file(COPY_FILE "${PROJECT_BINARY_DIR}/package/kc2cppConfigVersion.cmake"
     "${PROJECT_BINARY_DIR}/kc2cppConfigVersion.cmake" ONLY_IF_DIFFERENT)
configure_file("${CMAKE_CURRENT_LIST_DIR}/kc2cppFunctions.cmake" "${PROJECT_BINARY_DIR}/kc2cppFunctions.cmake"
               COPYONLY)

# Documentation and the examples, which build against the installed package. The changelog and
# the manual page are compressed as Debian wants them (gzip -9n: no name, no timestamp).
find_program(KC2CPP_GZIP gzip REQUIRED)
configure_file(packaging/kc2cpp.1.in "${PROJECT_BINARY_DIR}/package/kc2cpp.1" @ONLY)
add_custom_command(
  OUTPUT "${PROJECT_BINARY_DIR}/package/kc2cpp.1.gz" "${PROJECT_BINARY_DIR}/package/changelog.gz"
  COMMAND "${KC2CPP_GZIP}" -9nc "${PROJECT_BINARY_DIR}/package/kc2cpp.1" > "${PROJECT_BINARY_DIR}/package/kc2cpp.1.gz"
  COMMAND "${KC2CPP_GZIP}" -9nc "${CMAKE_CURRENT_SOURCE_DIR}/packaging/changelog" > "${PROJECT_BINARY_DIR}/package/changelog.gz"
  DEPENDS "${PROJECT_BINARY_DIR}/package/kc2cpp.1" "${CMAKE_CURRENT_SOURCE_DIR}/packaging/changelog"
  COMMENT "Compressing the manual page and the changelog")
add_custom_target(kc2cpp_package_docs ALL DEPENDS "${PROJECT_BINARY_DIR}/package/kc2cpp.1.gz"
                                                  "${PROJECT_BINARY_DIR}/package/changelog.gz")
install(FILES "${PROJECT_BINARY_DIR}/package/kc2cpp.1.gz" DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")
install(FILES "${PROJECT_BINARY_DIR}/package/changelog.gz" packaging/copyright DESTINATION "${CMAKE_INSTALL_DOCDIR}")
install(FILES README.md LICENSE DESTINATION "${CMAKE_INSTALL_DOCDIR}" OPTIONAL)
install(DIRECTORY docs/ DESTINATION "${CMAKE_INSTALL_DOCDIR}" OPTIONAL)
install(DIRECTORY examples DESTINATION "${CMAKE_INSTALL_DOCDIR}" OPTIONAL
        PATTERN "build*" EXCLUDE PATTERN "__pycache__" EXCLUDE)

# CPack: `cpack -G DEB` in the build tree makes kc2cpp_<version>_<arch>.deb.
set(CPACK_PACKAGE_NAME kc2cpp)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "kc2cpp")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "ahead-of-time compiler from Keras model files to one standalone C++17 file")
string(CONCAT CPACK_PACKAGE_DESCRIPTION  # lines below 80 characters (lintian)
    "kc2cpp reads a trained Keras model (.keras, .h5, or JSON with weights) and\n"
    "writes one C++17 source file that computes its forward pass: weights baked in,\n"
    "no runtime library, no heap, bit-reproducible across ISAs. Includes the CMake\n"
    "package with add_keras_model(). Generated files may be used under any terms.")
set(CPACK_PACKAGE_CONTACT "kc2cpp developers <kc2cpp@example.org>" CACHE STRING "Package maintainer")
set(CPACK_PACKAGE_INSTALL_DIRECTORY kc2cpp)
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR "DEB;TGZ" CACHE STRING "CPack generators")
# /usr for the .deb only: the .tar.gz unpacks to kc2cpp-<version>-<system>/{bin,share} (packaging/cpack_options.cmake).
set(CPACK_PROJECT_CONFIG_FILE "${CMAKE_CURRENT_SOURCE_DIR}/packaging/cpack_options.cmake")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends from dpkg-shlibdeps: libhdf5, libstdc++6, libc6 ...
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/\\.git/" "/build[^/]*/" "/\\.venv[^/]*/" "/__pycache__/")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "cmake (>= 3.20), g++ | clang, gcc-arm-none-eabi, libnewlib-arm-none-eabi")
include(CPack)
