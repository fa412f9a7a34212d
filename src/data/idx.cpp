#include "loom/data/idx.h"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iomanip>
#include <sstream>

#include "file_bytes.h"
#include "loom/core/error.h"

namespace loom::data {
namespace {

struct IdxType {
  uint8_t code;
  const char* name;
  size_t size;  // bytes per element in the file
  DType dtype;  // what it is loaded as
};
constexpr std::array<IdxType, 6> kIdxTypes = {{
    {0x08, "ubyte", 1, DType::u8},
    {0x09, "byte", 1, DType::i8},
    {0x0B, "short", 2, DType::i32},
    {0x0C, "int", 4, DType::i32},
    {0x0D, "float", 4, DType::f32},
    {0x0E, "double", 8, DType::f64},
}};
// MNIST has 3 dimensions; anything past this is not an IDX file we should trust.
constexpr size_t kMaxIdxDims = 16;

const IdxType* find_type(uint8_t code) {
  for (const IdxType& t : kIdxTypes)
    if (t.code == code)
      return &t;
  return nullptr;
}

std::string hex_bytes(const unsigned char* p, size_t n) {
  std::ostringstream os;
  for (size_t i = 0; i < n; ++i) {
    os << (i ? " " : "") << std::hex << std::setw(2) << std::setfill('0') << static_cast<int>(p[i]);
  }
  return os.str();
}

uint32_t load_be32(const unsigned char* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}

// Converts n big-endian elements of `type` at `src` into the tensor's native layout.
void decode(const unsigned char* src, int64_t n, const IdxType& type, void* dst) {
  switch (type.code) {
    case 0x08:
    case 0x09:
      std::memcpy(dst, src, static_cast<size_t>(n));
      return;
    case 0x0B: {
      auto* out = static_cast<int32_t*>(dst);
      for (int64_t i = 0; i < n; ++i) {
        out[i] = static_cast<int16_t>(static_cast<uint16_t>(src[2 * i] << 8 | src[2 * i + 1]));
      }
      return;
    }
    case 0x0C:
    case 0x0D: {
      auto* out = static_cast<uint32_t*>(dst);
      for (int64_t i = 0; i < n; ++i)
        out[i] = load_be32(src + 4 * i);
      return;
    }
    case 0x0E: {
      auto* out = static_cast<uint64_t*>(dst);
      for (int64_t i = 0; i < n; ++i) {
        out[i] = uint64_t{load_be32(src + 8 * i)} << 32 | load_be32(src + 8 * i + 4);
      }
      return;
    }
    default:
      LOOM_ASSERT(false);
  }
}

}  // namespace

Tensor read_idx(const std::string& path, const std::string& contents) {
  const std::string bytes = detail::read_file_bytes(path, kMaxIdxBytes);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t size = bytes.size();

  if (size < 4) {
    LOOM_THROW(IOError, path, ": file is ", size, " bytes, too short for an IDX header (at least 4); ",
               "the file is truncated or not an IDX file");
  }
  if (p[0] != 0 || p[1] != 0) {
    LOOM_THROW(IOError, path, ": bad magic: expected 00 00 <type> <ndims>, found ", hex_bytes(p, 4),
               "; this is not an IDX file");
  }
  const IdxType* type = find_type(p[2]);
  if (type == nullptr) {
    LOOM_THROW(IOError, path, ": unsupported IDX element type 0x", hex_bytes(p + 2, 1),
               "; expected 08 (ubyte), 09 (byte), 0b (short), 0c (int), 0d (float) or 0e (double)");
  }
  const size_t ndims = p[3];
  if (ndims == 0 || ndims > kMaxIdxDims) {
    LOOM_THROW(IOError, path, ": IDX header has ", ndims, " dimensions, expected 1 to ", kMaxIdxDims);
  }
  const size_t header = 4 + 4 * ndims;
  if (size < header) {
    LOOM_THROW(IOError, path, ": expected a ", header, "-byte header for ", ndims, " dimensions, found ", size,
               " bytes; the file is truncated");
  }

  // Bound the element count by kMaxIdxBytes while multiplying, so a forged header
  // can neither overflow nor make us allocate.
  Shape shape(ndims);
  uint64_t numel = 1;
  for (size_t d = 0; d < ndims; ++d) {
    uint32_t dim = load_be32(p + 4 + 4 * d);
    if (dim == 0)
      LOOM_THROW(IOError, path, ": IDX dimension ", d, " is 0; an IDX file cannot be empty");
    if (numel > kMaxIdxBytes / type->size / dim) {
      LOOM_THROW(IOError, path, ": IDX header describes more than ", kMaxIdxBytes, " bytes of data (dimension ", d,
                 " is ", dim, "); the header is corrupt");
    }
    numel *= dim;
    shape[d] = dim;
  }

  const uint64_t expected = numel * type->size;
  const uint64_t found = size - header;
  if (found < expected) {
    LOOM_THROW(IOError, path, ": expected ", expected, " bytes of ", contents, ", found ", found,
               "; the file is truncated (its header gives shape ", shape_str(shape), ", ", type->name, ")");
  }
  if (found > expected) {
    LOOM_THROW(IOError, path, ": ", found - expected, " bytes of trailing data after the ", expected, " bytes of ",
               contents, " that the header (shape ", shape_str(shape), ", ", type->name,
               ") describes; the file is corrupt");
  }

  Tensor out = Tensor::empty(shape, type->dtype);
  decode(p + header, static_cast<int64_t>(numel), *type, out.raw_data());
  return out;
}

void write_idx(const std::string& path, const Tensor& tensor) {
  uint8_t code = 0;
  switch (tensor.dtype()) {
    case DType::u8:
      code = 0x08;
      break;
    case DType::i8:
      code = 0x09;
      break;
    case DType::i32:
      code = 0x0C;
      break;
    case DType::f32:
      code = 0x0D;
      break;
    case DType::f64:
      code = 0x0E;
      break;
    default:
      LOOM_THROW(ValueError, "write_idx: dtype ", dtype_name(tensor.dtype()),
                 " has no IDX type; use u8, i8, i32, f32 or f64");
  }
  LOOM_CHECK(tensor.dim() >= 1 && static_cast<size_t>(tensor.dim()) <= kMaxIdxDims, "write_idx: IDX needs 1 to ",
             kMaxIdxDims, " dimensions, got shape ", shape_str(tensor.shape()));
  const IdxType& type = *find_type(code);
  std::string bytes = {0, 0, static_cast<char>(code), static_cast<char>(tensor.dim())};
  for (int64_t d : tensor.shape()) {
    LOOM_CHECK(d > 0 && d <= int64_t{UINT32_MAX}, "write_idx: dimension ", d, " does not fit IDX");
    for (int shift = 24; shift >= 0; shift -= 8)
      bytes.push_back(static_cast<char>((d >> shift) & 0xff));
  }
  Tensor c = tensor.contiguous();
  const auto* src = static_cast<const unsigned char*>(c.raw_data());
  for (int64_t i = 0; i < c.numel(); ++i) {
    // Host is little-endian (safetensors relies on that too); IDX is big-endian.
    for (size_t b = type.size; b-- > 0;)
      bytes.push_back(static_cast<char>(src[i * type.size + b]));
  }
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr)
    LOOM_THROW(IOError, "cannot open ", path, " for writing: ", std::strerror(errno));
  size_t written = std::fwrite(bytes.data(), 1, bytes.size(), f);
  int close_rc = std::fclose(f);
  if (written != bytes.size() || close_rc != 0) {
    LOOM_THROW(IOError, "error writing ", path, ": wrote ", written, " of ", bytes.size(), " bytes");
  }
}

}  // namespace loom::data
