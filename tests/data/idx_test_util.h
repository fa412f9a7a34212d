#pragma once
// Helpers for building IDX files (plain and gzip) in the data tests.
#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

namespace loom::testing {

// Header bytes: 00 00 type ndims, then big-endian u32 dims.
inline std::string idx_header(uint8_t type, const std::vector<uint32_t>& dims) {
  std::string h = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8)
      h.push_back(static_cast<char>((d >> s) & 0xff));
  }
  return h;
}

// A ubyte IDX file's bytes with elements 0, 1, 2, ... (mod 256).
inline std::string idx_ubyte(const std::vector<uint32_t>& dims) {
  std::string bytes = idx_header(0x08, dims);
  uint64_t n = 1;
  for (uint32_t d : dims)
    n *= d;
  for (uint64_t i = 0; i < n; ++i)
    bytes.push_back(static_cast<char>(i % 256));
  return bytes;
}

// gzip-compresses `bytes` (one member) with zlib's deflate.
inline std::string gzip_bytes(const std::string& bytes) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, bytes.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace loom::testing
