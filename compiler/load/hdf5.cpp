#include "load/hdf5.h"

#include <algorithm>
#include <hdf5_hl.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <type_traits>

namespace kc2cpp::load::h5 {
namespace {

std::string with_reason(std::string what) {
  std::string reason = take_error();
  if (!reason.empty()) what += " (HDF5: " + reason + ")";
  return what;
}

struct ErrorStack {
  std::string innermost;       // the most specific description
  bool out_of_memory = false;  // some level failed to allocate memory
};

herr_t walk_error(unsigned n, const H5E_error2_t* err, void* out) {
  auto* stack = static_cast<ErrorStack*>(out);
  if (n == 0 && err->desc != nullptr) stack->innermost = err->desc;
  if (err->maj_num == H5E_RESOURCE && (err->min_num == H5E_NOSPACE || err->min_num == H5E_CANTALLOC))
    stack->out_of_memory = true;
  return 0;
}

// Control characters of names taken from the file are shown as '?', and long names are cut.
std::string printable(const std::string& s) {
  std::string out = s.substr(0, 200);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return s.size() > 200 ? out + "..." : out;
}

const char* class_name(H5T_class_t cls) {
  switch (cls) {
    case H5T_INTEGER: return "integer";
    case H5T_FLOAT: return "float";
    case H5T_TIME: return "time";
    case H5T_STRING: return "string";
    case H5T_BITFIELD: return "bitfield";
    case H5T_OPAQUE: return "opaque";
    case H5T_COMPOUND: return "compound";
    case H5T_REFERENCE: return "reference";
    case H5T_ENUM: return "enum (e.g. bool)";
    case H5T_VLEN: return "variable-length";
    case H5T_ARRAY: return "array";
    default: return "unknown";
  }
}

// Multiplies element counts, failing on overflow instead of wrapping.
uint64_t checked_mul(uint64_t a, uint64_t b, const std::string& what) {
  if (b != 0 && a > std::numeric_limits<uint64_t>::max() / b)
    throw Failure(what + " has an impossible size (overflow)");
  return a * b;
}

// Number of elements of a dataspace: 1 for a scalar, 0 for a null space. Fills `shape` for a simple space.
uint64_t element_count(hid_t space, std::vector<int64_t>* shape, const std::string& what) {
  H5S_class_t kind = H5Sget_simple_extent_type(space);
  if (kind == H5S_SCALAR) return 1;
  if (kind == H5S_NULL) return 0;
  int rank = H5Sget_simple_extent_ndims(space);
  if (kind != H5S_SIMPLE || rank < 0 || rank > H5S_MAX_RANK)
    throw Failure(with_reason("cannot read the shape of " + what));
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  if (H5Sget_simple_extent_dims(space, dims.data(), nullptr) < 0)
    throw Failure(with_reason("cannot read the shape of " + what));
  uint64_t n = 1;
  for (hsize_t d : dims) {
    n = checked_mul(n, d, what);
    if (shape) shape->push_back(static_cast<int64_t>(d));
  }
  return n;
}

// Frees the strings HDF5 allocated for a variable-length read, also when copying them throws.
struct VlenStrings {
  hid_t mem_type;
  hid_t space;
  std::vector<char*> ptrs;
  ~VlenStrings() { H5Dvlen_reclaim(mem_type, space, H5P_DEFAULT, ptrs.data()); }
};

std::vector<std::string> read_vlen_strings(hid_t attr, hid_t file_type, hid_t space, uint64_t n,
                                           const std::string& what) {
  Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
  if (!mem.valid() || H5Tset_size(mem.get(), H5T_VARIABLE) < 0 ||
      H5Tset_cset(mem.get(), H5Tget_cset(file_type)) < 0)
    throw Failure(with_reason("cannot prepare to read " + what));
  VlenStrings buf{mem.get(), space, std::vector<char*>(n, nullptr)};
  if (H5Aread(attr, mem.get(), buf.ptrs.data()) < 0) {
    std::fill(buf.ptrs.begin(), buf.ptrs.end(), nullptr);  // nothing to reclaim after a failed read
    throw Failure(with_reason("cannot read " + what));
  }
  std::vector<std::string> out;
  for (const char* p : buf.ptrs) out.emplace_back(p ? p : "");
  return out;
}

std::vector<std::string> read_fixed_strings(hid_t attr, hid_t file_type, uint64_t n, uint64_t file_size,
                                            const std::string& what) {
  size_t width = H5Tget_size(file_type);
  if (width == 0 || checked_mul(n, width, what) > file_size)
    throw Failure(what + " claims more bytes than the file holds");
  Handle mem(H5Tget_native_type(file_type, H5T_DIR_DEFAULT), H5Tclose);
  std::vector<char> bytes(n * width);
  if (!mem.valid() || H5Aread(attr, mem.get(), bytes.data()) < 0)
    throw Failure(with_reason("cannot read " + what));
  bool space_padded = H5Tget_strpad(file_type) == H5T_STR_SPACEPAD;
  std::vector<std::string> out;
  for (uint64_t i = 0; i < n; ++i) {
    const char* begin = bytes.data() + i * width;
    size_t len = space_padded ? width : strnlen(begin, width);
    while (space_padded && len > 0 && begin[len - 1] == ' ') --len;
    out.emplace_back(begin, len);
  }
  return out;
}

float bfloat16_to_float(const uint8_t* little_endian) {
  uint32_t bits = (uint32_t{little_endian[1]} << 24) | (uint32_t{little_endian[0]} << 16);
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// Round to nearest even; out-of-range values become ±FLT_MAX or ±inf exactly as IEEE rounding
// does (a plain cast of an out-of-range double is undefined behaviour in C++).
float double_to_float(double d) {
  const double overflow = 0x1.ffffffp127;  // FLT_MAX + half an ulp: the tie rounds to infinity
  if (std::isnan(d)) return std::numeric_limits<float>::quiet_NaN();
  double mag = std::fabs(d);
  if (mag <= FLT_MAX) return static_cast<float>(d);
  float big = mag < overflow ? FLT_MAX : std::numeric_limits<float>::infinity();
  return d < 0 ? -big : big;
}

std::string dtype_attr(const File& file, hid_t dset) {
  if (!has_attr(dset, "dtype")) return "";
  std::vector<std::string> v = read_strings(file, dset, "dtype");
  return v.size() == 1 ? v[0] : "";
}

void read_into(hid_t dset, hid_t mem_type, void* buf, const std::string& what) {
  if (H5Dread(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
    throw Failure(with_reason("cannot read the data of " + what));
}

template <typename T>
void read_converted(hid_t dset, hid_t mem_type, uint64_t n, std::vector<float>& out, const std::string& what) {
  std::vector<T> tmp(n);
  read_into(dset, mem_type, tmp.data(), what);
  for (uint64_t i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<T, double>) out[i] = double_to_float(tmp[i]);
    else out[i] = static_cast<float>(tmp[i]);
  }
}

void read_bfloat16(hid_t dset, hid_t file_type, uint64_t n, std::vector<float>& out, const std::string& what) {
  Handle mem(H5Tcopy(file_type), H5Tclose);
  std::vector<uint8_t> raw(n * 2);
  if (!mem.valid()) throw Failure(with_reason("cannot prepare to read " + what));
  read_into(dset, mem.get(), raw.data(), what);
  for (uint64_t i = 0; i < n; ++i) out[i] = bfloat16_to_float(&raw[2 * i]);
}

// Deflate expands at most 1032 times (zlib's maximum ratio); 1100 leaves room for chunk overheads.
constexpr uint64_t kMaxInflate = 1100;
constexpr uint64_t kMinChunkLimit = uint64_t{4} << 20;

std::string filter_description(H5Z_filter_t id) {
  std::string known;
  switch (id) {
    case H5Z_FILTER_SZIP: known = "szip"; break;
    case H5Z_FILTER_NBIT: known = "nbit"; break;
    case H5Z_FILTER_SCALEOFFSET: known = "scale-offset"; break;
    case 32000: known = "LZF, h5py's own compression"; break;
    default: known = id >= 256 ? "a third-party filter plugin" : "unknown"; break;
  }
  return "HDF5 filter " + std::to_string(id) + " (" + known + ")";
}

// Deflate, shuffle and fletcher32 only (what h5py/Keras write); returns whether deflate is among them.
bool check_filters(hid_t dcpl, const std::string& what) {
  const int count = H5Pget_nfilters(dcpl);
  if (count < 0) throw Failure(with_reason("cannot read the filters of " + what));
  bool deflated = false;
  for (int i = 0; i < count; ++i) {
    unsigned flags = 0;
    size_t values = 0;
    const H5Z_filter_t id = H5Pget_filter2(dcpl, static_cast<unsigned>(i), &flags, &values, nullptr, 0, nullptr, nullptr);
    if (id < 0) throw Failure(with_reason("cannot read the filters of " + what));
    if (id == H5Z_FILTER_DEFLATE) deflated = true;
    else if (id != H5Z_FILTER_SHUFFLE && id != H5Z_FILTER_FLETCHER32)
      throw Refused(what + " is stored through the " + filter_description(id) +
                    " (only gzip/deflate, shuffle and fletcher32 are decoded)");
  }
  return deflated;
}

std::string external_file_of(hid_t dcpl) {
  char name[1024] = {};
  off_t offset = 0;
  hsize_t size = 0;
  if (H5Pget_external(dcpl, 0, sizeof name, name, &offset, &size) < 0) {
    take_error();
    return "another file";
  }
  name[sizeof name - 1] = '\0';
  return "the file '" + printable(name) + "'";
}

// Where the data lives: in this file, with allowed filters. Checked before anything else of the
// dataset is read (for a virtual dataset even its shape may come from other files). Returns
// whether the data is deflate-compressed.
bool check_stored_inside(hid_t dcpl, const std::string& what) {
  const H5D_layout_t layout = H5Pget_layout(dcpl);
  if (layout < 0) throw Failure(with_reason("cannot read the storage layout of " + what));
  if (layout == H5D_VIRTUAL)
    throw Refused(what + " is a virtual dataset: its data would be read from other files");
  const int external = H5Pget_external_count(dcpl);
  if (external < 0) throw Failure(with_reason("cannot read the storage layout of " + what));
  if (external > 0)
    throw Refused(what + " keeps its data in " + external_file_of(dcpl) +
                  ", outside the file being read (HDF5 external storage)");
  return check_filters(dcpl, what);
}

// The size rules of hdf5.h: what the dataset decodes to (`bytes`) against what it stores in the
// file, its chunks against the dataset, and the file's running total.
void check_size(const File& file, hid_t dset, hid_t dcpl, uint64_t bytes, size_t width, bool deflated,
                const std::string& what) {
  if (bytes == 0) return;
  const uint64_t stored = H5Dget_storage_size(dset);  // 0 also on failure: then nothing is read
  take_error();
  if (stored > file.size())
    throw Failure(what + " claims to store " + std::to_string(stored) + " bytes but the file has only " +
                  std::to_string(file.size()));
  const uint64_t limit = deflated ? stored * kMaxInflate : stored;
  if (bytes > limit)
    throw Failure(what + " claims " + std::to_string(bytes) + " bytes of data but stores only " +
                  std::to_string(stored) + " bytes in the file" +
                  (deflated ? " (compressed data expands at most " + std::to_string(kMaxInflate) + " times)" : ""));
  if (H5Pget_layout(dcpl) == H5D_CHUNKED) {
    hsize_t chunk[H5S_MAX_RANK];
    const int rank = H5Pget_chunk(dcpl, H5S_MAX_RANK, chunk);
    if (rank < 0 || rank > H5S_MAX_RANK) throw Failure(with_reason("cannot read the chunk shape of " + what));
    uint64_t chunk_bytes = width;
    for (int i = 0; i < rank; ++i) chunk_bytes = checked_mul(chunk_bytes, chunk[i], what + "'s chunk");
    if (chunk_bytes > std::max(bytes, kMinChunkLimit))
      throw Failure(what + " has chunks of " + std::to_string(chunk_bytes) + " bytes, larger than the dataset (" +
                    std::to_string(bytes) + " bytes)");
  }
  file.count_stored(stored, what);
}

// Every level of the relative path `name` below `loc` is a hard link (or does not exist).
void require_hard_path(hid_t loc, const std::string& name) {
  for (size_t slash = name.find('/');; slash = name.find('/', slash + 1)) {
    const std::string prefix = name.substr(0, slash);
    if (!prefix.empty() && prefix.back() != '/') require_hard_link(loc, prefix);
    if (slash == std::string::npos) return;
  }
}

std::string external_link_target(hid_t loc, const std::string& name, const H5L_info_t& info) {
  if (info.u.val_size == 0 || info.u.val_size > 8192) return "another file";
  std::vector<char> value(info.u.val_size);
  unsigned flags = 0;
  const char* file = nullptr;
  const char* object = nullptr;
  if (H5Lget_val(loc, name.c_str(), value.data(), value.size(), H5P_DEFAULT) < 0 ||
      H5Lunpack_elink_val(value.data(), value.size(), &flags, &file, &object) < 0 || file == nullptr) {
    take_error();
    return "another file";
  }
  return "'" + printable(file) + "' (object '" + printable(object ? object : "") + "')";
}

herr_t collect_name(hid_t, const char* name, const H5L_info_t*, void* out) {
  static_cast<std::vector<std::string>*>(out)->emplace_back(name);
  return 0;
}

}  // namespace

void silence_errors() {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  H5PLset_loading_state(0);  // and never load filter plugins named by a file (check_filters refuses them anyway)
}

std::string take_error() {
  ErrorStack stack;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_error, &stack);
  H5Eclear2(H5E_DEFAULT);
  if (stack.out_of_memory) throw std::bad_alloc();
  return stack.innermost;
}

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    close_ = other.close_;
    other.id_ = -1;
  }
  return *this;
}

