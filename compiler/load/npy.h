// NumPy .npy files: the test inputs and reference outputs that travel with fixtures.
//
// read_npy reads format versions 1.0, 2.0 and 3.0, C order, little-endian '<f4' (float32), '<f8' (float64,
// rounded to nearest), '<i4' and '<i8' (integers, rounded to nearest float). Anything else
// (fortran_order, big-endian, other dtypes, object arrays) is rejected with an Error naming the file.
// Writes version 1.0 (2.0 if the header needs it) '<f4' in C order, byte-identical to numpy.save.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

namespace kc2cpp::load {

struct NpyArray {
  std::vector<int64_t> shape;  // empty for a 0-d array (one element)
  std::vector<float> data;     // C order, product(shape) elements
};

NpyArray read_npy(const std::string& path);

// The header of a .npy file of any integer or floating-point dtype ('|u1', '<i8', '>f2', ...).
struct NpyHeader {
  std::string descr;           // numpy's dtype string
  std::vector<int64_t> shape;  // empty for a 0-d array
  uint64_t data_offset = 0;    // where the C-ordered data starts, from the start of the file
};
// Reads the signature and header from `in` (at the start of the file, `file_size` bytes) and checks
// them: a supported version, C order, a numeric dtype, and exactly the shape's data after the header.
// Leaves `in` at the data. Throws Error naming `path`.
NpyHeader read_npy_header(const std::string& path, std::istream& in, uint64_t file_size);
// Bytes per element of a numeric dtype string ('<f4' -> 4); 0 for anything else (bool, complex, objects ...).
uint64_t npy_item_size(const std::string& descr);
// The bytes write_npy writes; `path` only names the array in errors.
std::string encode_npy(const std::string& path, const NpyArray& array);
void write_npy(const std::string& path, const NpyArray& array);

}  // namespace kc2cpp::load
