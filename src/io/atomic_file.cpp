#include "loom/io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "loom/core/error.h"

namespace loom::io {
namespace {

void fsync_directory_of(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty())
    dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0)
    LOOM_THROW(IOError, "cannot open directory ", dir.string(), " to sync it: ", std::strerror(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  // Some file systems cannot sync a directory (EINVAL); the rename has happened, so
  // there is nothing better to do than accept their weaker guarantee.
  if (rc != 0 && err != EINVAL) {
    LOOM_THROW(IOError, "cannot sync directory ", dir.string(), " after writing ", path, ": ", std::strerror(err));
  }
}

}  // namespace

void write_all(std::FILE* file, const void* data, size_t size, const std::string& path) {
  if (size == 0)
    return;
  size_t written = std::fwrite(data, 1, size, file);
  if (written != size) {
    LOOM_THROW(IOError, "error writing ", path, ": wrote ", written, " of ", size, " bytes (", std::strerror(errno),
               ")");
  }
}

void write_file_atomically(const std::string& path, const std::function<void(std::FILE*)>& write) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) {
    LOOM_THROW(IOError, "cannot create ", tmp, " to write ", path, ": ", std::strerror(errno));
  }
  // Every failure before the rename ends here: close, delete the temporary, leave `path` alone.
  auto abandon = [&] {
    if (f != nullptr)
      std::fclose(f);
    std::remove(tmp.c_str());
  };
  try {
    write(f);
    if (std::fflush(f) != 0 || std::ferror(f)) {
      LOOM_THROW(IOError, "error writing ", tmp, " (for ", path, "): ", std::strerror(errno));
    }
    if (::fsync(::fileno(f)) != 0) {
      LOOM_THROW(IOError, "cannot sync ", tmp, " (for ", path, ") to disk: ", std::strerror(errno));
    }
    std::FILE* closing = f;
    f = nullptr;
    if (std::fclose(closing) != 0) {
      LOOM_THROW(IOError, "error closing ", tmp, " (for ", path, "): ", std::strerror(errno));
    }
  } catch (const Error&) {
    abandon();
    throw;
  } catch (const std::exception& e) {
    abandon();
    LOOM_THROW(IOError, "writing ", path, " failed: ", e.what(), "; the previous file is unchanged");
  } catch (...) {
    abandon();
    throw;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    LOOM_THROW(IOError, "cannot rename ", tmp, " to ", path, ": ", std::strerror(err));
  }
  fsync_directory_of(path);
}

void write_text_file_atomically(const std::string& path, const std::string& contents) {
  write_file_atomically(path, [&](std::FILE* f) { write_all(f, contents.data(), contents.size(), path); });
}

}  // namespace loom::io
