#include "data/data.h"

#include <hdf5.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <tuple>
#include <type_traits>

#include "error.h"
#include "load/hdf5.h"
#include "load/keras_model.h"
#include "load/npy.h"

#if defined(__linux__)  // socketpair with SOCK_CLOEXEC, send with MSG_NOSIGNAL
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

#include "load/isolate.h"
#endif

namespace kc2cpp::data {
namespace {

[[noreturn]] void fail(const std::string& name, const std::string& what) { throw Error(name + ": " + what); }

constexpr int64_t kMaxRowValues = int64_t{1} << 31;
const std::string kHdf5Signature("\x89HDF\r\n\x1a\n", 8);
const std::string kNpySignature("\x93NUMPY", 6);

// ---- numbers ------------------------------------------------------------------------------------

// `part` of the argument `text` of `option` as a finite number.
double parse_number(const std::string& part, const std::string& text, const std::string& option) {
  double v = 0;
  const char* end = part.data() + part.size();
  const auto r = std::from_chars(part.data(), end, v);
  if (part.empty() || r.ec != std::errc() || r.ptr != end || !std::isfinite(v))
    throw UsageError(option + " '" + text + "' is not a number; write e.g. " + option + " 1/255 or " + option + " 0.5");
  return v;
}

// "A" or "A/B" -> {A, B}.
std::pair<double, double> parse_fraction(const std::string& text, const std::string& option) {
  const size_t slash = text.find('/');
  if (slash == std::string::npos) return {parse_number(text, text, option), 1.0};
  const double b = parse_number(text.substr(slash + 1), text, option);
  if (b == 0) throw UsageError(option + " '" + text + "' divides by zero");
  return {parse_number(text.substr(0, slash), text, option), b};
}

// Converts `n` elements of type T with `t` (the rules in data.h).
template <typename T>
void convert(const T* x, size_t n, const Transform& t, float* out) {
  if constexpr (std::is_same_v<T, float>) {
    const float a = static_cast<float>(t.multiply), b = static_cast<float>(t.divide), c = static_cast<float>(t.offset);
    for (size_t i = 0; i < n; ++i) {
      float v = x[i];
      if (t.multiply != 1) v *= a;
      if (t.divide != 1) v /= b;
      if (t.offset != 0) v += c;
      out[i] = v;
    }
  } else if (t.identity() && !std::is_same_v<T, double>) {
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(x[i]);  // integers: nearest float32
  } else {
    for (size_t i = 0; i < n; ++i) {
      double v = static_cast<double>(x[i]);
      if (t.multiply != 1) v *= t.multiply;
      if (t.divide != 1) v /= t.divide;
      if (t.offset != 0) v += t.offset;
      out[i] = load::h5::to_float32(v);
    }
  }
}

template <typename Signed, typename Unsigned>
void convert_int(const ElementType& type, const void* raw, size_t n, const Transform& t, float* out) {
  if (type.kind == 'u') convert(static_cast<const Unsigned*>(raw), n, t, out);
  else convert(static_cast<const Signed*>(raw), n, t, out);
}

void convert_any(const ElementType& type, const void* raw, size_t n, const Transform& t, float* out) {
  if (type.kind == 'f') {
    if (type.width == 4) convert(static_cast<const float*>(raw), n, t, out);
    else convert(static_cast<const double*>(raw), n, t, out);
    return;
  }
  switch (type.width) {
    case 1: convert_int<int8_t, uint8_t>(type, raw, n, t, out); break;
    case 2: convert_int<int16_t, uint16_t>(type, raw, n, t, out); break;
    case 4: convert_int<int32_t, uint32_t>(type, raw, n, t, out); break;
    default: convert_int<int64_t, uint64_t>(type, raw, n, t, out); break;
  }
}

// IEEE half -> float, exactly.
float half_to_float(uint16_t h) {
  const int exponent = (h >> 10) & 0x1f;
  const int mantissa = h & 0x3ff;
  float v;
  if (exponent == 0) v = std::ldexp(static_cast<float>(mantissa), -24);
  else if (exponent == 31) v = mantissa ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  else v = std::ldexp(static_cast<float>(mantissa + 1024), exponent - 25);
  return (h & 0x8000) ? -v : v;
}

std::string read_head(const std::string& file, size_t n) {
  load::require_not_special(file, "kc2cpp reads a data file saved with numpy.save or h5py");  // a FIFO would block
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(file, std::string("cannot open the data file (") + std::strerror(errno) + ")");
  std::string head(n, '\0');
  in.read(head.data(), static_cast<std::streamsize>(n));
  head.resize(static_cast<size_t>(in.gcount()));
  return head;
}

// ---- .npy ---------------------------------------------------------------------------------------

class NpySource : public Source {
 public:
  explicit NpySource(const DataPath& path) : in_(path.file, std::ios::binary) {
    name_ = path.file;
    if (!in_) fail(name_, std::string("cannot open the .npy file (") + std::strerror(errno) + ")");
    in_.seekg(0, std::ios::end);
    const uint64_t size = static_cast<uint64_t>(in_.tellg());
    in_.seekg(0);
    const load::NpyHeader h = load::read_npy_header(name_, in_, size);
    shape_ = h.shape;
    data_offset_ = h.data_offset;
    type_ = {h.descr[1], static_cast<int>(load::npy_item_size(h.descr))};
    const uint16_t one = 1;
    const bool little = *reinterpret_cast<const unsigned char*>(&one) == 1;
    swap_ = type_.width > 1 && ((h.descr[0] == '>' && little) || (h.descr[0] == '<' && !little));
  }

