#include "loom/io/safetensors.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "loom/core/error.h"
#include "loom/io/atomic_file.h"

namespace loom::io {
namespace {

// The format is little-endian and we copy tensor bytes as they are in memory.
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

constexpr const char* kMetadataKey = "__metadata__";
// The reference implementation refuses headers over 100 MB; so do we, before allocating one.
constexpr uint64_t kMaxHeaderBytes = uint64_t{100} << 20;

constexpr std::array<std::pair<DType, const char*>, 8> kDTypeNames = {{
    {DType::f32, "F32"},
    {DType::f64, "F64"},
    {DType::i64, "I64"},
    {DType::i32, "I32"},
    {DType::i8, "I8"},
    {DType::u8, "U8"},
    {DType::bf16, "BF16"},
    {DType::f16, "F16"},
}};

bool dtype_from_safetensors(const std::string& name, DType* out) {
  for (const auto& [dtype, n] : kDTypeNames) {
    if (name == n) {
      *out = dtype;
      return true;
    }
  }
  return false;
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

// One validated header entry.
struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin, end;
};

struct Header {
  std::vector<Entry> entries;  // sorted by data offset
  std::map<std::string, std::string> metadata;
  uint64_t data_start = 0;  // file offset of the data buffer
};

uint64_t get_u64(const Json& v, const std::string& path, const std::string& what) {
  if (!v.is_number_unsigned()) {
    LOOM_THROW(IOError, path, ": ", what, " must be a non-negative integer, found ", v.dump());
  }
  return v.get<uint64_t>();
}

Entry parse_entry(const std::string& name, const Json& v, uint64_t buffer_size, const std::string& path) {
  const std::string where = "tensor '" + name + "'";
  if (!v.is_object())
    LOOM_THROW(IOError, path, ": ", where, " must be a JSON object, found ", v.dump());
  for (const char* field : {"dtype", "shape", "data_offsets"}) {
    if (!v.contains(field))
      LOOM_THROW(IOError, path, ": ", where, " has no \"", field, "\" field");
  }
  Entry e;
  e.name = name;
  const Json& dtype = v["dtype"];
  if (!dtype.is_string() || !dtype_from_safetensors(dtype.get<std::string>(), &e.dtype)) {
    LOOM_THROW(IOError, path, ": ", where, " has dtype ", dtype.dump(),
               ", which loom does not support; expected one of F32, F64, I64, I32, I8, U8, BF16, F16");
  }
  const Json& shape = v["shape"];
  if (!shape.is_array())
    LOOM_THROW(IOError, path, ": ", where, " has shape ", shape.dump(), ", expected an array");
  // Bound the element count by the buffer while multiplying, so nothing overflows.
  uint64_t numel = 1;
  bool empty = false, too_big = false;
  for (const Json& d : shape) {
    const uint64_t dim = get_u64(d, path, where + " shape entry");
    if (dim == 0) {
      empty = true;
    } else if (!too_big && numel > buffer_size / dim) {
      too_big = true;
    } else if (!too_big) {
      numel *= dim;
    }
    e.shape.push_back(static_cast<int64_t>(std::min<uint64_t>(dim, INT64_MAX)));
  }
  if (empty)
    numel = 0, too_big = false;
  const Json& offsets = v["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2) {
    LOOM_THROW(IOError, path, ": ", where, " has data_offsets ", offsets.dump(), ", expected [begin, end]");
  }
  e.begin = get_u64(offsets[0], path, where + " data_offsets[0]");
  e.end = get_u64(offsets[1], path, where + " data_offsets[1]");
  if (e.begin > e.end || e.end > buffer_size) {
    LOOM_THROW(IOError, path, ": ", where, " has data_offsets [", e.begin, ", ", e.end, "], out of range for the ",
               buffer_size, "-byte data buffer; the file is truncated or corrupt");
  }
  const uint64_t span = e.end - e.begin;
  if (too_big || numel * dtype_size(e.dtype) != span) {
    LOOM_THROW(IOError, path, ": ", where, " is ", safetensors_dtype_name(e.dtype), " ", shape_str(e.shape), " (",
               too_big ? std::string("more than the file's") : std::to_string(numel * dtype_size(e.dtype)),
               " bytes) but its data_offsets [", e.begin, ", ", e.end, "] span ", span, " bytes");
  }
  return e;
}

std::map<std::string, std::string> parse_metadata(const Json& v, const std::string& path) {
  if (!v.is_object())
    LOOM_THROW(IOError, path, ": \"__metadata__\" must be an object, found ", v.dump());
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : v.items()) {
    if (!value.is_string()) {
      LOOM_THROW(IOError, path, ": __metadata__ value for '", key, "' must be a string, found ", value.dump());
    }
    out[key] = value.get<std::string>();
  }
  return out;
}

// Reads and validates the header; leaves the data unread.
Header read_header(std::FILE* f, const std::string& path) {
  if (std::fseek(f, 0, SEEK_END) != 0)
    LOOM_THROW(IOError, "cannot seek in ", path, ": ", std::strerror(errno));
  const off_t file_size_signed = ::ftello(f);
  if (file_size_signed < 0)
    LOOM_THROW(IOError, "cannot tell the size of ", path, ": ", std::strerror(errno));
  const auto file_size = static_cast<uint64_t>(file_size_signed);
  std::rewind(f);
  if (file_size < 8) {
    LOOM_THROW(IOError, path, ": file is ", file_size,
               " bytes, too short for a safetensors file (the header length alone is 8 bytes)");
  }
  unsigned char len_bytes[8];
  if (std::fread(len_bytes, 1, 8, f) != 8)
    LOOM_THROW(IOError, "error reading ", path, ": ", std::strerror(errno));
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i)
    header_len = header_len << 8 | len_bytes[i];
  if (header_len > file_size - 8) {
    LOOM_THROW(IOError, path, ": header length is ", header_len, " bytes but only ", file_size - 8,
               " bytes follow it; the file is truncated or not safetensors");
  }
  if (header_len > kMaxHeaderBytes) {
    LOOM_THROW(IOError, path, ": header length ", header_len, " exceeds the ", kMaxHeaderBytes, "-byte limit");
  }
  std::string text(static_cast<size_t>(header_len), '\0');
  if (std::fread(text.data(), 1, text.size(), f) != text.size()) {
    LOOM_THROW(IOError, "error reading the header of ", path, ": ", std::strerror(errno));
  }
  if (text.empty() || text[0] != '{') {
    LOOM_THROW(IOError, path, ": header must be a JSON object starting with '{', found ",
               text.empty() ? std::string("nothing") : "'" + text.substr(0, 16) + "'");
  }