void Handle::reset() {
  if (id_ >= 0 && close_ != nullptr) close_(id_);
  id_ = -1;
}

void File::count_stored(uint64_t bytes, const std::string& what) const {
  stored_read_ += bytes;  // no overflow: each dataset stores at most size_, and the sum stops above it
  if (stored_read_ > size_)
    throw Failure("with " + what + " the datasets read add up to " + std::to_string(stored_read_) +
                  " stored bytes, more than the file's " + std::to_string(size_) +
                  ": the same data is listed more than once (in weight_names)");
}

File File::open(const std::string& path, uint64_t size_on_disk) {
  silence_errors();
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
#if H5_VERSION_GE(1, 10, 7)
  // Read-only access needs no lock, and locking fails on some network file systems.
  if (fapl.valid()) H5Pset_file_locking(fapl.get(), false, true);
#endif
  File f;
  f.handle_ = Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.valid() ? fapl.get() : H5P_DEFAULT), H5Fclose);
  if (!f.handle_.valid()) {
    std::string reason = take_error();
    throw Failure(reason.empty() ? "HDF5 cannot open it" : "HDF5 cannot open it: " + reason);
  }
  f.size_ = size_on_disk;
  return f;
}

File File::open_image(std::shared_ptr<const std::string> image) {
  File f;
  f.image_ = std::move(image);
  // DONT_COPY + DONT_RELEASE: HDF5 reads the caller's bytes in place and never frees them; without
  // OPEN_RW the image is read-only.
  void* bytes = const_cast<char*>(f.image_->data());
  f.handle_ = Handle(H5LTopen_file_image(bytes, f.image_->size(), H5LT_FILE_IMAGE_DONT_COPY | H5LT_FILE_IMAGE_DONT_RELEASE),
                     H5Fclose);
  if (!f.handle_.valid()) {
    std::string reason = take_error();
    throw Failure(reason.empty() ? "HDF5 cannot open it" : "HDF5 cannot open it: " + reason);
  }
  f.size_ = f.image_->size();
  return f;
}

