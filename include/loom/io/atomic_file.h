#pragma once
// Crash-safe file replacement, used for every file loom writes (checkpoints,
// safetensors, metrics).
//
// NOTE [Atomic writes]
// The new contents go to "<path>.tmp.<pid>" in the same directory, which is
// flushed and fsync'ed, then renamed over `path` (rename is atomic within a file
// system), and finally the directory is fsync'ed so the rename itself survives a
// power cut. A reader therefore sees the old file or the complete new one, never
// a torn mix. On any failure the temporary file is removed, `path` is untouched,
// and an IOError (or the writer's own loom::Error) propagates.
#include <cstddef>
#include <cstdio>
#include <functional>
#include <string>

namespace loom::io {

// Calls `write` with a stream open on the temporary file, then commits it as above.
// An exception from `write` aborts the write and propagates: a loom::Error as is,
// any other std::exception as an IOError naming `path`.
void write_file_atomically(const std::string& path, const std::function<void(std::FILE*)>& write);

// write_file_atomically for contents already in memory.
void write_text_file_atomically(const std::string& path, const std::string& contents);

// fwrite that throws IOError naming `path` when not every byte is written.
void write_all(std::FILE* file, const void* data, size_t size, const std::string& path);

}  // namespace loom::io