  // nlohmann keeps the last of duplicate keys; a callback spots them at the top level.
  std::string duplicate;
  std::set<std::string> seen;
  Json::parser_callback_t on_event = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::key && depth == 1 && !seen.insert(parsed.get<std::string>()).second) {
      if (duplicate.empty())
        duplicate = parsed.get<std::string>();
    }
    return true;
  };
  Json header;
  try {
    header = Json::parse(text, on_event);
  } catch (const Json::exception& e) {  // parse_error, or out_of_range for a number too large (found by fuzzing)
    LOOM_THROW(IOError, path, ": header is not valid JSON: ", e.what());
  }
  if (!duplicate.empty())
    LOOM_THROW(IOError, path, ": tensor '", duplicate, "' appears twice in the header");
  if (!header.is_object())
    LOOM_THROW(IOError, path, ": header must be a JSON object");

  Header out;
  out.data_start = 8 + header_len;
  const uint64_t buffer_size = file_size - out.data_start;
  for (const auto& [name, value] : header.items()) {
    if (name == kMetadataKey) {
      out.metadata = parse_metadata(value, path);
    } else {
      out.entries.push_back(parse_entry(name, value, buffer_size, path));
    }
  }
  std::sort(out.entries.begin(), out.entries.end(),
            [](const Entry& a, const Entry& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  // The spec (and the reference reader) wants the tensors to tile the buffer exactly.
  uint64_t pos = 0;
  const Entry* prev = nullptr;
  for (const Entry& e : out.entries) {
    if (e.begin < pos) {
      LOOM_THROW(IOError, path, ": tensors '", prev->name, "' [", prev->begin, ", ", prev->end, "] and '", e.name,
                 "' [", e.begin, ", ", e.end, "] overlap in the data buffer");
    }
    if (e.begin > pos) {
      LOOM_THROW(IOError, path, ": bytes [", pos, ", ", e.begin, ") of the data buffer belong to no tensor",
                 " (before '", e.name, "'); the header is corrupt");
    }
    pos = e.end;
    prev = &e;
  }
  if (pos != buffer_size) {
    LOOM_THROW(IOError, path, ": the tensors cover ", pos, " bytes but the data buffer has ", buffer_size,
               "; the file has trailing bytes or the header is corrupt");
  }
  return out;
}

File open_for_reading(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr)
    LOOM_THROW(IOError, "cannot open ", path, ": ", std::strerror(errno));
  return File(f);
}

}  // namespace