 protected:
  void read_native(int64_t begin, int64_t end, void* buffer) override {
    const uint64_t row_bytes = static_cast<uint64_t>(row_size()) * type_.width;
    const uint64_t bytes = static_cast<uint64_t>(end - begin) * row_bytes;
    const bool half = type_.kind == 'f' && type_.width == 2;
    std::string raw;
    char* dst = static_cast<char*>(buffer);
    if (half) raw.resize(bytes), dst = raw.data();
    in_.seekg(static_cast<std::streamoff>(data_offset_ + static_cast<uint64_t>(begin) * row_bytes));
    in_.read(dst, static_cast<std::streamsize>(bytes));
    if (!in_) fail(name_, std::string("cannot read the data (") + std::strerror(errno) + ")");
    if (swap_)
      for (uint64_t i = 0; i < bytes; i += type_.width) std::reverse(dst + i, dst + i + type_.width);
    if (half) {
      float* out = static_cast<float*>(buffer);
      for (uint64_t i = 0; i < bytes / 2; ++i) {
        uint16_t h;
        std::memcpy(&h, dst + 2 * i, 2);
        out[i] = half_to_float(h);
      }
    }
  }
  ElementType buffer_type() const override { return type_.width == 2 && type_.kind == 'f' ? ElementType{'f', 4} : type_; }

