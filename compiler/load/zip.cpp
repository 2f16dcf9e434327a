#include "load/zip.h"

#include <zip.h>

#include <memory>

namespace kc2cpp::load::zip {
namespace {

// Deflate cannot expand data more than 1032:1 (258-byte matches coded in 2 bits).
constexpr uint64_t kMaxDeflateRatio = 1032;

std::string code_text(int code) {
  zip_error_t e;
  zip_error_init_with_code(&e, code);
  std::string text = zip_error_strerror(&e);
  zip_error_fini(&e);
  return text;
}

std::string archive_error(::zip* z) { return zip_error_strerror(zip_get_error(z)); }

struct FileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

zip_stat_t stat_member(::zip* z, zip_int64_t index, const std::string& name) {
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(z, static_cast<zip_uint64_t>(index), 0, &st) != 0)
    throw Failure("cannot read the directory entry of '" + name + "' (" + archive_error(z) + ")");
  const zip_uint64_t needed = ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD;
  if ((st.valid & needed) != needed) throw Failure("the directory entry of '" + name + "' is incomplete");
  return st;
}

void check_declared(const zip_stat_t& st, const std::string& name, uint64_t file_size, uint64_t limit) {
  if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
    throw Failure("'" + name + "' is encrypted");
  if (st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE)
    throw Failure("'" + name + "' is compressed with zip method " + std::to_string(st.comp_method) +
                  " (kc2cpp reads stored and deflated members)");
  const std::string sizes = "'" + name + "' declares " + std::to_string(st.size) + " bytes (" +
                            std::to_string(st.comp_size) + " compressed)";
  if (st.comp_size > file_size) throw Failure(sizes + " but the archive has only " + std::to_string(file_size));
  if (st.comp_method == ZIP_CM_STORE && st.size != st.comp_size)
    throw Failure(sizes + " but is stored uncompressed, so both must be equal");
  if (st.comp_method == ZIP_CM_DEFLATE && st.size / kMaxDeflateRatio > st.comp_size)
    throw Failure(sizes + ", more than deflate can expand to");
  if (st.size > limit)
    throw Failure(sizes + ", more than kc2cpp accepts for it (" + std::to_string(limit) + " bytes)");
}

}  // namespace

Archive Archive::open(const std::string& path, uint64_t size_on_disk) {
  int code = 0;
  ::zip* z = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
  if (z == nullptr) throw Failure("libzip cannot open it: " + code_text(code));
  return Archive(z, size_on_disk);
}

Archive::~Archive() {
  if (z_ != nullptr) zip_discard(z_);
}

std::vector<std::string> Archive::names() const {
  std::vector<std::string> out;
  const zip_int64_t n = zip_get_num_entries(z_, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* name = zip_get_name(z_, static_cast<zip_uint64_t>(i), 0);
    if (name != nullptr) out.emplace_back(name);
  }
  return out;
}

bool Archive::has(const std::string& name) const { return zip_name_locate(z_, name.c_str(), 0) >= 0; }

std::string Archive::read(const std::string& name, uint64_t limit) const {
  const zip_int64_t index = zip_name_locate(z_, name.c_str(), 0);
  if (index < 0) throw Failure("it has no member '" + name + "'");
  const zip_stat_t st = stat_member(z_, index, name);
  check_declared(st, name, file_size_, limit);
  std::unique_ptr<zip_file_t, FileCloser> f(zip_fopen_index(z_, static_cast<zip_uint64_t>(index), 0));
  if (!f) throw Failure("cannot open '" + name + "' (" + archive_error(z_) + ")");
  std::string bytes(st.size, '\0');
  uint64_t got = 0;
  while (got < st.size) {
    const zip_int64_t n = zip_fread(f.get(), bytes.data() + got, st.size - got);
    if (n < 0) throw Failure("cannot read '" + name + "' (" + zip_error_strerror(zip_file_get_error(f.get())) + ")");
    if (n == 0) break;
    got += static_cast<uint64_t>(n);
  }
  char extra;
  const zip_int64_t more = got == st.size ? zip_fread(f.get(), &extra, 1) : 0;  // at the end libzip checks the CRC
  if (more < 0) throw Failure("cannot read '" + name + "' (" + zip_error_strerror(zip_file_get_error(f.get())) + ")");
  if (got != st.size || more != 0)
    throw Failure("'" + name + "' does not hold the " + std::to_string(st.size) + " bytes its directory entry declares");
  return bytes;
}

}  // namespace kc2cpp::load::zip
