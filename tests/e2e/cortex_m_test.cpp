// The generated file is firmware-ready: arm-none-eabi-g++ for a Cortex-M4F compiles it warning-free
// without exceptions or RTTI, and the object needs nothing from libm, the heap or C++ runtime
// support, and has no static constructors.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "driver/driver.h"
#include "e2e_util.h"

namespace kc2cpp::e2e {
namespace {

TEST(CortexM4, GeneratedFileCompilesWarningFree) {
  const char* cxx = "arm-none-eabi-g++";
  if (!have_program(cxx))
    GTEST_SKIP() << "SKIPPED: " << cxx << " not found (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi "
                 << "libstdc++-arm-none-eabi-newlib); the Cortex-M4 build is not tested";
  const Fixture* f = find_fixture("k3/summary_walkthrough");
  if (!f) GTEST_SKIP() << "SKIPPED: fixture k3/summary_walkthrough not found (or filtered out)";
  const std::string dir = work_dir() + "/cortex_m4";
  make_clean_dir(dir);
  driver::CompileOptions opt;
  opt.model = f->h5();
  opt.output = dir + "/summary_walkthrough.cpp";
  opt.header = dir + "/summary_walkthrough.h";
  driver::compile_file(opt);

  const std::vector<std::string> cmd = {cxx, "-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard",
                                        "-O2", "-std=c++17", "-fno-exceptions", "-fno-rtti", "-Wall", "-Wextra",
                                        "-Wpedantic", "-Werror", "-c", opt.output, "-o", dir + "/model.o"};
  const RunResult r = run(cmd);
  ASSERT_EQ(r.exit_code, 0) << command_line(cmd) << "\n" << r.err;
  EXPECT_EQ(r.err, "") << "warnings:\n" << r.err;

  // Undefined symbols: only the freestanding memory functions a compiler may call on its own.
  const RunResult nm = run({"arm-none-eabi-nm", "-u", dir + "/model.o"});
  ASSERT_EQ(nm.exit_code, 0) << nm.err;
  std::istringstream syms(nm.out);
  std::string undefined;
  for (std::string line; std::getline(syms, line);) {
    const std::string sym = line.substr(line.find_last_of(' ') + 1);
    if (sym != "memcpy" && sym != "memset" && sym != "memmove") undefined += " " + sym;
  }
  EXPECT_EQ(undefined, "") << "the object needs symbols from outside (libm, heap, C++ runtime?):" << undefined;
  const RunResult sections = run({"arm-none-eabi-objdump", "-h", dir + "/model.o"});
  EXPECT_EQ(sections.out.find(".init_array"), std::string::npos) << "static constructors:\n" << sections.out;
  EXPECT_EQ(sections.out.find(".ctors"), std::string::npos) << "static constructors:\n" << sections.out;
  std::printf("[ cortex-m ] %s: warning-free, no external symbols, no static constructors\n",
              command_line(cmd).c_str());
}

}  // namespace
}  // namespace kc2cpp::e2e
