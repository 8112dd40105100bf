// set_phase_in_file (declared in phase_edit.h): the file I/O around set_phase_in_text.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "rules/phase_edit.h"

namespace pgshim::rules {
namespace {

std::string errno_text(std::string_view what, const std::filesystem::path& path) {
  return std::string(what) + " " + path.string() + ": " + std::strerror(errno);
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Writes `text` to a hidden temporary file beside `target`, with `mode`, flushed
// to disk, then renames it over `target`, and flushes the directory entry.
bool replace_atomically(const std::filesystem::path& target, std::string_view text, mode_t mode,
                        std::string& error) {
  const std::filesystem::path dir = target.parent_path().empty() ? "." : target.parent_path();
  std::string pattern = (dir / ("." + target.filename().string() + ".pgshim-XXXXXX")).string();
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0) {
    error = errno_text("cannot create a temporary file in", dir);
    return false;
  }
  const std::filesystem::path temp(name.data());
  const bool written = write_all(fd, text) && ::fchmod(fd, mode) == 0 && ::fsync(fd) == 0;
  if (!written) error = errno_text("cannot write", temp);
  if (::close(fd) != 0 && written) error = errno_text("cannot write", temp);
  if (error.empty() && ::rename(temp.c_str(), target.c_str()) != 0) {
    error = errno_text("cannot replace", target);
  }
  if (!error.empty()) {
    ::unlink(temp.c_str());
    return false;
  }
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);  // best effort: the rename is done either way
    ::close(dir_fd);
  }
  return true;
}

}  // namespace

bool set_phase_in_file(const std::filesystem::path& path, Phase phase, std::string& error) {
  error.clear();
  std::filesystem::path target = path;
  std::error_code ec;
  if (std::filesystem::is_symlink(path, ec)) {
    target = std::filesystem::canonical(path, ec);
    if (ec) {
      error = "cannot resolve " + path.string() + ": " + ec.message();
      return false;
    }
  }
  struct stat info {};
  if (::stat(target.c_str(), &info) != 0) {
    error = errno_text("cannot read", target);
    return false;
  }
  std::ifstream in(target, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (!in) {
    error = "cannot read " + target.string();
    return false;
  }
  const std::string text = std::move(buffer).str();
  std::string edit_error;
  const std::string edited = set_phase_in_text(text, phase, edit_error);
  if (!edit_error.empty()) {
    error = target.string() + ": " + edit_error;
    return false;
  }
  if (edited == text) return true;
  return replace_atomically(target, edited, info.st_mode & 07777, error);
}

}  // namespace pgshim::rules
