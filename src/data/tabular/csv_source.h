#pragma once
// The bytes of a CSV file. Private to the data layer.
#include <cstdint>
#include <string>
#include <string_view>

namespace loom::data::csv {

// A large plain file is memory-mapped: reading 200 MB into a fresh buffer costs
// about as much as parsing it on one thread (page faults, zeroing, the copy), while
// a mapping lets the parsing threads fault the page cache in as they go. Small
// files and gzip files are read (and inflated) into memory instead.
//
// Like every mmap-based reader (data.table's fread, ...), a mapped file that another
// process truncates while it is being parsed ends the process with SIGBUS.
class FileText {
 public:
  FileText(const std::string& path, uint64_t max_bytes);
  ~FileText();
  FileText(const FileText&) = delete;
  FileText& operator=(const FileText&) = delete;

  std::string_view view() const { return map_ != nullptr ? std::string_view(map_, size_) : std::string_view(owned_); }
  bool mapped() const { return map_ != nullptr; }

 private:
  const char* map_ = nullptr;
  size_t size_ = 0;
  std::string owned_;
};

// Throws IOError naming `source` when `text` is not 8-bit text: it starts with a
// UTF-16 or UTF-32 byte-order mark, or holds a NUL byte (a binary file, or UTF-16
// without a mark), which the scanner would otherwise take as one long label column.
// A UTF-8 mark is fine; the reader skips it.
void check_text_encoding(std::string_view text, const std::string& source);

}  // namespace loom::data::csv
