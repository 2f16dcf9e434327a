// NumPy .npy files: the test inputs and reference outputs that travel with fixtures.
//
// Reads format versions 1.0, 2.0 and 3.0, C order, little-endian '<f4' (float32), '<f8' (float64,
// rounded to nearest), '<i4' and '<i8' (integers, rounded to nearest float). Anything else
// (fortran_order, big-endian, other dtypes, object arrays) is rejected with an Error naming the file.
// Writes version 1.0 (2.0 if the header needs it) '<f4' in C order, byte-identical to numpy.save.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kc2cpp::load {

struct NpyArray {
  std::vector<int64_t> shape;  // empty for a 0-d array (one element)
  std::vector<float> data;     // C order, product(shape) elements
};

NpyArray read_npy(const std::string& path);
// The bytes write_npy writes; `path` only names the array in errors.
std::string encode_npy(const std::string& path, const NpyArray& array);
void write_npy(const std::string& path, const NpyArray& array);

}  // namespace kc2cpp::load