 private:
  std::ifstream in_;
  uint64_t data_offset_ = 0;
  bool swap_ = false;
};

// ---- HDF5 ---------------------------------------------------------------------------------------

using load::h5::Handle;

std::string hdf5_reason() {
  const std::string r = load::h5::take_error();
  return r.empty() ? "" : " (HDF5: " + r + ")";
}

// The datasets directly below the root group, for the message when the path names none.
std::string list_datasets(hid_t root) {
  std::string names;
  hsize_t at = 0;
  H5Literate(root, H5_INDEX_NAME, H5_ITER_INC, &at,
             [](hid_t loc, const char* name, const H5L_info_t* info, void* out) -> herr_t {
               H5O_info_t oi;
               if (info->type == H5L_TYPE_HARD && H5Oget_info_by_name(loc, name, &oi, H5P_DEFAULT) >= 0 &&
                   oi.type == H5O_TYPE_DATASET) {
                 auto* s = static_cast<std::string*>(out);
                 *s += (s->empty() ? "/" : ", /") + std::string(name);
               }
               return 0;
             },
             &names);
  load::h5::take_error();
  return names.empty() ? "it has no dataset at its top level" : "its top-level datasets: " + names;
}

hid_t native_type(const ElementType& t) {
  if (t.kind == 'f') return t.width == 8 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_FLOAT;
  const bool u = t.kind == 'u';
  switch (t.width) {
    case 1: return u ? H5T_NATIVE_UINT8 : H5T_NATIVE_INT8;
    case 2: return u ? H5T_NATIVE_UINT16 : H5T_NATIVE_INT16;
    case 4: return u ? H5T_NATIVE_UINT32 : H5T_NATIVE_INT32;
    default: return u ? H5T_NATIVE_UINT64 : H5T_NATIVE_INT64;
  }
}

class Hdf5Source : public Source {
 public:
  explicit Hdf5Source(const DataPath& path) {
    name_ = path.display();
    if (path.dataset.empty())
      throw UsageError(path.file + ": an HDF5 file: name the dataset to read, e.g. " + path.file + ":/image (" +
                       list_datasets(open_file(path.file).root()) + ")");
    file_ = std::make_unique<load::h5::File>(open_file(path.file));
    open_dataset(path.dataset);
  }
  // For the reading child (IsolatedHdf5Source): the rows as read_native gives them, and their type.
  void read_rows(int64_t begin, int64_t end, void* buffer) { read_native(begin, end, buffer); }
  ElementType rows_type() const { return buffer_type(); }

 protected:
  void read_native(int64_t begin, int64_t end, void* buffer) override {
    std::vector<hsize_t> start(shape_.size(), 0), count(shape_.begin(), shape_.end());
    start[0] = static_cast<hsize_t>(begin);
    count[0] = static_cast<hsize_t>(end - begin);
    Handle file_space(H5Dget_space(dset_.get()), H5Sclose);
    Handle mem_space(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), H5Sclose);
    if (!file_space.valid() || !mem_space.valid() ||
        H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr) < 0 ||
        H5Dread(dset_.get(), native_type(buffer_type()), mem_space.get(), file_space.get(), H5P_DEFAULT, buffer) < 0)
      fail(name_, "cannot read rows " + std::to_string(begin) + " to " + std::to_string(end) + hdf5_reason());
  }
  ElementType buffer_type() const override { return type_.kind == 'f' && type_.width == 2 ? ElementType{'f', 4} : type_; }

 private:
  static load::h5::File open_file(const std::string& file) {
    std::ifstream in(file, std::ios::binary | std::ios::ate);
    if (!in) fail(file, std::string("cannot open the data file (") + std::strerror(errno) + ")");
    try {
      return load::h5::File::open(file, static_cast<uint64_t>(in.tellg()));
    } catch (const load::h5::Failure& e) {
      fail(file, std::string(e.what()) + "; is it a damaged HDF5 file?");
    }
  }

  void open_dataset(const std::string& dataset) {
    const hid_t root = file_->root();
    try {
      for (size_t slash = dataset.find('/', 1);; slash = dataset.find('/', slash + 1)) {
        const std::string level = dataset.substr(0, slash);
        if (level.size() > 1) load::h5::require_hard_link(root, level);
        if (slash == std::string::npos) break;
      }
      dset_ = Handle(H5Dopen2(root, dataset.c_str(), H5P_DEFAULT), H5Dclose);
      if (!dset_.valid()) {
        load::h5::take_error();
        fail(name_, "there is no dataset '" + dataset + "' in the file (" + list_datasets(root) + ")");
      }
      Handle dcpl(H5Dget_create_plist(dset_.get()), H5Pclose);
      if (!dcpl.valid()) fail(name_, "cannot read the storage properties" + hdf5_reason());
      load::h5::check_storage(dcpl.get(), "the dataset");
    } catch (const load::h5::Failure& e) {
      fail(name_, std::string(e.what()) + "; kc2cpp reads only data stored in the file itself");
    }
    read_type_and_shape();
  }

