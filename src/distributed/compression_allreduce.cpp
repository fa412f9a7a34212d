// How compressed payloads are exchanged to sum a tensor over the ranks.
#include <algorithm>
#include <cstring>

#include "compression_codecs.h"
#include "loom/core/error.h"

namespace loom::distributed {
namespace detail {
namespace {

constexpr int kCompressedRingTag = Communicator::kInternalTagBase + 1;

std::vector<int64_t> even_offsets(int p, int64_t count) {
  std::vector<int64_t> off(static_cast<size_t>(p) + 1, 0);
  for (int b = 0; b < p; ++b)
    off[b + 1] = off[b] + count / p + (b < count % p ? 1 : 0);
  return off;
}

CompressionReport finish(Compressor& codec, CompressionReport& total, Communicator& comm, uint64_t before,
                         int64_t count) {
  CompressionReport rep;
  rep.bytes_sent = comm.bytes_sent() - before;
  rep.raw_bytes = ring_bytes(comm.size(), count);
  total.bytes_sent += rep.bytes_sent;
  total.raw_bytes += rep.raw_bytes;
  return rep;
}

}  // namespace

// NOTE [Compressed allreduce]
// Dense codecs (fp16, qsgd) have payloads whose size follows from the number of values,
// so they ride a ring: in the reduce-scatter each hop sends the encoding of its partial
// sum and the receiver decodes and adds (p-1 encodings per value, so quantisation noise
// grows like sqrt(p) but stays unbiased); then every owner encodes its finished block
// once and an allgather hands those encodings to everyone, and every rank (the owner
// too) decodes them, so all ranks hold the same bits. Bytes per rank: 2 (p-1)/p of the
// encoded size, i.e. 1/2 (fp16) or about 1/4 (qsgd) of a plain ring.
// Top-k payloads differ per rank (different indices), so they cannot be summed on the
// way; each rank allgathers every rank's (index, value) pairs and sums them in rank
// order: (p-1) k 8 bytes per rank, a win while k is well under n / (4 p).
CompressionReport DenseCompressor::allreduce(Communicator& comm, float* data, int64_t count, int) {
  LOOM_CHECK(count >= 0, "compressed allreduce: count must be >= 0, got ", count);
  const int p = comm.size(), r = comm.rank();
  set_rank(r);
  const uint64_t before = comm.bytes_sent();
  const std::vector<int64_t> off = even_offsets(p, count);
  auto len = [&](int b) { return off[b + 1] - off[b]; };
  auto mod = [p](int x) { return ((x % p) + p) % p; };
  std::vector<uint8_t> sbuf, rbuf;
  for (int s = 0; s + 1 < p; ++s) {
    const int sb = mod(r - s - 1), rb = mod(r - s - 2);
    encode(data + off[sb], len(sb), sbuf);
    rbuf.resize(encoded_bytes(len(rb)));
    comm.sendrecv(sbuf.data(), sbuf.size(), (r + 1) % p, rbuf.data(), rbuf.size(), (r + p - 1) % p, kCompressedRingTag);
    decode_add(rbuf.data(), rbuf.size(), data + off[rb], len(rb));
  }
  encode(data + off[r], len(r), sbuf);
  std::vector<int64_t> counts(static_cast<size_t>(p)), goff(static_cast<size_t>(p) + 1, 0);
  for (int b = 0; b < p; ++b) {
    counts[b] = static_cast<int64_t>(encoded_bytes(len(b)));
    goff[b + 1] = goff[b] + counts[b];
  }
  std::vector<uint8_t> gathered(static_cast<size_t>(goff[p]));
  if (p > 1)
    comm.allgather(sbuf.data(), gathered.data(), counts, DType::u8);
  else
    gathered = sbuf;
  std::fill(data, data + count, 0.0f);
  for (int b = 0; b < p; ++b)
    decode_add(gathered.data() + goff[b], static_cast<size_t>(counts[b]), data + off[b], len(b));
  return finish(*this, total_, comm, before, count);
}

CompressionReport TopkCompressor::allreduce(Communicator& comm, float* data, int64_t count, int key) {
  LOOM_CHECK(count >= 0, "compressed allreduce: count must be >= 0, got ", count);
  const int p = comm.size();
  const uint64_t before = comm.bytes_sent();
  std::vector<float>* residual = nullptr;
  if (error_feedback_) {
    residual = &residuals_[key];
    if (residual->empty())
      residual->assign(static_cast<size_t>(count), 0.0f);
    LOOM_CHECK(static_cast<int64_t>(residual->size()) == count, "topk: tensor key ", key, " had ", residual->size(),
               " values before and has ", count, " now; give each tensor its own key");
    for (int64_t i = 0; i < count; ++i)
      data[i] += (*residual)[i];
  }
  std::vector<uint8_t> payload;
  encode(data, count, payload);
  if (residual) {  // what was not sent waits for the next step
    if (count > 0)
      std::memcpy(residual->data(), data, static_cast<size_t>(count) * 4);
    uint32_t k;
    std::memcpy(&k, payload.data(), 4);
    const uint32_t* idx = reinterpret_cast<const uint32_t*>(payload.data() + 4);
    for (uint32_t j = 0; j < k; ++j)
      (*residual)[idx[j]] = 0.0f;
  }
  std::vector<int64_t> sizes(static_cast<size_t>(p)), ones(static_cast<size_t>(p), 1);
  const int64_t mine = static_cast<int64_t>(payload.size());
  std::vector<uint8_t> gathered;
  if (p > 1) {
    comm.allgather(&mine, sizes.data(), ones, DType::i64);
    int64_t total = 0;
    for (int64_t s : sizes)
      total += s;
    gathered.resize(static_cast<size_t>(total));
    comm.allgather(payload.data(), gathered.data(), sizes, DType::u8);
  } else {
    sizes[0] = mine;
    gathered = std::move(payload);
  }
  std::fill(data, data + count, 0.0f);
  size_t at = 0;
  for (int b = 0; b < p; ++b) {
    decode_add(gathered.data() + at, static_cast<size_t>(sizes[b]), data, count);
    at += static_cast<size_t>(sizes[b]);
  }
  return finish(*this, total_, comm, before, count);
}

}  // namespace detail

CompressionReport compressed_allreduce(Communicator& comm, float* data, int64_t count, Compressor& codec, int key) {
  return codec.allreduce(comm, data, count, key);
}

}  // namespace loom::distributed