const char* safetensors_dtype_name(DType dtype) {
  for (const auto& [d, name] : kDTypeNames)
    if (d == dtype)
      return name;
  LOOM_THROW(ValueError, "dtype ", dtype_name(dtype), " has no safetensors name");
}

void save_safetensors(const std::string& path, const nn::NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata) {
  OrderedJson header = OrderedJson::object();
  if (!metadata.empty()) {
    OrderedJson meta = OrderedJson::object();
    for (const auto& [key, value] : metadata)
      meta[key] = value;
    header[kMetadataKey] = std::move(meta);
  }
  std::vector<Tensor> contiguous;
  contiguous.reserve(tensors.size());
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    LOOM_CHECK(!name.empty(), "save_safetensors(", path, "): a tensor has an empty name");
    LOOM_CHECK(name != kMetadataKey, "save_safetensors(", path, "): '", kMetadataKey, "' is reserved");
    LOOM_CHECK(names.insert(name).second, "save_safetensors(", path, "): tensor '", name, "' is given twice");
    LOOM_CHECK(tensor.defined(), "save_safetensors(", path, "): tensor '", name, "' is undefined");
    LOOM_CHECK(tensor.device().is_cpu(), "save_safetensors(", path, "): tensor '", name, "' is not on the CPU");
    Tensor c = tensor.contiguous();
    const uint64_t nbytes = c.nbytes();
    header[name] = {{"dtype", safetensors_dtype_name(c.dtype())},
                    {"shape", c.shape()},
                    {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
    contiguous.push_back(std::move(c));
  }
  std::string text = header.dump();
  // Pad with spaces so the data buffer starts 8-byte aligned, as the spec asks.
  text.append((8 - text.size() % 8) % 8, ' ');
  unsigned char len_bytes[8];
  for (int i = 0; i < 8; ++i)
    len_bytes[i] = static_cast<unsigned char>(static_cast<uint64_t>(text.size()) >> (8 * i));

  write_file_atomically(path, [&](std::FILE* f) {
    write_all(f, len_bytes, 8, path);
    write_all(f, text.data(), text.size(), path);
    for (const Tensor& t : contiguous)
      write_all(f, t.raw_data(), t.nbytes(), path);
  });
}

nn::NamedTensors load_safetensors(const std::string& path, std::map<std::string, std::string>* metadata) {
  File f = open_for_reading(path);
  Header header = read_header(f.get(), path);
  // Offsets are validated against the file size, so these allocations are bounded by it.
  nn::NamedTensors out;
  out.reserve(header.entries.size());
  if (::fseeko(f.get(), static_cast<off_t>(header.data_start), SEEK_SET) != 0) {
    LOOM_THROW(IOError, "cannot seek in ", path, ": ", std::strerror(errno));
  }
  for (const Entry& e : header.entries) {
    Tensor t = Tensor::empty(e.shape, e.dtype);
    const size_t n = static_cast<size_t>(e.end - e.begin);
    // Entries tile the buffer in order, so reading sequentially lands on each one.
    if (n > 0 && std::fread(t.raw_data(), 1, n, f.get()) != n) {
      LOOM_THROW(IOError, path, ": cannot read the ", n, " bytes of tensor '", e.name,
                 "'; the file changed while reading or is unreadable");
    }
    out.emplace_back(e.name, std::move(t));
  }
  if (metadata != nullptr)
    *metadata = std::move(header.metadata);
  return out;
}

std::map<std::string, std::string> read_safetensors_metadata(const std::string& path) {
  File f = open_for_reading(path);
  return read_header(f.get(), path).metadata;
}

}  // namespace loom::io
