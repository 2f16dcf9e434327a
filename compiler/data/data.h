// Data files for `kc2cpp eval` and `kc2cpp check`: arrays of samples on disk, read a block of rows
// at a time (a 60,000-image file is never held whole), converted to float32 as Keras converts the
// arrays passed to model.predict; and float32 arrays written back as .npy or as an HDF5 dataset.
//
// A data argument names a .npy file ("x.npy") or a dataset in an HDF5 file ("test.hdf5:/image", any
// dataset path; the file part ends at the first ":/"). Which it is comes from the file's signature,
// not its name. The first axis is the sample axis.
// Element types: integers of 1, 2, 4 or 8 bytes, signed or unsigned, and floats of 2, 4 or 8 bytes
// (.npy: either byte order). Conversion to float32:
//   - no transform: each value rounded to the nearest float32 (what tf.cast and jnp.asarray do);
//   - --scale A[/B] and --offset C: numpy's `x * A / B + C` with Python scalars: in float32 for
//     float32 (and float16, widened first) data, in float64 for integer and float64 data, then
//     rounded once to float32 (so `--scale 1/255` on uint8 gives the bits of `x / 255` in numpy).
//     A multiply by 1, a divide by 1 and an offset of 0 are skipped.
// An HDF5 data file is read, as a model file is, in a child process (load/isolate.h; on Linux, elsewhere
// in process) that streams the rows to kc2cpp; only hard links are followed, external storage, virtual
// datasets and filters other than gzip/shuffle/fletcher32 are refused, and a dataset may not decode to
// more than it stores (load/hdf5.h). A crash, hang or runaway allocation of libhdf5 becomes an Error
// naming the file and dataset.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace kc2cpp::data {

// "test.hdf5:/image" -> {"test.hdf5", "/image"}; "x.npy" -> {"x.npy", ""}.
struct DataPath {
  std::string file, dataset;
  std::string display() const { return dataset.empty() ? file : file + ":" + dataset; }
};
DataPath parse_data_path(const std::string& arg);

// x * multiply / divide + offset (see above). Throws UsageError for a malformed number.
struct Transform {
  double multiply = 1, divide = 1, offset = 0;
  bool identity() const { return multiply == 1 && divide == 1 && offset == 0; }
};
Transform parse_transform(const std::string& scale, const std::string& offset);

// Element type of a data file: kind 'f' (IEEE float), 'i' (signed) or 'u' (unsigned integer), width in bytes.
struct ElementType {
  char kind = 'f';
  int width = 4;
  std::string name() const;  // numpy's name: "uint8", "float64"
};

// An array of samples on disk. Errors name display() and say what to do.
class Source {
 public:
  // `max_memory`: the limit of the process that reads an HDF5 file (0: load/isolate.h's memory_limit).
  static std::unique_ptr<Source> open(const std::string& arg, uint64_t max_memory = 0);
  virtual ~Source() = default;

  const std::string& name() const { return name_; }
  const std::vector<int64_t>& shape() const { return shape_; }  // at least one axis
  ElementType type() const { return type_; }
  int64_t rows() const { return shape_[0]; }
  int64_t row_size() const;  // elements per sample (open() refuses more than 2^31)

  // Rows [begin, end) in C order, converted to float32: (end - begin) * row_size() values into `out`.
  void read(int64_t begin, int64_t end, const Transform& t, float* out);

 protected:
  // Rows [begin, end) as native-endian elements of `buffer_type()` into `buffer`.
  virtual void read_native(int64_t begin, int64_t end, void* buffer) = 0;
  // The element type read_native delivers (float16 data may arrive as float32).
  virtual ElementType buffer_type() const { return type_; }

  std::string name_;
  std::vector<int64_t> shape_;
  ElementType type_;
};

// "(60000, 28, 28)" as numpy prints shapes.
std::string shape_string(const std::vector<int64_t>& shape);

// A float32 array to write: `dataset` as in DataPath ("" for a .npy file).
struct OutputArray {
  std::string dataset;
  std::vector<int64_t> shape;
  const std::vector<float>* data;
};
// The bytes of `file` holding the arrays: numpy.save's bytes for a .npy file (one array, no
// dataset), or a new HDF5 file with each array as its dataset (intermediate groups created; no
// timestamps: the same data gives the same bytes).
std::string encode_file(const std::string& file, const std::vector<OutputArray>& arrays);
// Throws UsageError for an output path encode_file cannot write: an HDF5 file (by its extension)
// without a dataset.
void check_output_path(const DataPath& path);

}  // namespace kc2cpp::data
