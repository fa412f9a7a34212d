#include "file_bytes.h"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "loom/core/error.h"

namespace loom::data::detail {
namespace {

constexpr size_t kChunk = size_t{1} << 20;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

File open_or_throw(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    LOOM_THROW(IOError, "cannot open ", path, ": ", std::strerror(errno));
  }
  return File(f);
}

uint64_t file_size(std::FILE* f, const std::string& path) {
  if (std::fseek(f, 0, SEEK_END) != 0)
    LOOM_THROW(IOError, "cannot seek in ", path, ": ", std::strerror(errno));
  long size = std::ftell(f);
  if (size < 0)
    LOOM_THROW(IOError, "cannot tell the size of ", path, ": ", std::strerror(errno));
  std::rewind(f);
  return static_cast<uint64_t>(size);
}

size_t read_some(std::FILE* f, void* dst, size_t n, const std::string& path) {
  size_t got = std::fread(dst, 1, n, f);
  if (got < n && std::ferror(f))
    LOOM_THROW(IOError, "error reading ", path, ": ", std::strerror(errno));
  return got;
}

std::string read_plain(std::FILE* f, uint64_t size, const std::string& path, uint64_t max_bytes) {
  if (size > max_bytes) {
    LOOM_THROW(IOError, path, ": file is ", size, " bytes, more than the limit of ", max_bytes,
               " bytes; this is not a dataset file loom can read");
  }
  std::string out(static_cast<size_t>(size), '\0');
  size_t got = read_some(f, out.data(), out.size(), path);
  if (got != out.size()) {
    LOOM_THROW(IOError, path, ": expected ", size, " bytes, read ", got, "; the file changed while reading");
  }
  return out;
}

// The gzip trailer's ISIZE is the uncompressed size mod 2^32; good as a reservation hint.
uint64_t gzip_size_hint(std::FILE* f, uint64_t size) {
  if (size < 18)
    return 0;
  unsigned char tail[4];
  if (std::fseek(f, static_cast<long>(size - 4), SEEK_SET) != 0)
    return 0;
  uint64_t hint = 0;
  if (std::fread(tail, 1, 4, f) == 4) {
    hint = uint64_t{tail[0]} | uint64_t{tail[1]} << 8 | uint64_t{tail[2]} << 16 | uint64_t{tail[3]} << 24;
  }
  std::rewind(f);
  return hint;
}

struct Inflater {
  z_stream zs{};
  bool live = false;
  ~Inflater() {
    if (live)
      inflateEnd(&zs);
  }
};

std::string read_gzip(std::FILE* f, uint64_t size, const std::string& path, uint64_t max_bytes) {
  std::string out;
  // Deflate cannot expand data more than 1032:1, so a forged trailer cannot make us
  // reserve more than the stream could really produce.
  uint64_t hint = gzip_size_hint(f, size);
  if (hint > 0 && hint <= max_bytes && hint / 1032 <= size)
    out.reserve(static_cast<size_t>(hint));

  Inflater inf;
  // 16 + MAX_WBITS: gzip wrapper only (we dispatched here on the gzip magic).
  if (inflateInit2(&inf.zs, 16 + MAX_WBITS) != Z_OK)
    LOOM_THROW(IOError, path, ": cannot initialise zlib");
  inf.live = true;
  z_stream& zs = inf.zs;

  std::vector<unsigned char> in(kChunk), buf(kChunk);
  uint64_t consumed = 0;  // compressed bytes handed to zlib so far
  bool eof = false;
  zs.avail_in = 0;
  while (true) {
    if (zs.avail_in == 0 && !eof) {
      size_t got = read_some(f, in.data(), in.size(), path);
      eof = got < in.size();
      zs.next_in = in.data();
      zs.avail_in = static_cast<uInt>(got);
      consumed += got;
    }
    zs.next_out = buf.data();
    zs.avail_out = static_cast<uInt>(buf.size());
    int rc = inflate(&zs, Z_NO_FLUSH);
    size_t produced = buf.size() - zs.avail_out;
    if (out.size() + produced > max_bytes) {
      LOOM_THROW(IOError, path, ": decompresses to more than ", max_bytes,
                 " bytes; this is not a dataset file loom can read");
    }
    out.append(reinterpret_cast<const char*>(buf.data()), produced);

    if (rc == Z_STREAM_END) {
      // RFC 1952 allows several members back to back (gzread reads them all); anything
      // else after the stream is garbage we refuse rather than silently ignore.
      if (zs.avail_in == 0 && !eof) {
        size_t got = read_some(f, in.data(), in.size(), path);
        eof = got < in.size();
        zs.next_in = in.data();
        zs.avail_in = static_cast<uInt>(got);
        consumed += got;
      }
      if (zs.avail_in == 0)
        return out;
      if (zs.avail_in >= 2 && zs.next_in[0] == 0x1f && zs.next_in[1] == 0x8b) {
        inflateReset(&zs);
        continue;
      }
      uint64_t trailing = zs.avail_in + (size - consumed);
      LOOM_THROW(IOError, path, ": ", trailing, " bytes of trailing data after the gzip stream (", size - trailing,
                 " bytes); the file is corrupt");
    }
    if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT) {
      LOOM_THROW(IOError, path, ": corrupt gzip stream (zlib: ", zs.msg ? zs.msg : "data error", ") after ", out.size(),
                 " decompressed bytes");
    }
    if (rc == Z_MEM_ERROR)
      LOOM_THROW(IOError, path, ": out of memory while decompressing");
    if (rc == Z_BUF_ERROR) {
      // No progress was possible: fine when zlib just needs more input, fatal at end of file.
      if (eof && zs.avail_in == 0) {
        LOOM_THROW(IOError, path, ": the gzip stream ends early (", size, " compressed bytes gave ", out.size(),
                   " bytes before the data stopped); the file is truncated");
      }
      if (zs.avail_in > 0)
        LOOM_THROW(IOError, path, ": zlib made no progress; the gzip stream is corrupt");
    } else if (rc != Z_OK) {
      LOOM_THROW(IOError, path, ": zlib error ", rc, " while decompressing");
    }
  }
}

}  // namespace

std::string read_file_bytes(const std::string& path, uint64_t max_bytes) {
  File f = open_or_throw(path);
  uint64_t size = file_size(f.get(), path);
  unsigned char magic[2] = {0, 0};
  size_t got = read_some(f.get(), magic, 2, path);
  std::rewind(f.get());
  if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
    return read_gzip(f.get(), size, path, max_bytes);
  return read_plain(f.get(), size, path, max_bytes);
}

}  // namespace loom::data::detail
