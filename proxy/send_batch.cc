#include "proxy/send_batch.h"

#include <liburing.h>

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <utility>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace pgshim::proxy {

namespace {

constexpr unsigned kRingEntries = 256;

}  // namespace

std::unique_ptr<SendBatch> SendBatch::create(boost::asio::io_context::executor_type executor, std::string& reason) {
  auto ring = std::make_unique<io_uring>();
  const int rc = io_uring_queue_init(kRingEntries, ring.get(), 0);
  if (rc < 0) {
    reason = std::strerror(-rc);
    return nullptr;
  }
  return std::unique_ptr<SendBatch>(new SendBatch(std::move(ring), std::move(executor)));
}

SendBatch::SendBatch(std::unique_ptr<io_uring> ring, boost::asio::io_context::executor_type executor)
    : ring_(std::move(ring)), ring_entries_(kRingEntries), executor_(std::move(executor)) {}

SendBatch::~SendBatch() {
  if (ring_ != nullptr) io_uring_queue_exit(ring_.get());
}

void SendBatch::queue(int fd, std::span<const boost::asio::const_buffer> pieces, Sender& sender) {
  Entry& entry = queued_.emplace_back();
  entry.fd = fd;
  entry.sender = &sender;
  entry.count = gather_pieces(pieces, entry.iov);
  if (flush_posted_ || flushing_) return;
  flush_posted_ = true;
  boost::asio::post(executor_, [this] {
    flush_posted_ = false;
    flush();
  });
}

void SendBatch::flush() {
  if (flushing_) return;
  flushing_ = true;
  while (!queued_.empty()) {
    sending_.swap(queued_);
    for (std::size_t first = 0; first < sending_.size(); first += ring_entries_) {
      submit(first, std::min(sending_.size(), first + ring_entries_));
    }
    // Reports may queue new sends (a pump reads on and forwards): the loop makes them.
    for (Entry& entry : sending_) {
      boost::system::error_code ec;
      std::size_t sent = 0;
      if (entry.result >= 0) {
        sent = static_cast<std::size_t>(entry.result);
      } else if (entry.result != -EAGAIN && entry.result != -EWOULDBLOCK) {
        ec.assign(-entry.result, boost::system::system_category());
      }
      entry.sender->on_sent(sent, ec);
    }
    sending_.clear();
  }
  flushing_ = false;
}

void SendBatch::submit(std::size_t first, std::size_t last) {
  for (std::size_t i = first; i < last; ++i) {
    Entry& entry = sending_[i];
    entry.message = {};
    entry.message.msg_iov = entry.iov.data();
    entry.message.msg_iovlen = entry.count;
    entry.result = 0;
  }
  if (ring_ != nullptr) {
    for (std::size_t i = first; i < last; ++i) {
      Entry& entry = sending_[i];
      io_uring_sqe* sqe = io_uring_get_sqe(ring_.get());  // not null: the ring is empty and has room
      // One piece (most forwarded writes) is a plain send, which spares the
      // kernel copying in a message header and a gather list.
      if (entry.count == 1) {
        io_uring_prep_send(sqe, entry.fd, entry.iov[0].iov_base, entry.iov[0].iov_len, MSG_DONTWAIT | MSG_NOSIGNAL);
      } else {
        io_uring_prep_sendmsg(sqe, entry.fd, &entry.message, MSG_DONTWAIT | MSG_NOSIGNAL);
      }
      io_uring_sqe_set_data64(sqe, i);
    }
    const auto count = static_cast<unsigned>(last - first);
    int rc = 0;
    do {
      rc = io_uring_submit_and_wait(ring_.get(), count);
    } while (rc == -EINTR);
    if (rc >= 0) {
      for (unsigned seen = 0; seen < count; ++seen) {
        io_uring_cqe* cqe = nullptr;
        if (io_uring_wait_cqe(ring_.get(), &cqe) < 0) break;
        const auto index = static_cast<std::size_t>(io_uring_cqe_get_data64(cqe));
        if (index >= first && index < last) sending_[index].result = cqe->res;
        io_uring_cqe_seen(ring_.get(), cqe);
      }
      return;
    }
    // The kernel took none of them, and would take them with the next call: the
    // ring goes, with what it holds, and the sends are made one by one from now on.
    spdlog::warn("io_uring submission failed ({}): sending without it from now on", std::strerror(-rc));
    io_uring_queue_exit(ring_.get());
    ring_.reset();
  }
  for (std::size_t i = first; i < last; ++i) {
    Entry& entry = sending_[i];
    ssize_t n = 0;
    do {
      n = ::sendmsg(entry.fd, &entry.message, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    entry.result = n >= 0 ? static_cast<int>(n) : -errno;
  }
}

}  // namespace pgshim::proxy