  void read_type_and_shape() {
    Handle type(H5Dget_type(dset_.get()), H5Tclose);
    Handle space(H5Dget_space(dset_.get()), H5Sclose);
    if (!type.valid() || !space.valid()) fail(name_, "cannot read the type and shape" + hdf5_reason());
    const H5T_class_t cls = H5Tget_class(type.get());
    const int width = static_cast<int>(H5Tget_size(type.get()));
    const bool int_ok = cls == H5T_INTEGER && (width == 1 || width == 2 || width == 4 || width == 8);
    const bool float_ok = cls == H5T_FLOAT && (width == 2 || width == 4 || width == 8);
    if (!int_ok && !float_ok)
      fail(name_, "holds " + std::string(cls == H5T_STRING ? "strings" : cls == H5T_ENUM ? "enum (e.g. bool) values"
                                         : cls == H5T_COMPOUND ? "compound records" : "values of an unsupported type") +
                      "; kc2cpp reads integer and floating-point datasets");
    type_ = {float_ok ? 'f' : H5Tget_sign(type.get()) == H5T_SGN_NONE ? 'u' : 'i', width};
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0 || rank > H5S_MAX_RANK) fail(name_, "cannot read the shape" + hdf5_reason());
    std::vector<hsize_t> dims(static_cast<size_t>(rank));
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    uint64_t bytes = static_cast<uint64_t>(width);
    for (hsize_t d : dims) {
      if (d > static_cast<hsize_t>(kMaxRowValues) || (d != 0 && bytes > UINT64_MAX / d))
        fail(name_, "claims an impossible shape (a dimension of " + std::to_string(d) + "); is it a damaged HDF5 file?");
      bytes *= d;
      shape_.push_back(static_cast<int64_t>(d));
    }
    if (shape_.empty()) fail(name_, "is a scalar; kc2cpp reads samples along a first axis: store shape (N, ...)");
    Handle dcpl(H5Dget_create_plist(dset_.get()), H5Pclose);
    try {
      if (!dcpl.valid()) throw load::h5::Failure("cannot read the storage properties" + hdf5_reason());
      load::h5::check_stored_size(*file_, dset_.get(), dcpl.get(), bytes, static_cast<size_t>(width), "the dataset");
    } catch (const load::h5::Failure& e) {
      fail(name_, std::string(e.what()) + "; is it a damaged HDF5 file?");
    }
  }

  std::unique_ptr<load::h5::File> file_;
  Handle dset_;
};

// ---- HDF5 in a child process -------------------------------------------------------------------

