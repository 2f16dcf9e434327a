// Reading zip archives (the Keras 3 .keras format) with libzip, private to the loader.
//
// Rules: members are read whole into memory, never extracted to disk; what is allocated is bounded
// by what the archive can legitimately hold (a stored member is as large as its compressed data, a
// deflated one at most 1032 times larger - deflate's limit - and neither beyond the caller's limit);
// the data must match the declared size and CRC.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

struct zip;

namespace kc2cpp::load::zip {

// The archive or a member cannot be read; the message says what and why (libzip's reason).
class Failure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Archive {
 public:
  // Opens `path` read-only, with libzip's consistency checks. Throws Failure.
  static Archive open(const std::string& path, uint64_t size_on_disk);
  Archive(Archive&& other) noexcept : z_(other.z_), file_size_(other.file_size_) { other.z_ = nullptr; }
  Archive(const Archive&) = delete;
  Archive& operator=(const Archive&) = delete;
  Archive& operator=(Archive&&) = delete;
  ~Archive();

  std::vector<std::string> names() const;  // member names in archive order
  bool has(const std::string& name) const;

  // The member's bytes. Throws Failure if it is missing, encrypted, compressed other than stored or
  // deflated, declares a size above `limit` or one its compressed data cannot hold, or does not
  // decompress to exactly its declared size and CRC.
  std::string read(const std::string& name, uint64_t limit) const;

 private:
  Archive(::zip* z, uint64_t file_size) : z_(z), file_size_(file_size) {}
  ::zip* z_;
  uint64_t file_size_;
};

}  // namespace kc2cpp::load::zip
