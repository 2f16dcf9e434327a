// Printer, naming and float literals: the emitter's text building blocks.
#include <gtest/gtest.h>

#include <cstring>
#include <cstdlib>
#include <cstdint>
#include <limits>
#include <string>

#include "emit/embedded.h"
#include "error.h"
#include "emit/hexfloat.h"
#include "emit/naming.h"
#include "emit/printer.h"

using namespace kc2cpp::emit;

TEST(Printer, SubstitutesAndIndents) {
  Printer p;
  p.line("a {");
  {
    Printer::Indent in(p);
    p.emit({{"x", "1"}, {"y", "two"}}, R"cc(
      f($x$, $y$);  // $$
        g();
    )cc");
  }
  p.line("}");
  EXPECT_EQ(p.str(), "a {\n  f(1, two);  // $\n    g();\n}\n");
}

TEST(Printer, MissingVariableIsABug) {
  Printer p;
  EXPECT_THROW(p.emit({{"x", "1"}}, "f($y$);"), std::logic_error);
}

TEST(Printer, NeverTwoBlankLines) {
  Printer p;
  p.line("a");
  p.blank();
  p.blank();
  p.emit("\n\nb\n\n\nc\n");
  EXPECT_EQ(p.str(), "a\n\nb\n\nc\n");
}

// templates/: sections keep their own leading and trailing blank lines, end at the next marker,
// and a missing file or section is an error, not empty text.
TEST(Templates, SectionsAreTheTextBetweenMarkers) {
  using kc2cpp::embedded::template_section;
  const std::string workspace = template_section("api.h.in", "workspace");
  EXPECT_EQ(workspace.rfind("\n\n// Scratch memory", 0), 0u) << workspace;  // its own blank line kept
  EXPECT_EQ(workspace.find("//@"), std::string::npos);
  EXPECT_EQ(workspace.substr(workspace.size() - 19), "const char* isa();\n");
  EXPECT_EQ(template_section("source.cpp.in", "fma_guard_end"), "\n#endif  // KC2CPP_HAS_FMA\n");
  EXPECT_NE(template_section("source.cpp.in", "fma_guard"), template_section("source.cpp.in", "fma_guard_end"));
  Printer p;
  p.emit({{"ns", "m"}}, template_section("header.h.in", "begin"));
  p.line("x");
  p.emit({{"ns", "m"}}, template_section("header.h.in", "end"));
  EXPECT_EQ(p.str(), "#pragma once\n\n#include <cstdint>\n\nnamespace m {\n\nx\n\n}  // namespace m\n");
  EXPECT_THROW(template_section("api.h.in", "no_such_section"), kc2cpp::Error);
  EXPECT_THROW(template_section("no_such_file.in", "banner"), kc2cpp::Error);
}

TEST(Naming, CollisionFreeAndStable) {
  NameTable t;
  const std::string a = t.get("w_", "a.b");
  const std::string b = t.get("w_", "a_b");
  const std::string c = t.get("w_", "a-b");
  EXPECT_EQ(a, "w_a_b");
  EXPECT_NE(a, b);
  EXPECT_NE(b, c);
  EXPECT_NE(a, c);
  EXPECT_EQ(t.get("w_", "a.b"), a);  // same name, same identifier
  EXPECT_EQ(t.get("w_", "dense/kernel:0"), "w_dense_kernel_0");
  EXPECT_TRUE(is_identifier(t.get("w_", "\xc3\xa9t\xc3\xa9")));  // UTF-8
  EXPECT_TRUE(is_identifier(t.get("", "class")) == false);      // keyword without prefix
  EXPECT_TRUE(is_identifier(t.get("w_", "class")));
  EXPECT_FALSE(is_identifier("9lives"));
  EXPECT_FALSE(is_identifier("a__b"));
  EXPECT_FALSE(is_identifier("_Reserved"));
  EXPECT_FALSE(is_identifier("namespace"));
  EXPECT_TRUE(is_identifier("my_model"));
}

TEST(Naming, CommentSafe) {
  EXPECT_EQ(comment_safe("a\nb*/c\\"), "a b* /c");
}

static float parse(const std::string& lit) {
  // strtof reads hex floats exactly (C99) in the "C" locale the tests run in.
  return std::strtof(lit.substr(0, lit.size() - 1).c_str(), nullptr);
}

static uint32_t bits(float v) {
  uint32_t b;
  std::memcpy(&b, &v, 4);
  return b;
}

TEST(HexFloat, ExactRoundTrip) {
  EXPECT_EQ(hex_float(1.0f), "0x1p+0f");
  EXPECT_EQ(hex_float(3.0f), "0x1.8p+1f");
  EXPECT_EQ(hex_float(-0.0f), "-0x0p+0f");
  EXPECT_EQ(hex_float(std::numeric_limits<float>::max()), "0x1.fffffep+127f");
  EXPECT_EQ(hex_float(std::numeric_limits<float>::denorm_min()), "0x0.000002p-126f");
  EXPECT_EQ(hex_float(std::numeric_limits<float>::infinity()), "__builtin_huge_valf()");
  uint32_t state = 12345;
  for (int i = 0; i < 200000; ++i) {
    state = state * 1664525u + 1013904223u;
    float v;
    std::memcpy(&v, &state, 4);
    if (v != v || v - v != 0.0f) continue;  // NaN / Inf are not literals
    ASSERT_EQ(bits(parse(hex_float(v))), bits(v)) << hex_float(v);
  }
}