void require_hard_link(hid_t loc, const std::string& name) {
  H5L_info_t info;
  if (H5Lget_info(loc, name.c_str(), &info, H5P_DEFAULT) < 0) {
    take_error();
    return;  // no such link: the caller's open or existence check reports it
  }
  if (info.type == H5L_TYPE_HARD) return;
  const std::string where = "'" + printable(name) + "' in " + path_of(loc);
  if (info.type == H5L_TYPE_EXTERNAL)
    throw Refused(where + " is an external link to " + external_link_target(loc, name, info) + ", another file");
  if (info.type == H5L_TYPE_SOFT)
    throw Refused(where + " is a soft link (only the hard links Keras writes are followed)");
  throw Refused(where + " is a user-defined link (type " + std::to_string(static_cast<int>(info.type)) +
                "), which kc2cpp does not follow");
}

std::vector<std::string> child_names(const File& file, hid_t group) {
  H5G_info_t info;
  if (H5Gget_info(group, &info) < 0) throw Failure(with_reason("cannot list the group " + path_of(group)));
  if (info.nlinks > file.size()) throw Failure("the group " + path_of(group) + " claims more members than the file has bytes");
  std::vector<std::string> names;
  names.reserve(info.nlinks);
  hsize_t at = 0;
  if (H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &at, collect_name, &names) < 0)
    throw Failure(with_reason("cannot list the group " + path_of(group)));
  return names;
}

