#include "proxy/send_batch.h"

#include <liburing.h>
#include <poll.h>
#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <spdlog/spdlog.h>

namespace pgshim::proxy {

namespace {

constexpr unsigned kRingEntries = 256;
// The user data of the poll on the reactor's descriptor; a send's is its index.
constexpr std::uint64_t kWaitTag = ~std::uint64_t{0};

thread_local SendBatch* this_thread_batch = nullptr;

}  // namespace

std::unique_ptr<SendBatch> SendBatch::create(std::string& reason) {
  auto ring = std::make_unique<io_uring>();
  const int rc = io_uring_queue_init(kRingEntries, ring.get(), 0);
  if (rc < 0) {
    reason = std::strerror(-rc);
    return nullptr;
  }
  return std::unique_ptr<SendBatch>(new SendBatch(std::move(ring)));
}

SendBatch::SendBatch(std::unique_ptr<io_uring> ring) : ring_(std::move(ring)) {}

SendBatch::~SendBatch() {
  if (this_thread_batch == this) this_thread_batch = nullptr;
  if (ring_ != nullptr) io_uring_queue_exit(ring_.get());
}

void SendBatch::attach_to_this_thread() { this_thread_batch = this; }

void SendBatch::queue(int fd, std::span<const boost::asio::const_buffer> pieces, Sender& sender,
                      bool report_may_wait) {
  if (!report_may_wait) must_not_block_ = true;
  Entry& entry = queued_.emplace_back();
  entry.fd = fd;
  entry.sender = &sender;
  entry.count = gather_pieces(pieces, entry.iov);
}

bool SendBatch::before_wait(int epoll_fd, bool may_block) {
  SendBatch* const batch = this_thread_batch;
  if (batch == nullptr || batch->queued_.empty()) return false;
  batch->flush(may_block && !batch->must_not_block_ ? epoll_fd : -1);
  return true;
}

void SendBatch::flush() { flush(-1); }

void SendBatch::flush(int wait_fd) {
  if (flushing_) return;
  flushing_ = true;
  while (!queued_.empty()) {
    sending_.swap(queued_);
    must_not_block_ = false;
    // One entry of the ring is kept for the poll on `wait_fd`.
    for (std::size_t first = 0; first < sending_.size(); first += kRingEntries - 1) {
      const std::size_t last = std::min(sending_.size(), first + kRingEntries - 1);
      submit(first, last, last == sending_.size() ? wait_fd : -1);
    }
    wait_fd = -1;
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

void SendBatch::submit(std::size_t first, std::size_t last, int wait_fd) {
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
      io_uring_prep_sendmsg(sqe, entry.fd, &entry.message, MSG_DONTWAIT | MSG_NOSIGNAL);
      io_uring_sqe_set_data64(sqe, i);
    }
    auto pending = static_cast<unsigned>(last - first);
    bool waiting = wait_fd >= 0;
    if (waiting) {
      io_uring_sqe* sqe = io_uring_get_sqe(ring_.get());
      io_uring_prep_poll_add(sqe, wait_fd, POLLIN);
      io_uring_sqe_set_data64(sqe, kWaitTag);
    }
    int rc = 0;
    do {
      rc = io_uring_submit_and_wait(ring_.get(), pending + (waiting ? 1 : 0));
    } while (rc == -EINTR);
    if (rc >= 0) {
      while (pending > 0 || waiting) {
        io_uring_cqe* cqe = nullptr;
        const int wait_rc = io_uring_wait_cqe(ring_.get(), &cqe);
        if (wait_rc == -EINTR) continue;
        if (wait_rc < 0) break;
        const std::uint64_t tag = io_uring_cqe_get_data64(cqe);
        if (tag == kWaitTag) {
          waiting = false;
        } else {
          if (tag >= first && tag < last) sending_[tag].result = cqe->res;
          --pending;
        }
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

// Asio's epoll reactor waits in epoll_wait(); the proxy's link sends its calls
// here (--wrap=epoll_wait, proxy/CMakeLists.txt) so that the worker's queued
// sends are made first, in the same system call as the wait when it would block.
extern "C" int __real_epoll_wait(int epoll_fd, epoll_event* events, int max_events, int timeout);

extern "C" int __wrap_epoll_wait(int epoll_fd, epoll_event* events, int max_events, int timeout) {
  // Asio waits without a timeout when it has nothing else to do (its timers are
  // a timerfd in the epoll set); only such a wait is made in the io_uring call.
  if (pgshim::proxy::SendBatch::before_wait(epoll_fd, timeout < 0)) timeout = 0;
  return __real_epoll_wait(epoll_fd, events, max_events, timeout);
}
