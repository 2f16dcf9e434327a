// Running a variant's ops over the shared inputs, and the binary file format that carries the
// results of cross-compiled variants (run under qemu) back to the host test.
//
// File: "KCRTDUMP", u32 version (2), u32 input count, u32 variant count; per variant: name[32],
// isa[16], u32 lanes, u32 has_fma, u32 op count; per op: name[32], u64 digest of the vf results,
// u64 digest of the float results (digest(): NaNs canonicalised, so any NaN matches any NaN).
// Little endian, as on every target the tests run (x86-64, aarch64).
#ifndef KC2CPP_TESTS_RUNTIME_DUMP_FORMAT_H
#define KC2CPP_TESTS_RUNTIME_DUMP_FORMAT_H

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "rt_inputs.h"
#include "variant_api.h"

namespace kc_rt_test {

// FNV-1a over the 32-bit patterns, every NaN counted as 0x7fc00000.
inline std::uint64_t digest(const std::vector<float>& v) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (float f : v) {
    const std::uint32_t u = f != f ? 0x7fc00000u : u_of(f);
    for (int byte = 0; byte < 4; ++byte) {
      h ^= (u >> (8 * byte)) & 0xffu;
      h *= 0x100000001b3ull;
    }
  }
  return h;
}

struct OpDump {
  std::string name;
  std::vector<float> vec, scalar;  // empty when read from a file
  std::uint64_t vec_digest = 0, scalar_digest = 0;
};

struct VariantDump {
  std::string name, isa;
  std::uint32_t lanes = 0, has_fma = 0;
  std::vector<OpDump> ops;
  const OpDump* find(const std::string& op) const {
    for (const OpDump& o : ops)
      if (o.name == op) return &o;
    return nullptr;
  }
};

inline VariantDump run_variant(const KcVariant& v, const Inputs& in) {
  VariantDump d;
  d.name = v.name;
  d.isa = v.isa;
  d.lanes = static_cast<std::uint32_t>(v.lanes);
  d.has_fma = static_cast<std::uint32_t>(v.has_fma);
  for (std::size_t i = 0; i < v.num_ops; ++i) {
    OpDump o;
    o.name = v.ops[i].name;
    o.vec.resize(in.a.size());
    o.scalar.resize(in.a.size());
    v.ops[i].vec(in.a.data(), in.b.data(), in.c.data(), o.vec.data(), in.a.size());
    v.ops[i].scalar(in.a.data(), in.b.data(), in.c.data(), o.scalar.data(), in.a.size());
    o.vec_digest = digest(o.vec);
    o.scalar_digest = digest(o.scalar);
    d.ops.push_back(std::move(o));
  }
  return d;
}

namespace dump_io {
inline void put_u32(std::FILE* f, std::uint32_t v) { std::fwrite(&v, sizeof v, 1, f); }
inline void put_u64(std::FILE* f, std::uint64_t v) { std::fwrite(&v, sizeof v, 1, f); }
inline void put_str(std::FILE* f, const std::string& s, std::size_t width) {
  std::string padded = s.substr(0, width - 1);
  padded.resize(width, '\0');
  std::fwrite(padded.data(), 1, width, f);
}
inline bool get_u32(std::FILE* f, std::uint32_t& v) { return std::fread(&v, sizeof v, 1, f) == 1; }
inline bool get_u64(std::FILE* f, std::uint64_t& v) { return std::fread(&v, sizeof v, 1, f) == 1; }
inline bool get_str(std::FILE* f, std::string& s, std::size_t width) {
  std::vector<char> buf(width + 1, '\0');
  if (std::fread(buf.data(), 1, width, f) != width) return false;
  s = buf.data();
  return true;
}
}  // namespace dump_io

inline bool write_dumps(const char* path, const std::vector<VariantDump>& dumps) {
  std::FILE* f = std::fopen(path, "wb");
  if (!f) return false;
  std::fwrite("KCRTDUMP", 1, 8, f);
  dump_io::put_u32(f, 2);
  dump_io::put_u32(f, static_cast<std::uint32_t>(kInputCount));
  dump_io::put_u32(f, static_cast<std::uint32_t>(dumps.size()));
  for (const VariantDump& d : dumps) {
    dump_io::put_str(f, d.name, 32);
    dump_io::put_str(f, d.isa, 16);
    dump_io::put_u32(f, d.lanes);
    dump_io::put_u32(f, d.has_fma);
    dump_io::put_u32(f, static_cast<std::uint32_t>(d.ops.size()));
    for (const OpDump& o : d.ops) {
      dump_io::put_str(f, o.name, 32);
      dump_io::put_u64(f, o.vec_digest);
      dump_io::put_u64(f, o.scalar_digest);
    }
  }
  return std::fclose(f) == 0;
}

// Reads a dump written by write_dumps; false on any format error.
inline bool read_dumps(const char* path, std::vector<VariantDump>& dumps) {
  std::FILE* f = std::fopen(path, "rb");
  if (!f) return false;
  char magic[8];
  std::uint32_t version = 0, n = 0, count = 0;
  bool ok = std::fread(magic, 1, 8, f) == 8 && std::memcmp(magic, "KCRTDUMP", 8) == 0 &&
            dump_io::get_u32(f, version) && version == 2 && dump_io::get_u32(f, n) &&
            n == kInputCount && dump_io::get_u32(f, count);
  for (std::uint32_t v = 0; ok && v < count; ++v) {
    VariantDump d;
    std::uint32_t ops = 0;
    ok = dump_io::get_str(f, d.name, 32) && dump_io::get_str(f, d.isa, 16) &&
         dump_io::get_u32(f, d.lanes) && dump_io::get_u32(f, d.has_fma) && dump_io::get_u32(f, ops);
    for (std::uint32_t i = 0; ok && i < ops; ++i) {
      OpDump o;
      ok = dump_io::get_str(f, o.name, 32) && dump_io::get_u64(f, o.vec_digest) &&
           dump_io::get_u64(f, o.scalar_digest);
      d.ops.push_back(std::move(o));
    }
    dumps.push_back(std::move(d));
  }
  std::fclose(f);
  return ok;
}

}  // namespace kc_rt_test

#endif  // KC2CPP_TESTS_RUNTIME_DUMP_FORMAT_H
