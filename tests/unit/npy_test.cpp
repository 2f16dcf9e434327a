// compiler/load/npy: files written by numpy (tests/unit/data/npy, made by make_npy.py with numpy 2.4;
// numpy 1.26 writes the same bytes) and round trips through write_npy.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "unit_util.h"
#include "error.h"
#include "load/npy.h"

namespace kc2cpp::load {
namespace {

namespace fs = std::filesystem;

const std::string kSource = KC2CPP_SOURCE_DIR;
std::string npy(const std::string& name) { return kSource + "/tests/unit/data/npy/" + name; }

uint32_t bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

float from_bits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

using unit_test::read_file;
using unit_test::write_file;
// A fresh directory, removed with its content at the end of the test.
struct TempDir : unit_test::TempDir {
  TempDir() : unit_test::TempDir("kc2cpp_npy_test") {}
};

std::string npy_error(const std::string& path) {
  try {
    read_npy(path);
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << msg;
    return msg;
  }
  ADD_FAILURE() << "no error reading " << path;
  return "";
}

#define EXPECT_CONTAINS(text, part) EXPECT_NE(std::string(text).find(part), std::string::npos) << (text)

TEST(NpyTest, ReadsNumpyFloat32) {
  NpyArray a = read_npy(npy("f4_2x3.npy"));
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  ASSERT_EQ(a.data.size(), 6u);
  const float expected[] = {0.0f, 1.5f, -2.0f, 3.25f, std::numeric_limits<float>::infinity(), -0.0f};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(bits(a.data[i]), bits(expected[i])) << i;
}

TEST(NpyTest, ReadsScalarEmptyAndRank3) {
  NpyArray s = read_npy(npy("f4_scalar.npy"));
  EXPECT_TRUE(s.shape.empty());
  EXPECT_EQ(s.data, std::vector<float>{7.5f});

  NpyArray e = read_npy(npy("f4_0x4.npy"));
  EXPECT_EQ(e.shape, (std::vector<int64_t>{0, 4}));
  EXPECT_TRUE(e.data.empty());

  NpyArray r = read_npy(npy("f4_2x3x4.npy"));
  EXPECT_EQ(r.shape, (std::vector<int64_t>{2, 3, 4}));
  ASSERT_EQ(r.data.size(), 24u);
  for (int i = 0; i < 24; ++i) EXPECT_EQ(r.data[i], i * 0.5f - 3) << i;
}

TEST(NpyTest, ReadsVersion2Header) {
  NpyArray a = read_npy(npy("f4_v2.npy"));
  EXPECT_EQ(a.shape, std::vector<int64_t>{3});
  EXPECT_EQ(a.data, (std::vector<float>{1, 2, 3}));
}

TEST(NpyTest, ConvertsIntegersAndFloat64) {
  EXPECT_EQ(read_npy(npy("i4_5.npy")).data, (std::vector<float>{-2, -1, 0, 1, 2}));
  EXPECT_EQ(read_npy(npy("i8_3.npy")).data, (std::vector<float>{-5, 0, 123456792.0f}));  // nearest float
  NpyArray d = read_npy(npy("f8_2.npy"));
  EXPECT_EQ(d.data, (std::vector<float>{0.1f, std::numeric_limits<float>::infinity()}));  // 1e300 overflows
}

TEST(NpyTest, RejectsWhatItCannotRead) {
  EXPECT_CONTAINS(npy_error(npy("f4_fortran.npy")), "fortran_order arrays are not supported");
  EXPECT_CONTAINS(npy_error(npy("f4_big_endian.npy")), "dtype '>f4' is not supported");
  EXPECT_CONTAINS(npy_error(npy("c8_2.npy")), "dtype '<c8' is not supported");
}

TEST(NpyTest, RejectsDamagedFiles) {
  TempDir dir;
  EXPECT_CONTAINS(npy_error(dir.file("absent.npy")), "cannot open the .npy file");
  write_file(dir.file("text.npy"), "not numpy at all");
  EXPECT_CONTAINS(npy_error(dir.file("text.npy")), "not a NumPy .npy file");
  const std::string good = read_file(npy("f4_2x3.npy"));
  write_file(dir.file("short_data.npy"), good.substr(0, good.size() - 3));
  EXPECT_CONTAINS(npy_error(dir.file("short_data.npy")),
                  "the shape (2, 3) with dtype '<f4' needs 24 bytes of data but the file has 21; the file is truncated");
  write_file(dir.file("short_header.npy"), good.substr(0, 40));
  EXPECT_CONTAINS(npy_error(dir.file("short_header.npy")), "truncated inside its header");
  std::string bad_version = good;
  bad_version[6] = 9;
  write_file(dir.file("v9.npy"), bad_version);
  EXPECT_CONTAINS(npy_error(dir.file("v9.npy")), "unsupported .npy format version 9.0");
  std::string bad_header = good;
  bad_header.replace(bad_header.find("False"), 5, "Flase");
  write_file(dir.file("bad_header.npy"), bad_header);
  EXPECT_CONTAINS(npy_error(dir.file("bad_header.npy")), "the .npy header is malformed (expected True or False)");
}

// write_npy produces exactly numpy.save's bytes (header layout, padding, spare growth spaces).
TEST(NpyTest, WritesTheBytesNumpyWrites) {
  TempDir dir;
  for (const char* name : {"f4_2x3.npy", "f4_scalar.npy", "f4_0x4.npy", "f4_2x3x4.npy"}) {
    NpyArray a = read_npy(npy(name));
    write_npy(dir.file(name), a);
    EXPECT_EQ(read_file(dir.file(name)), read_file(npy(name))) << name;
  }
}

TEST(NpyTest, RoundTripIsBitExact) {
  TempDir dir;
  NpyArray a;
  a.shape = {2, 1, 5};
  a.data = {0.0f, -0.0f, 1e-45f, -3.4028235e38f, std::numeric_limits<float>::infinity(),
            from_bits(0x7fc00001), from_bits(0xffbfffff), 1.0f / 3, 0x1p-126f, -7.0f};
  write_npy(dir.file("a.npy"), a);
  NpyArray b = read_npy(dir.file("a.npy"));
  EXPECT_EQ(b.shape, a.shape);
  ASSERT_EQ(b.data.size(), a.data.size());
  for (size_t i = 0; i < a.data.size(); ++i) EXPECT_EQ(bits(b.data[i]), bits(a.data[i])) << i;
  EXPECT_EQ(read_file(dir.file("a.npy")).size() % 64, 40u);  // header aligned to 64, then 40 bytes of data
}

TEST(NpyTest, HugeHeaderSwitchesToVersion2) {
  TempDir dir;
  NpyArray a;
  a.shape.assign(25000, 1);  // "1, " per dimension: a header longer than 65535 bytes
  a.data = {4.25f};
  write_npy(dir.file("wide.npy"), a);
  std::string bytes = read_file(dir.file("wide.npy"));
  EXPECT_EQ(bytes[6], 2);
  EXPECT_EQ(bytes.size() % 64, 4u);
  NpyArray b = read_npy(dir.file("wide.npy"));
  EXPECT_EQ(b.shape.size(), 25000u);
  EXPECT_EQ(b.data, std::vector<float>{4.25f});
}

TEST(NpyTest, WriteRejectsShapeDataMismatch) {
  TempDir dir;
  NpyArray a{{2, 2}, {1, 2, 3}};
  try {
    write_npy(dir.file("bad.npy"), a);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_CONTAINS(e.what(), "the shape (2, 2) has 4 elements but the data has 3");
  }
}

// The fixtures' inputs and Keras outputs (tests/fixtures/*/<name>.x0.npy, .keras.y0.npy).
TEST(NpyTest, ReadsFixtureInputsAndOutputs) {
  const std::string x = kSource + "/tests/fixtures/k3/summary_walkthrough.x0.npy";
  const std::string y = kSource + "/tests/fixtures/k3/summary_walkthrough.keras.y0.npy";
  if (!fs::exists(x) || !fs::exists(y)) GTEST_SKIP() << "missing fixture " << x;
  NpyArray in = read_npy(x), out = read_npy(y);
  EXPECT_EQ(in.shape, (std::vector<int64_t>{20, 3}));
  EXPECT_EQ(out.shape, (std::vector<int64_t>{20, 5}));
  for (float v : out.data) EXPECT_TRUE(std::isfinite(v));
}

}  // namespace
}  // namespace kc2cpp::load
