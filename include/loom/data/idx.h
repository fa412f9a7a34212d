#pragma once
// The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/):
// two zero bytes, an element-type byte, a dimension count, the dimensions as
// big-endian u32, then the elements big-endian in row-major order.
#include <cstdint>
#include <string>

#include "loom/core/tensor.h"

namespace loom::data {

// Upper bound on an IDX file's (decompressed) size: a header describing more is
// rejected before anything is allocated, and a gzip stream inflating past it is
// stopped there. Fashion-MNIST's largest file is 47 MB, EMNIST's 550 MB.
inline constexpr uint64_t kMaxIdxBytes = uint64_t{1} << 30;

// Reads an IDX file, plain or gzip-compressed (recognised by its magic bytes, not
// its name). Element types map to dtypes: 0x08 ubyte -> u8, 0x09 byte -> i8,
// 0x0B short -> i32 (loom has no i16), 0x0C int -> i32, 0x0D float -> f32,
// 0x0E double -> f64. The tensor's shape is the header's dimensions.
//
// Every malformed input throws IOError naming the file and the problem: missing
// file, bad magic, unknown type, zero or absurd dimensions, truncated data,
// trailing bytes, a corrupt gzip stream. `contents` names the data in messages
// ("image data" gives "expected 47040000 bytes of image data, found 1234").
Tensor read_idx(const std::string& path, const std::string& contents = "data");

// Writes `tensor` as an uncompressed IDX file (u8, i8, i32, f32 or f64); used by
// tests and tools that make small datasets.
void write_idx(const std::string& path, const Tensor& tensor);

}  // namespace loom::data
