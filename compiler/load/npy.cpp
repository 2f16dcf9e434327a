// The .npy format (numpy/lib/format.py): magic "\x93NUMPY", major and minor version bytes, the
// header length (uint16 LE for 1.0, uint32 LE for 2.0 and 3.0), then a Python dict literal
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with spaces and ended by '\n'
// so that the data starts on a 64-byte boundary, then the raw data.
#include "load/npy.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <istream>
#include <limits>

#include "error.h"

namespace kc2cpp::load {
namespace {

const std::string kMagic("\x93NUMPY", 6);
constexpr size_t kAlign = 64;            // numpy's ARRAY_ALIGN
constexpr size_t kGrowthAxisDigits = 21;  // numpy's GROWTH_AXIS_MAX_DIGITS

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw Error(path + ": " + what); }

struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

// A parser for the one dict literal numpy writes: string keys; string, bool and int-tuple values.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& path) : s_(text), path_(path) {}

  Header parse() {
    Header h;
    bool has_descr = false, has_order = false, has_shape = false;
    expect('{');
    while (!peek('}')) {
      std::string key = quoted();
      expect(':');
      if (key == "descr") h.descr = quoted(), has_descr = true;
      else if (key == "fortran_order") h.fortran_order = boolean(), has_order = true;
      else if (key == "shape") h.shape = tuple(), has_shape = true;
      else bad("unknown key '" + key + "'");
      if (!peek('}')) expect(',');
    }
    expect('}');
    if (!has_descr || !has_order || !has_shape) bad("'descr', 'fortran_order' or 'shape' is missing");
    return h;
  }

 private:
  [[noreturn]] void bad(const std::string& why) {
    fail(path_, "the .npy header is malformed (" + why + ")");
  }
  void skip_space() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool peek(char c) {
    skip_space();
    return i_ < s_.size() && s_[i_] == c;
  }
  void expect(char c) {
    if (!peek(c)) bad(std::string("expected '") + c + "' at offset " + std::to_string(i_));
    ++i_;
  }
  std::string quoted() {
    skip_space();
    if (i_ >= s_.size() || (s_[i_] != '\'' && s_[i_] != '"')) bad("expected a quoted string");
    char q = s_[i_++];
    size_t end = s_.find(q, i_);
    if (end == std::string::npos) bad("unterminated string");
    std::string out = s_.substr(i_, end - i_);
    i_ = end + 1;
    return out;
  }
  bool boolean() {
    skip_space();
    if (s_.compare(i_, 4, "True") == 0) return i_ += 4, true;
    if (s_.compare(i_, 5, "False") == 0) return i_ += 5, false;
    bad("expected True or False");
  }
  std::vector<int64_t> tuple() {
    std::vector<int64_t> dims;
    expect('(');
    while (!peek(')')) {
      size_t start = i_;
      int64_t v = 0;
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) {
        if (v > (std::numeric_limits<int64_t>::max() - 9) / 10) bad("dimension too large");
        v = v * 10 + (s_[i_++] - '0');
      }
      if (i_ == start) bad("expected a dimension at offset " + std::to_string(i_));
      if (i_ < s_.size() && s_[i_] == 'L') ++i_;  // Python 2 long
      dims.push_back(v);
      if (!peek(')')) expect(',');
    }
    expect(')');
    return dims;
  }

  const std::string& s_;
  const std::string& path_;
  size_t i_ = 0;
};

uint64_t read_le(const unsigned char* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

float decode(const unsigned char* p, const std::string& descr) {
  if (descr == "<f4") {
    uint32_t bits = static_cast<uint32_t>(read_le(p, 4));
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  if (descr == "<f8") {
    uint64_t bits = read_le(p, 8);
    double d;
    std::memcpy(&d, &bits, 8);
    if (std::isnan(d) || std::fabs(d) <= std::numeric_limits<float>::max()) return static_cast<float>(d);
    float big = std::fabs(d) < 0x1.ffffffp127 ? std::numeric_limits<float>::max()
                                              : std::numeric_limits<float>::infinity();
    return d < 0 ? -big : big;
  }
  if (descr == "<i4") return static_cast<float>(static_cast<int32_t>(read_le(p, 4)));
  return static_cast<float>(static_cast<int64_t>(read_le(p, 8)));  // "<i8"
}

size_t item_size(const std::string& descr) {
  if (descr == "<f4" || descr == "<i4") return 4;
  if (descr == "<f8" || descr == "<i8") return 8;
  return 0;
}

std::string shape_repr(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

uint64_t element_count(const std::vector<int64_t>& shape, const std::string& path) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) fail(path, "negative dimension in shape " + shape_repr(shape));
    if (d != 0 && n > std::numeric_limits<uint64_t>::max() / 8 / static_cast<uint64_t>(d))
      fail(path, "the shape " + shape_repr(shape) + " is too large");
    n *= static_cast<uint64_t>(d);
  }
  return n;
}

}  // namespace

