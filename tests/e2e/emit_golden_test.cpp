// Emitted-text goldens: the generated file of a few small fixtures, with the pasted runtime cut out
// (so an edit of runtime_min/ does not churn them), must equal tests/e2e/golden/<name>.cpp.golden.
// KC2CPP_UPDATE_GOLDENS=1 rewrites them (scripts/update_goldens.sh sets it).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>

#include "driver/driver.h"
#include "e2e_util.h"

namespace kc2cpp::e2e {
namespace {

// Keeps the "// ---- begin runtime_min/<file> ----" and "// ---- end ..." lines, drops what is between.
std::string cut_runtime(const std::string& source) {
  std::istringstream in(source);
  std::string line, out;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.rfind("// ---- end runtime_min/", 0) == 0) inside = false;
    if (!inside) out += line + "\n";
    if (line.rfind("// ---- begin runtime_min/", 0) == 0) inside = true;
  }
  return out;
}

std::string first_difference(const std::string& got, const std::string& want) {
  std::istringstream g(got), w(want);
  std::string gl, wl;
  for (int n = 1;; ++n) {
    const bool has_g = static_cast<bool>(std::getline(g, gl));
    const bool has_w = static_cast<bool>(std::getline(w, wl));
    if (!has_g && !has_w) return "";
    if (!has_g || !has_w || gl != wl)
      return "first difference at line " + std::to_string(n) + ":\n  generated: " + (has_g ? gl : "<end of file>") +
             "\n  golden:    " + (has_w ? wl : "<end of file>");
  }
}

class EmittedText : public ::testing::TestWithParam<std::string> {};

TEST_P(EmittedText, MatchesGolden) {
  const Fixture* f = find_fixture(GetParam());
  if (!f) GTEST_SKIP() << "SKIPPED: fixture " << GetParam() << " not found (or filtered out by KC2CPP_E2E_FIXTURES)";
  const std::string stem = f->id.substr(3);  // "k3/summary_walkthrough" -> "summary_walkthrough"
  driver::CompileOptions opt;
  opt.model = f->h5();
  opt.output = stem + ".cpp";
  opt.name = stem;
  const std::string text = cut_runtime(driver::generate(opt).source);
  const std::string golden = source_dir() + "/tests/e2e/golden/" + stem + ".cpp.golden";
  const char* update = std::getenv("KC2CPP_UPDATE_GOLDENS");
  if (update && std::string(update) == "1") {
    std::filesystem::create_directories(source_dir() + "/tests/e2e/golden");
    write_file(golden, text);
    std::printf("[ golden   ] wrote %s\n", golden.c_str());
    return;
  }
  ASSERT_TRUE(file_exists(golden)) << golden << " is missing: run scripts/update_goldens.sh and commit it";
  const std::string diff = first_difference(text, read_file(golden));
  EXPECT_EQ(diff, "") << "kc2cpp " << f->id << ".h5 differs from " << golden << " (runtime_min cut out); " << diff
                      << "\nIf the change is intended, run scripts/update_goldens.sh (or set "
                         "KC2CPP_UPDATE_GOLDENS=1) and review the diff before committing.";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, EmittedText,
                         ::testing::Values("k3/summary_walkthrough", "k3/dense_relu_softmax", "k2/layer_prelu"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string s = info.param;
                           for (char& ch : s)
                             if (ch == '/') ch = '_';
                           return s;
                         });

}  // namespace
}  // namespace kc2cpp::e2e
