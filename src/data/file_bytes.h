#pragma once
// Reads a whole file into memory, transparently inflating gzip (detected by the
// magic bytes 1f 8b, not by the file name). Private to the data layer.
#include <cstdint>
#include <string>

namespace loom::data::detail {

// The file's bytes, decompressed when it is gzip. Throws IOError naming `path`
// when the file cannot be opened or read, when the gzip stream is corrupt or
// truncated, when it is followed by bytes that are not another gzip member, or
// when the (decompressed) contents exceed `max_bytes`, so a malicious or broken
// file cannot make us allocate without bound.
std::string read_file_bytes(const std::string& path, uint64_t max_bytes);

}  // namespace loom::data::detail