bool has_link(hid_t loc, const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos) return false;
  htri_t r = H5Lexists(loc, name.c_str(), H5P_DEFAULT);
  if (r < 0) take_error();
  return r > 0;
}

bool has_attr(hid_t obj, const std::string& name) {
  htri_t r = H5Aexists(obj, name.c_str());
  if (r < 0) take_error();
  return r > 0;
}

std::string path_of(hid_t obj) {
  ssize_t len = H5Iget_name(obj, nullptr, 0);
  if (len <= 0) {
    take_error();
    return "?";
  }
  std::string name(static_cast<size_t>(len) + 1, '\0');
  H5Iget_name(obj, name.data(), name.size());
  name.resize(static_cast<size_t>(len));
  return name;
}

Handle open_group(hid_t loc, const std::string& name) {
  require_hard_path(loc, name);
  Handle g(H5Gopen2(loc, name.c_str(), H5P_DEFAULT), H5Gclose);
  if (!g.valid()) {
    std::string reason = take_error();  // before path_of, which clears the error stack
    throw Failure("cannot open group '" + name + "' in " + path_of(loc) + (reason.empty() ? "" : " (HDF5: " + reason + ")"));
  }
  return g;
}

bool has_path(hid_t loc, const std::string& relative) {
  for (size_t slash = relative.find('/');; slash = relative.find('/', slash + 1)) {
    std::string prefix = relative.substr(0, slash);
    htri_t r = prefix.empty() ? 1 : H5Lexists(loc, prefix.c_str(), H5P_DEFAULT);
    if (r <= 0) {
      take_error();
      return false;
    }
    if (!prefix.empty()) require_hard_link(loc, prefix);  // the levels above were checked in earlier rounds
    if (slash == std::string::npos) return true;
  }
}