#if defined(__linux__)
// libhdf5 can crash, loop forever or allocate without bound on a crafted file (load/keras_model.h), so
// an HDF5 data file is opened and read by an Hdf5Source in a child process (load/isolate.h) that
// serves the rows the parent asks for, over a socket pair (native byte order, one executable):
//   child:  'S' type kind, i32 width, buffer kind, i32 buffer width, u8 rank, i64 dims[rank]
//           or 'E'/'U' message (Error/UsageError), or 'O' (out of memory); then per request
//   parent: i64 begin, i64 end   (the parent closing the socket ends the child)
//   child:  'R' the rows' bytes (what read_native gives), or 'E'/'O' as above.
// Each answer must come within 30 s + 1 s per 20 MB of file; a child that crashes, hangs or goes over
// the memory limit (Source::open's max_memory) gives an Error naming the file and dataset.
class IsolatedHdf5Source : public Source {
 public:
  IsolatedHdf5Source(const DataPath& path, uint64_t max_memory) {
    name_ = path.display();
    limit_ = load::child::memory_limit(max_memory, path.file);
    struct stat st {};
    timeout_ = std::chrono::milliseconds(30000 + (::stat(path.file.c_str(), &st) == 0 ? st.st_size / 20000 : 0));
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
      fail(name_, std::string("cannot start the process that reads the file (") + std::strerror(errno) + ")");
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(fds[0]);
      serve(path, fds[1], parent, limit_);
    }
    ::close(fds[1]);
    fd_ = fds[0];
    if (pid_ < 0) fail(name_, std::string("cannot start the process that reads the file (") + std::strerror(errno) + ")");
    load::child::PipeReader r = answer();
    try {
      type_.kind = r.pod<char>();
      type_.width = r.pod<int32_t>();
      buffer_type_.kind = r.pod<char>();
      buffer_type_.width = r.pod<int32_t>();
      shape_.resize(r.pod<uint8_t>());
      for (int64_t& d : shape_) d = r.pod<int64_t>();
    } catch (const std::runtime_error&) {
      dead(false, stop());
    }
  }
  ~IsolatedHdf5Source() override { stop(); }

 protected:
  void read_native(int64_t begin, int64_t end, void* buffer) override {
    const int64_t request[2] = {begin, end};
    if (::send(fd_, request, sizeof request, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof request)) dead(false, stop());
    load::child::PipeReader r = answer();
    try {
      r.bytes(buffer, static_cast<size_t>((end - begin) * row_size()) * static_cast<size_t>(buffer_type_.width));
    } catch (const std::runtime_error&) {  // a short answer: the child died while writing it
      dead(false, stop());
    }
  }
  ElementType buffer_type() const override { return buffer_type_; }

 private:
  // The child: an Hdf5Source answering requests until the parent closes the socket.
  [[noreturn]] static void serve(const DataPath& path, int fd, pid_t parent, uint64_t limit) {
    load::child::enter_child(parent, limit);
    load::child::report_memory_crashes(fd);
    load::child::PipeWriter w(fd);
    load::child::PipeReader r(fd);
    try {
      Hdf5Source src(path);
      w.pod<char>('S');
      for (const ElementType& t : {src.type(), src.rows_type()}) w.pod<char>(t.kind), w.pod<int32_t>(t.width);
      w.pod<uint8_t>(static_cast<uint8_t>(src.shape().size()));
      for (int64_t d : src.shape()) w.pod<int64_t>(d);
      std::vector<uint64_t> buffer;
      for (;;) {
        int64_t request[2];
        try {
          r.bytes(request, sizeof request);
        } catch (const std::runtime_error&) {
          break;  // the parent is done
        }
        const size_t bytes = static_cast<size_t>((request[1] - request[0]) * src.row_size()) *
                             static_cast<size_t>(src.rows_type().width);
        buffer.resize((bytes + 7) / 8);
        src.read_rows(request[0], request[1], buffer.data());
        w.pod<char>('R');
        w.bytes(buffer.data(), bytes);
      }
    } catch (const UsageError& e) {
      w.pod<char>('U');
      w.str(e.what());
    } catch (const Error& e) {
      w.pod<char>('E');
      w.str(e.what());
    } catch (const std::bad_alloc&) {
      w.pod<char>('O');
    } catch (const std::exception& e) {
      w.pod<char>('E');
      w.str(path.display() + ": kc2cpp failed while reading the data (" + e.what() + "); please report it with the file");
    }
    ::close(fd);
    ::_exit(0);
  }

  // Waits for the child's next answer; returns the reader past an 'S' or 'R' tag, throws for the rest.
  load::child::PipeReader answer() {
    load::child::PipeReader r(fd_);
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    bool over_limit = false;
    if (!r.wait_until(deadline, [&] { return over_limit = load::child::resident_above(pid_, limit_); })) {
      stop();
      if (over_limit) dead(true, "");
      fail(name_, "the HDF5 library did not finish reading the file within " + std::to_string(timeout_.count() / 1000) +
                      " s; the file is probably damaged: write it again (e.g. with h5py)");
    }
    char tag = 0;
    std::string message;
    try {
      tag = r.pod<char>();
      if (tag == 'S' || tag == 'R') return r;
      if (tag == 'E' || tag == 'U') message = r.str();
    } catch (const std::exception&) {
      tag = 0;
    }
    const std::string ended = stop();
    if (tag == 'U') throw UsageError(message);
    if (tag == 'E') throw Error(message);
    dead(tag == 'O', ended);
  }

  // The child ran out of memory, or ended (`ended`: how) without an answer: an Error saying so.
  [[noreturn]] void dead(bool out_of_memory, const std::string& ended) {
    if (out_of_memory)
      fail(name_, "reading the file asks for more than " + load::child::gigabytes(limit_) +
                      " GB of memory (the reader's limit); the file is probably damaged; if the data really needs "
                      "that much, raise the limit with --max-memory <GB> or the environment variable "
                      "KC2CPP_MAX_MEMORY=<GB>");
    fail(name_, "the HDF5 library crashed while reading the file (" + (ended.empty() ? "no answer" : ended) +
                    "); the file is damaged: write it again (e.g. with h5py)");
  }

  // Ends the child (if still running) and returns how it ended ("" the second time).
  std::string stop() {
    std::string ended;
    if (fd_ >= 0) ::close(fd_), fd_ = -1;
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);  // done with it, or it failed: nothing it would still do matters
      ended = load::child::wait_for(pid_);
      pid_ = -1;
    }
    return ended;
  }

  ElementType buffer_type_;
  uint64_t limit_ = 0;
  std::chrono::milliseconds timeout_{0};
  pid_t pid_ = -1;
  int fd_ = -1;
};
#endif

