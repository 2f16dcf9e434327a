// Small RAII layer over the HDF5 C API, private to the loader.
//
// Rules: every handle is owned by a Handle (closed exactly once, in reverse order of opening);
// every failing HDF5 call becomes an h5::Failure carrying the innermost HDF5 error message, and
// an HDF5 memory-allocation failure becomes std::bad_alloc;
// sizes read from the file are checked against the file's size before anything is allocated,
// so a damaged file gives an error, never a crash or a huge allocation.
//
// A model file is hostile input and must not make kc2cpp read anything but itself, nor decode more
// than the file can legitimately hold. Before any data is read:
//   - only hard links are followed (external links would open other files, soft and user-defined
//     links lead to places the path does not name);
//   - datasets with external storage or a virtual layout are refused, and so is any filter but
//     deflate (gzip), shuffle and fletcher32, the ones h5py/Keras write (HDF5 filter plugins are
//     never loaded);
//   - a dataset may decode to at most the bytes it stores in the file (1100 times that when it is
//     deflate-compressed, above zlib's maximum ratio of 1032), its chunks may not exceed the
//     dataset (4 MiB at least), and the stored bytes of all datasets read from one File may add up
//     to at most the file's size: no byte of the file is decoded twice, so the weights read from a
//     file of S bytes take at most S bytes (uncompressed) or 1100 S bytes (compressed).
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace kc2cpp::load::h5 {

// An HDF5 call failed or the file's content is inconsistent. The message says what could not be
// read and where inside the file; the loader adds the file name and the advice.
class Failure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The file is intact but holds something the loader does not convert (e.g. a bool or float8 dataset).
class Unsupported : public Failure {
 public:
  using Failure::Failure;
};

// The file asks for something kc2cpp refuses on principle (see the rules above): reading another
// file (external link, external storage, virtual dataset) or running a filter it does not allow.
class Refused : public Failure {
 public:
  using Failure::Failure;
};

// Turns off HDF5's automatic printing of its error stack to stderr and its loading of filter
// plugins (idempotent; File::open calls it too).
void silence_errors();

// The most specific message on the current HDF5 error stack ("" if empty); clears the stack.
std::string take_error();

// Owns one HDF5 identifier and closes it with the matching H5?close function.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer close) : id_(id), close_(close) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& other) noexcept : id_(other.id_), close_(other.close_) { other.id_ = -1; }
  Handle& operator=(Handle&& other) noexcept;
  ~Handle() { reset(); }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();

 private:
  hid_t id_ = -1;
  Closer close_ = nullptr;
};

// A file opened read-only. size() bounds every count read from the file.
class File {
 public:
  // Throws Failure (with HDF5's reason, e.g. "truncated file: eof = ...") if HDF5 cannot open it.
  static File open(const std::string& path, uint64_t size_on_disk);
  // An HDF5 file held in memory (a member of a zip archive), opened read-only without copying it
  // and without touching the disk; the File keeps the bytes alive.
  static File open_image(std::shared_ptr<const std::string> image);
  hid_t root() const { return handle_.get(); }
  uint64_t size() const { return size_; }
  // Adds a dataset's stored bytes to the total read from this file; throws Failure when the total
  // exceeds the file's size (the same data read twice).
  void count_stored(uint64_t bytes, const std::string& what) const;

 private:
  std::shared_ptr<const std::string> image_;  // declared before handle_: released after the file is closed
  Handle handle_;
  uint64_t size_ = 0;
  mutable uint64_t stored_read_ = 0;
};

// Throws Refused if the link `name` below `loc` exists and is not a hard link (an external, soft or
// user-defined link). `name` may be a path: then only its last component is checked (the caller
// checks the levels above first).
void require_hard_link(hid_t loc, const std::string& name);

// The names of the direct children of a group (links), in HDF5's name order. Throws Failure if the
// group claims more children than the file could hold.
std::vector<std::string> child_names(const File& file, hid_t group);

// True if `loc` has a direct child link `name` (no path traversal).
bool has_link(hid_t loc, const std::string& name);
bool has_attr(hid_t obj, const std::string& name);

// Path of an object inside the file ("/model_weights/dense"), for messages.
std::string path_of(hid_t obj);

// True if the relative path ("a/b/c:0") names an existing link below `loc`, checking each level;
// throws Refused if a level is not a hard link.
bool has_path(hid_t loc, const std::string& relative);

// Opens a group; throws Failure if it does not open, Refused if `name` (one component) is not a hard link.
Handle open_group(hid_t loc, const std::string& name);

// Reads a string attribute in any of the encodings h5py and Keras produce: scalar or array,
// variable- or fixed-length (NUL- or space-padded), ASCII or UTF-8 (bytes are kept as UTF-8).
// An empty numeric array (Keras's encoding of an empty list) reads as no strings.
std::vector<std::string> read_strings(const File& file, hid_t obj, const std::string& name);

// read_strings(name) if the attribute exists; otherwise the concatenation of name0, name1, ...
// up to the first missing index (Keras splits attributes larger than 64 KiB this way).
// No attribute at all reads as no strings.
std::vector<std::string> read_chunked_strings(const File& file, hid_t obj, const std::string& name);

// A dataset converted to float32, in C order. Accepted element types:
//   IEEE float of 2, 4 or 8 bytes (float16 widened exactly; float64 rounded to nearest, overflow to inf);
//   2-byte opaque (how h5py stores ml_dtypes.bfloat16; Keras marks it with attribute dtype="bfloat16"
//   in .weights.h5 files and not at all in legacy .h5 files), little-endian, widened exactly;
//   integers of any size (rounded to nearest float).
// Throws Refused for external or virtual storage and disallowed filters, Failure for sizes beyond
// the rules above, all before any data is read.
struct Array {
  std::vector<int64_t> shape;  // empty for a scalar dataset
  std::vector<float> data;
};
Array read_dataset(const File& file, hid_t loc, const std::string& name);

// For readers of other HDF5 files (kc2cpp eval's data files): the storage rules above for the
// dataset whose creation property list is `dcpl` (Refused for external or virtual storage and
// disallowed filters), then once its shape is known the size rules (Failure) for dataset `dset` of
// `file` decoding to `bytes` (elements times `width`), and read_dataset's float64 -> float32 rounding.
void check_storage(hid_t dcpl, const std::string& what);
void check_stored_size(const File& file, hid_t dset, hid_t dcpl, uint64_t bytes, size_t width, const std::string& what);
float to_float32(double d);

}  // namespace kc2cpp::load::h5