std::vector<std::string> read_strings(const File& file, hid_t obj, const std::string& name) {
  std::string what = "attribute '" + name + "' of " + path_of(obj);
  Handle attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose);
  if (!attr.valid()) throw Failure(with_reason("cannot open " + what));
  Handle type(H5Aget_type(attr.get()), H5Tclose);
  Handle space(H5Aget_space(attr.get()), H5Sclose);
  if (!type.valid() || !space.valid()) throw Failure(with_reason("cannot read the type of " + what));
  uint64_t n = element_count(space.get(), nullptr, what);
  if (n > file.size()) throw Failure(what + " claims more elements than the file has bytes");
  H5T_class_t cls = H5Tget_class(type.get());
  if (cls != H5T_STRING) {
    if (n == 0) return {};  // Keras writes an empty list as an empty float64 array
    throw Failure(what + " should hold text but holds " + class_name(cls) + " values");
  }
  htri_t vlen = H5Tis_variable_str(type.get());
  if (vlen < 0) throw Failure(with_reason("cannot read the type of " + what));
  if (n == 0) return {};
  if (vlen > 0) return read_vlen_strings(attr.get(), type.get(), space.get(), n, what);
  return read_fixed_strings(attr.get(), type.get(), n, file.size(), what);
}

std::vector<std::string> read_chunked_strings(const File& file, hid_t obj, const std::string& name) {
  if (has_attr(obj, name)) return read_strings(file, obj, name);
  std::vector<std::string> all;
  for (int i = 0; has_attr(obj, name + std::to_string(i)); ++i) {
    std::vector<std::string> part = read_strings(file, obj, name + std::to_string(i));
    all.insert(all.end(), part.begin(), part.end());
  }
  return all;
}

