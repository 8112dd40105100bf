// What one pass of a pump sends: runs of the bytes it read, forwarded in place,
// interleaved with messages the proxy wrote itself (a rewritten Query, a
// substituted ErrorResponse). Adjacent runs merge, so plain pass-through is one
// buffer and one write.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include <boost/asio/buffer.hpp>

namespace pgshim::proxy {

class Output {
 public:
  void pass(const char* data, std::size_t size) {
    if (run_size_ > 0 && run_ + run_size_ == data) {
      run_size_ += size;
      return;
    }
    flush_run();
    run_ = data;
    run_size_ = size;
  }
  void add(std::string message) {
    flush_run();
    owned_.push_back(std::move(message));  // a deque never moves its elements
    pieces_.emplace_back(owned_.back().data(), owned_.back().size());
  }
  // The buffers to write; valid until clear().
  const std::vector<boost::asio::const_buffer>& buffers() {
    flush_run();
    return pieces_;
  }
  [[nodiscard]] bool empty() const { return pieces_.empty() && run_size_ == 0; }
  void clear() {
    pieces_.clear();
    if (!owned_.empty()) owned_.clear();  // most passes own nothing: skip the deque's walk
    run_size_ = 0;
  }

 private:
  void flush_run() {
    if (run_size_ > 0) pieces_.emplace_back(run_, run_size_);
    run_size_ = 0;
  }
  std::vector<boost::asio::const_buffer> pieces_;
  std::deque<std::string> owned_;
  const char* run_ = nullptr;
  std::size_t run_size_ = 0;
};

}  // namespace pgshim::proxy
