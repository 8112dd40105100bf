// Property checks shared by the fuzz targets. libFuzzer reports a crash, a
// sanitizer finding, a leak or a timeout by itself; a violated property of
// pgshim's own contract is turned into one by abort(), after saying which
// property failed, so that libFuzzer saves the input that broke it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

namespace pgshim::fuzz {

[[noreturn]] inline void fail(std::string_view property, std::string_view detail = {}) {
  std::fprintf(stderr, "\npgshim fuzz: property violated: %.*s\n", static_cast<int>(property.size()),
               property.data());
  if (!detail.empty()) {
    std::fprintf(stderr, "%.*s\n", static_cast<int>(detail.size()), detail.data());
  }
  std::abort();
}

inline void require(bool holds, std::string_view property, std::string_view detail = {}) {
  if (!holds) fail(property, detail);
}

// A heap copy of exactly `bytes.size()` bytes. libFuzzer's own buffer is exact,
// but a view of part of it (one frame's body) is followed by the rest of the
// input; a copy lets AddressSanitizer catch a decoder that reads past its part.
class ExactCopy {
 public:
  explicit ExactCopy(std::string_view bytes)
      : data_(std::make_unique<char[]>(bytes.size())), size_(bytes.size()) {
    if (size_ != 0) std::memcpy(data_.get(), bytes.data(), size_);
  }
  [[nodiscard]] std::string_view view() const { return {data_.get(), size_}; }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_;
};

[[nodiscard]] inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The body of LLVMFuzzerTestOneInput for targets whose input starts with a
// mode byte: `fuzz(mode, rest)`, nothing for an empty input.
template <class Fuzz>
int run_with_mode(const std::uint8_t* data, std::size_t size, Fuzz fuzz) {
  if (size != 0) fuzz(data[0], as_text(data + 1, size - 1));
  return 0;
}

}  // namespace pgshim::fuzz