Array read_dataset(const File& file, hid_t loc, const std::string& name) {
  require_hard_path(loc, name);
  Handle dset(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dset.valid()) {
    std::string reason = take_error();  // before path_of, which clears the error stack
    throw Failure("cannot open dataset '" + name + "' in " + path_of(loc) + (reason.empty() ? "" : " (HDF5: " + reason + ")"));
  }
  std::string what = "dataset " + path_of(dset.get());
  Handle dcpl(H5Dget_create_plist(dset.get()), H5Pclose);
  if (!dcpl.valid()) throw Failure(with_reason("cannot read the storage properties of " + what));
  const bool deflated = check_stored_inside(dcpl.get(), what);
  Handle type(H5Dget_type(dset.get()), H5Tclose);
  Handle space(H5Dget_space(dset.get()), H5Sclose);
  if (!type.valid() || !space.valid()) throw Failure(with_reason("cannot read the type and shape of " + what));

  Array out;
  uint64_t n = element_count(space.get(), &out.shape, what);
  if (H5Sget_simple_extent_type(space.get()) == H5S_NULL) throw Failure(what + " holds no data (null dataspace)");
  H5T_class_t cls = H5Tget_class(type.get());
  size_t width = H5Tget_size(type.get());
  if (width == 0) throw Failure(with_reason("cannot read the element type of " + what));
  check_size(file, dset.get(), dcpl.get(), checked_mul(n, width, what), width, deflated, what);
  out.data.resize(n);
  if (n == 0) return out;

  std::string dtype = (cls == H5T_OPAQUE || cls == H5T_INTEGER) ? dtype_attr(file, dset.get()) : "";
  bool bfloat16 = width == 2 && (cls == H5T_OPAQUE ? dtype.empty() || dtype == "bfloat16" : dtype == "bfloat16");
  if (bfloat16) {
    read_bfloat16(dset.get(), type.get(), n, out.data, what);
  } else if (cls == H5T_FLOAT && width <= 4) {
    read_into(dset.get(), H5T_NATIVE_FLOAT, out.data.data(), what);  // float16 widens exactly
  } else if (cls == H5T_FLOAT && width == 8) {
    read_converted<double>(dset.get(), H5T_NATIVE_DOUBLE, n, out.data, what);
  } else if (cls == H5T_INTEGER && H5Tget_sign(type.get()) == H5T_SGN_NONE) {
    read_converted<uint64_t>(dset.get(), H5T_NATIVE_UINT64, n, out.data, what);
  } else if (cls == H5T_INTEGER) {
    read_converted<int64_t>(dset.get(), H5T_NATIVE_INT64, n, out.data, what);
  } else {
    std::string kind = std::string(class_name(cls)) + ", " + std::to_string(width) + (width == 1 ? " byte" : " bytes");
    if (!dtype.empty()) kind += ", dtype '" + dtype + "'";
    throw Unsupported(what + " has elements of type " + kind +
                      ", which kc2cpp cannot read (it reads float16/32/64, bfloat16 and integer weights)");
  }
  return out;
}

void check_storage(hid_t dcpl, const std::string& what) { check_stored_inside(dcpl, what); }
void check_stored_size(const File& file, hid_t dset, hid_t dcpl, uint64_t bytes, size_t width, const std::string& what) {
  check_size(file, dset, dcpl, bytes, width, check_filters(dcpl, what), what);
}
float to_float32(double d) { return double_to_float(d); }

}  // namespace kc2cpp::load::h5
