// compiler/data: data paths, --scale/--offset parsing, and the element conversions of .npy files
// against independent references (the C++ compiler's own _Float16 and integer conversions).
#include <gtest/gtest.h>

#include <cstring>
#include <limits>

#include "data/data.h"
#include "error.h"
#include "unit_util.h"

namespace kc2cpp::data {
namespace {

using unit_test::TempDir;

// A .npy file of `descr` holding `bytes` as its data, shape (rows, cols).
std::string npy(const TempDir& dir, const std::string& name, const std::string& descr, int64_t rows, int64_t cols,
                const std::string& bytes) {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + std::to_string(rows) + ", " +
                       std::to_string(cols) + "), }";
  header += std::string(63 - (10 + header.size()) % 64, ' ') + "\n";
  const std::string path = dir.file(name);
  unit_test::write_file(path, std::string("\x93NUMPY\x01\x00", 8) + char(header.size() & 0xff) +
                                  char(header.size() >> 8) + header + bytes);
  return path;
}

std::vector<float> read_all(const std::string& path, const Transform& t = {}) {
  const auto src = Source::open(path);
  std::vector<float> out(static_cast<size_t>(src->rows() * src->row_size()));
  src->read(0, src->rows(), t, out.data());
  return out;
}

TEST(DataTest, PathsSplitAtTheFirstColonSlash) {
  EXPECT_EQ(parse_data_path("test.hdf5:/image").file, "test.hdf5");
  EXPECT_EQ(parse_data_path("test.hdf5:/image").dataset, "/image");
  EXPECT_EQ(parse_data_path("dir/x.h5:/a/b").dataset, "/a/b");
  EXPECT_EQ(parse_data_path("x.npy").dataset, "");
  EXPECT_EQ(parse_data_path("x.npy").display(), "x.npy");
}

TEST(DataTest, ScaleAndOffsetParse) {
  const Transform t = parse_transform("1/255", "-0.5");
  EXPECT_EQ(t.multiply, 1.0);
  EXPECT_EQ(t.divide, 255.0);
  EXPECT_EQ(t.offset, -0.5);
  EXPECT_TRUE(parse_transform("", "").identity());
  EXPECT_EQ(parse_transform("2e-3", "").multiply, 2e-3);
  for (const char* bad : {"x", "1/", "/2", "1/0", "nan", "inf", "1/255/3", " 1"})
    EXPECT_THROW(parse_transform(bad, ""), UsageError) << bad;
  EXPECT_THROW(parse_transform("", "--"), UsageError);
}

// Every float16 bit pattern, against the compiler's _Float16 -> float conversion.
TEST(DataTest, Float16NpyWidensExactly) {
#if defined(__FLT16_MAX__)
  TempDir dir("kc2cpp-data-f16");
  std::string bytes;
  std::vector<float> want;
  for (uint32_t h = 0; h < 65536; ++h) {
    const uint16_t v = static_cast<uint16_t>(h);
    bytes += std::string(reinterpret_cast<const char*>(&v), 2);
    _Float16 f;
    std::memcpy(&f, &v, 2);
    want.push_back(static_cast<float>(f));
  }
  EXPECT_EQ(unit_test::compare(read_all(npy(dir, "h.npy", "<f2", 256, 256, bytes)), want), "");
#else
  GTEST_SKIP() << "SKIPPED: this compiler has no _Float16";
#endif
}

// uint64 and int64 beyond 2^24: rounded once to the nearest float32, as static_cast does.
TEST(DataTest, WideIntegersRoundToNearest) {
  TempDir dir("kc2cpp-data-int");
  const std::vector<uint64_t> u = {0, 1, (uint64_t{1} << 24) + 1, (uint64_t{1} << 53) + 1, std::numeric_limits<uint64_t>::max()};
  const std::vector<int64_t> s = {-1, -(int64_t{1} << 24) - 1, std::numeric_limits<int64_t>::min(), 123456789};
  std::vector<float> want_u, want_s;
  for (uint64_t v : u) want_u.push_back(static_cast<float>(v));
  for (int64_t v : s) want_s.push_back(static_cast<float>(v));
  EXPECT_EQ(unit_test::compare(read_all(npy(dir, "u.npy", "<u8", 1, 5, std::string(reinterpret_cast<const char*>(u.data()), 40))), want_u), "");
  EXPECT_EQ(unit_test::compare(read_all(npy(dir, "s.npy", "<i8", 4, 1, std::string(reinterpret_cast<const char*>(s.data()), 32))), want_s), "");
}

// float64 with a transform: double arithmetic, one rounding (1e300 overflows to infinity).
TEST(DataTest, Float64TransformRoundsOnce) {
  TempDir dir("kc2cpp-data-f64");
  const std::vector<double> d = {1.0, 3.0, 1e300, -7.25};
  std::vector<float> want;
  for (double v : d) {
    const double w = v * 2.0 / 3.0 + 0.25;  // in float32's range but for 1e300, which is +inf
    want.push_back(v == 1e300 ? std::numeric_limits<float>::infinity() : static_cast<float>(w));
  }
  EXPECT_EQ(unit_test::compare(read_all(npy(dir, "d.npy", "<f8", 4, 1, std::string(reinterpret_cast<const char*>(d.data()), 32)),
                               parse_transform("2/3", "0.25")),
                      want),
            "");
}

}  // namespace
}  // namespace kc2cpp::data