// ---- writing ------------------------------------------------------------------------------------

std::string encode_hdf5(const std::string& name, const std::vector<OutputArray>& arrays) {
  load::h5::silence_errors();
  const auto check = [&](bool ok, const std::string& what) {
    if (!ok) fail(name, "cannot " + what + hdf5_reason());
  };
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  check(fapl.valid() && H5Pset_fapl_core(fapl.get(), 1 << 20, 0) >= 0, "prepare the HDF5 file");  // in memory only
  Handle file(H5Fcreate("kc2cpp-output-in-memory.h5", H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), H5Fclose);
  check(file.valid(), "create the HDF5 file");
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  check(lcpl.valid() && dcpl.valid() && H5Pset_create_intermediate_group(lcpl.get(), 1) >= 0 &&
            H5Pset_obj_track_times(dcpl.get(), 0) >= 0,
        "prepare the datasets");
  for (const OutputArray& a : arrays) {
    std::vector<hsize_t> dims(a.shape.begin(), a.shape.end());
    Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
    Handle dset(H5Dcreate2(file.get(), a.dataset.c_str(), H5T_IEEE_F32LE, space.get(), lcpl.get(), dcpl.get(),
                           H5P_DEFAULT),
                H5Dclose);
    check(space.valid() && dset.valid(), "create the dataset " + a.dataset);
    check(H5Dwrite(dset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, a.data->data()) >= 0,
          "write the dataset " + a.dataset);
  }
  check(H5Fflush(file.get(), H5F_SCOPE_GLOBAL) >= 0, "finish the HDF5 file");
  const ssize_t size = H5Fget_file_image(file.get(), nullptr, 0);
  check(size > 0, "finish the HDF5 file");
  std::string image(static_cast<size_t>(size), '\0');
  check(H5Fget_file_image(file.get(), image.data(), image.size()) == size, "finish the HDF5 file");
  return image;
}

bool has_hdf5_extension(const std::string& file) {
  for (const char* ext : {".h5", ".hdf5", ".hdf", ".he5"})
    if (file.size() > std::strlen(ext) && file.compare(file.size() - std::strlen(ext), std::string::npos, ext) == 0)
      return true;
  return false;
}

}  // namespace

