// A byte buffer for one direction of a session: bytes are read into the free
// tail, scanned for frames in place, forwarded from the front, and the unread
// remainder is moved to the front. Capacity stays at its default for streamed
// traffic and grows only for a message the proxy must hold whole (bounded by the
// caller), then shrinks back once empty, so memory per connection stays bounded.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

#include <boost/asio/buffer.hpp>

namespace pgshim::proxy {

class FrameBuffer {
 public:
  explicit FrameBuffer(std::size_t default_capacity)
      : default_capacity_(default_capacity), capacity_(default_capacity),
        data_(new char[default_capacity]) {}

  // The unconsumed bytes.
  [[nodiscard]] std::string_view data() const { return {data_.get() + begin_, end_ - begin_}; }
  [[nodiscard]] std::size_t size() const { return end_ - begin_; }
  [[nodiscard]] std::size_t capacity() const { return capacity_; }

  // Space to read into; makes room first (compacting, then growing to hold
  // `want` unconsumed bytes when asked).
  boost::asio::mutable_buffer prepare(std::size_t want = 0) {
    if (want > capacity_) grow(want);
    if (end_ == capacity_ && begin_ > 0) compact();
    return {data_.get() + end_, capacity_ - end_};
  }
  void commit(std::size_t n) { end_ += n; }

  void consume(std::size_t n) {
    begin_ += n;
    if (begin_ == end_) {
      begin_ = end_ = 0;
      if (capacity_ > default_capacity_) shrink();
    }
  }

 private:
  void compact() {
    std::memmove(data_.get(), data_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  void grow(std::size_t want) {
    std::unique_ptr<char[]> bigger(new char[want]);
    std::memcpy(bigger.get(), data_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    data_ = std::move(bigger);
    capacity_ = want;
  }
  void shrink() {
    data_.reset(new char[default_capacity_]);
    capacity_ = default_capacity_;
  }

  std::size_t default_capacity_;
  std::size_t capacity_;
  std::unique_ptr<char[]> data_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace pgshim::proxy
