// The sends of a worker's pumps, made together in one system call (io_uring),
// the one in which the worker then waits for its sockets.
//
// A forwarded message costs the proxy a send(), and a send() to a peer that
// sleeps wakes it. The kernel takes a socket's wakeup as a hint that the sender
// sleeps soon (a "sync" wakeup): it puts the peer on the sender's CPU and,
// unless the sender sleeps at once, preempts it on its way out of the system
// call, and everyone waiting for the proxy waits too.
//
// So the pumps of one worker queue their sends here, and the batch makes them
// when the worker's reactor is about to wait: Asio's epoll reactor calls
// epoll_wait(), which the proxy's link wraps (--wrap=epoll_wait) to call
// before_wait() first. When the reactor would block, one io_uring_enter() makes
// every send and then waits for the reactor's epoll descriptor to become
// readable (a poll on it in the same submission), so the proxy goes to sleep
// right after its wakeups, as the kernel expects; the real epoll_wait() that
// follows does not block. When the reactor would not block (handlers are
// queued), or a report must not wait for the reactor's next event (a pump has
// bytes to read behind its send, or ends after it), the sends are made without
// waiting. (pgbench -S -c 16, two workers: involuntary switches went from 0.23
// to 0.06 per query, epoll_wait() calls from 0.89 to 0.35.)
//
// Each send carries MSG_DONTWAIT, so it completes within that call, as send()
// would: all of it, part of it, or nothing (a full socket), reported to its
// Sender after the wait (a send that found its socket full is followed by the
// socket's writable edge, which ends the wait). The bytes of a queued send stay
// the pump's until then. Where io_uring is not available (an old kernel, a
// seccomp profile, kernel.io_uring_disabled), create() returns null and the
// pumps send at once.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <sys/socket.h>
#include <sys/uio.h>

#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>

#include "proxy/send_pieces.h"

struct io_uring;

namespace pgshim::proxy {

class SendBatch {
 public:
  class Sender {
   public:
    // `sent` bytes went out (fewer than queued: the socket was full); `ec` on a
    // failure other than a full socket.
    virtual void on_sent(std::size_t sent, boost::system::error_code ec) = 0;

   protected:
    ~Sender() = default;
  };

  // Null when the kernel refuses an io_uring; `reason` then says why.
  static std::unique_ptr<SendBatch> create(std::string& reason);
  ~SendBatch();
  SendBatch(const SendBatch&) = delete;
  SendBatch& operator=(const SendBatch&) = delete;

  // The batch of the worker this thread runs, which before_wait() serves.
  void attach_to_this_thread();

  // Queues a send of `pieces` on `fd` (the first kMaxSendPieces; the rest is
  // reported unsent), made by flush() or before the reactor's next wait. The
  // pieces must stay valid until sender.on_sent(); one sender has one send
  // queued at a time. Unless `report_may_wait`, the wait that makes it does not
  // block. A sender whose report may wait must have the reactor watch `fd`'s
  // writable edges (Stream::watch_writable()): a send that finds the socket
  // full is reported once it drains.
  void queue(int fd, std::span<const boost::asio::const_buffer> pieces, Sender& sender, bool report_may_wait = true);
  // A sender's socket had bytes it left unread behind its queued send: the
  // next wait must not block before the sender reads them (in on_sent()).
  void defer_read() { must_not_block_ = true; }
  // Makes every queued send and reports each; sends queued by the reports are
  // made too before it returns.
  void flush();
  // Before the reactor of this thread waits on `epoll_fd`: makes the queued
  // sends, and when `may_block` (a wait without a timeout), sleeps in the same
  // call until `epoll_fd` is readable. True when it made sends (the reactor's
  // wait must not block then).
  static bool before_wait(int epoll_fd, bool may_block);
  [[nodiscard]] bool empty() const { return queued_.empty(); }

 private:
  struct Entry {
    int fd = -1;
    Sender* sender = nullptr;
    SendPieces iov{};
    std::size_t count = 0;
    msghdr message{};
    int result = 0;  // bytes sent, or -errno
  };

  explicit SendBatch(std::unique_ptr<io_uring> ring);
  // Makes the queued sends, the first round waiting on `wait_fd` unless it is -1.
  void flush(int wait_fd);
  // Submits sending_[first, last) and waits for their results (all come within
  // the call), and for `wait_fd` to be readable unless it is -1.
  void submit(std::size_t first, std::size_t last, int wait_fd);

  std::unique_ptr<io_uring> ring_;
  std::vector<Entry> queued_;
  std::vector<Entry> sending_;
  bool flushing_ = false;
  bool must_not_block_ = false;  // a deferred read, or a report that may not wait
};

}  // namespace pgshim::proxy