DataPath parse_data_path(const std::string& arg) {
  const size_t at = arg.find(":/");
  if (at == std::string::npos || at == 0) return {arg, ""};
  return {arg.substr(0, at), arg.substr(at + 1)};
}

Transform parse_transform(const std::string& scale, const std::string& offset) {
  Transform t;
  if (!scale.empty()) std::tie(t.multiply, t.divide) = parse_fraction(scale, "--scale");
  if (!offset.empty()) {
    const auto [a, b] = parse_fraction(offset, "--offset");
    t.offset = a / b;
  }
  return t;
}

std::string ElementType::name() const {
  const std::string bits = std::to_string(8 * width);
  return (kind == 'f' ? "float" : kind == 'u' ? "uint" : "int") + bits;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

std::unique_ptr<Source> Source::open(const std::string& arg, uint64_t max_memory) {
  const DataPath path = parse_data_path(arg);
  const std::string head = read_head(path.file, kHdf5Signature.size());
  std::unique_ptr<Source> src;
#if defined(__linux__)
  if (head.rfind(kHdf5Signature, 0) == 0) src = std::make_unique<IsolatedHdf5Source>(path, max_memory);
#else
  if (head.rfind(kHdf5Signature, 0) == 0) src = std::make_unique<Hdf5Source>(path);
#endif
  else if (head.rfind(kNpySignature, 0) == 0 && path.dataset.empty()) src = std::make_unique<NpySource>(path);
  else if (head.rfind(kNpySignature, 0) == 0)
    throw UsageError(path.display() + ": '" + path.file + "' is a .npy file, which holds one array: pass it without ':" +
                     path.dataset + "'");
  else
    fail(path.file, "neither an HDF5 file nor a NumPy .npy file; save the data with h5py or numpy.save");
  if (src->shape_.empty())
    fail(src->name_, "is a 0-d array; kc2cpp reads samples along a first axis: store shape (N, ...)");
  if (src->rows() == 0) fail(src->name_, "has no samples (shape " + shape_string(src->shape_) + ")");
  int64_t per_row = 1;  // checked here once: row_size() needs no overflow check
  for (size_t i = 1; i < src->shape_.size(); ++i) {
    if (src->shape_[i] <= 0) fail(src->name_, "has empty samples (shape " + shape_string(src->shape_) + ")");
    if (src->shape_[i] > kMaxRowValues / per_row)
      fail(src->name_, "has samples of more than 2^31 values (shape " + shape_string(src->shape_) + ")");
    per_row *= src->shape_[i];
  }
  return src;
}

int64_t Source::row_size() const {
  int64_t n = 1;
  for (size_t i = 1; i < shape_.size(); ++i) n *= shape_[i];
  return n;
}

void Source::read(int64_t begin, int64_t end, const Transform& t, float* out) {
  const ElementType bt = buffer_type();
  const size_t n = static_cast<size_t>((end - begin) * row_size());
  std::vector<uint64_t> raw((n * static_cast<size_t>(bt.width) + 7) / 8);  // 8-byte aligned for every type
  read_native(begin, end, raw.data());
  convert_any(bt, raw.data(), n, t, out);
}

void check_output_path(const DataPath& path) {
  if (path.dataset.empty() && has_hdf5_extension(path.file))
    throw UsageError(path.file + ": name the dataset to write in the HDF5 file, e.g. " + path.file +
                     ":/y (or write a .npy file)");
}

std::string encode_file(const std::string& file, const std::vector<OutputArray>& arrays) {
  if (arrays.size() == 1 && arrays[0].dataset.empty()) {
    check_output_path({file, ""});
    return load::encode_npy(file, {arrays[0].shape, *arrays[0].data});
  }
  return encode_hdf5(file, arrays);
}

}  // namespace kc2cpp::data