uint64_t npy_item_size(const std::string& descr) {
  if (descr.size() < 3 || std::string("<>|=").find(descr[0]) == std::string::npos ||
      std::string("fiu").find(descr[1]) == std::string::npos)
    return 0;
  const std::string width = descr.substr(2);
  if (width == "1" && descr[1] == 'f') return 0;  // no 1-byte IEEE float (fuzz_data found '<f1' read as float64)
  if (width == "1" || width == "2" || width == "4" || width == "8") return static_cast<uint64_t>(width[0] - '0');
  return 0;
}

NpyHeader read_npy_header(const std::string& path, std::istream& in, uint64_t file_size) {
  std::string head(12, '\0');
  in.read(head.data(), 12);
  head.resize(static_cast<size_t>(in.gcount()));
  if (head.compare(0, kMagic.size(), kMagic) != 0 || head.size() < 10)
    fail(path, "not a NumPy .npy file (no \\x93NUMPY signature); write it with numpy.save");
  const auto* u = reinterpret_cast<const unsigned char*>(head.data());
  int major = u[6], minor = u[7];
  if (major < 1 || major > 3 || minor != 0)
    fail(path, "unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor) +
                   "; kc2cpp reads versions 1.0, 2.0 and 3.0");
  const size_t len_size = major == 1 ? 2 : 4;
  if (head.size() < 8 + len_size) fail(path, "the .npy file is truncated inside its header");
  const uint64_t header_len = read_le(u + 8, len_size);
  const uint64_t data_start = 8 + len_size + header_len;
  if (data_start > file_size) fail(path, "the .npy file is truncated inside its header");
  std::string text = head.substr(8 + len_size);
  text.resize(static_cast<size_t>(header_len));
  const size_t have = head.size() - 8 - len_size;
  if (header_len > have) in.read(text.data() + have, static_cast<std::streamsize>(header_len - have));
  if (!in) fail(path, "the .npy file is truncated inside its header");

  Header h = HeaderParser(text, path).parse();
  if (h.fortran_order)
    fail(path, "fortran_order arrays are not supported; save a C-ordered array (numpy.ascontiguousarray)");
  const uint64_t item = npy_item_size(h.descr);
  if (item == 0)
    fail(path, "dtype '" + h.descr + "' is not supported; kc2cpp reads integer and floating-point arrays");
  uint64_t n = element_count(h.shape, path);
  uint64_t data = file_size - data_start;
  if (data != n * item)
    fail(path, "the shape " + shape_repr(h.shape) + " with dtype '" + h.descr + "' needs " +
                   std::to_string(n * item) + " bytes of data but the file has " + std::to_string(data) +
                   (data < n * item ? "; the file is truncated" : ""));
  return {h.descr, h.shape, data_start};
}

NpyArray read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, std::string("cannot open the .npy file (") + std::strerror(errno) + ")");
  in.seekg(0, std::ios::end);
  const uint64_t size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  const NpyHeader h = read_npy_header(path, in, size);
  const size_t item = item_size(h.descr);
  if (item == 0)
    fail(path, "dtype '" + h.descr + "' is not supported; kc2cpp reads little-endian float32 ('<f4'), "
                   "float64 ('<f8'), int32 ('<i4') and int64 ('<i8') arrays");
  std::string bytes(size - h.data_offset, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!in) fail(path, std::string("cannot read the .npy file (") + std::strerror(errno) + ")");
  const auto* u = reinterpret_cast<const unsigned char*>(bytes.data());
  NpyArray out;
  out.shape = h.shape;
  out.data.resize(bytes.size() / item);
  for (uint64_t i = 0; i < out.data.size(); ++i) out.data[i] = decode(u + i * item, h.descr);
  return out;
}

std::string encode_npy(const std::string& path, const NpyArray& array) {
  uint64_t n = element_count(array.shape, path);
  if (n != array.data.size())
    fail(path, "cannot write .npy: the shape " + shape_repr(array.shape) + " has " + std::to_string(n) +
                   " elements but the data has " + std::to_string(array.data.size()));
  // Exactly what numpy.save writes, including the spare spaces that let the first axis grow.
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_repr(array.shape) + ", }";
  if (!array.shape.empty()) header += std::string(kGrowthAxisDigits - std::to_string(array.shape[0]).size(), ' ');
  auto padding = [&](size_t len_size) { return kAlign - (kMagic.size() + 2 + len_size + header.size() + 1) % kAlign; };
  size_t len_size = header.size() + 1 + padding(2) < 65536 ? 2 : 4;  // version 1.0 if its uint16 length fits
  size_t pad = padding(len_size);
  header += std::string(pad, ' ') + "\n";

  std::string out = kMagic;
  out += static_cast<char>(len_size == 2 ? 1 : 2);
  out += '\0';
  for (size_t i = 0; i < len_size; ++i) out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  out += header;
  for (float f : array.data) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    for (int i = 0; i < 4; ++i) out += static_cast<char>((bits >> (8 * i)) & 0xff);
  }
  return out;
}

void write_npy(const std::string& path, const NpyArray& array) {
  const std::string out = encode_npy(path, array);
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) fail(path, std::string("cannot create the .npy file (") + std::strerror(errno) + ")");
  file.write(out.data(), static_cast<std::streamsize>(out.size()));
  file.close();
  if (!file) fail(path, std::string("cannot write the .npy file (") + std::strerror(errno) + ")");
}

}  // namespace kc2cpp::load
