// The sends of a worker's pumps, made together in one system call (io_uring).
//
// A forwarded message costs the proxy a send(), and on a busy machine a send()
// that wakes its peer often hands the peer the CPU on the spot: the proxy is
// preempted about once every two queries, and everyone waiting for it waits
// too. The pumps of one worker queue their sends here instead; after the
// handlers of the worker's current round have run, the batch makes them all in
// one io_uring_enter(), and the proxy gives the CPU up at most once for them.
//
// Each send carries MSG_DONTWAIT, so it completes within that call, as send()
// would: all of it, part of it, or nothing (a full socket), reported to its
// Sender before flush() returns. The bytes of a queued send stay the pump's
// until then. Where io_uring is not available (an old kernel, a seccomp profile,
// kernel.io_uring_disabled), create() returns null and the pumps send at once.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include <sys/socket.h>
#include <sys/uio.h>

#include <boost/asio/io_context.hpp>
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
  static std::unique_ptr<SendBatch> create(boost::asio::io_context::executor_type executor, std::string& reason);
  ~SendBatch();
  SendBatch(const SendBatch&) = delete;
  SendBatch& operator=(const SendBatch&) = delete;

  // Queues a send of `pieces` on `fd` (the first kMaxSendPieces; the rest is
  // reported unsent), made by flush(): by one posted to the executor, or by an
  // earlier call. The pieces must stay valid until
  // sender.on_sent(); one sender has one send queued at a time.
  void queue(int fd, std::span<const boost::asio::const_buffer> pieces, Sender& sender);
  // Makes every queued send and reports each; sends queued by the reports are
  // made too before it returns.
  void flush();
  [[nodiscard]] bool empty() const { return queued_.empty(); }

 private:
  struct Entry {
    // Leaves `iov` and `message` unset: queue() fills the first `count` pieces
    // and submit() the header, and zeroing them was most of queuing a send.
    Entry() {}  // not `= default`, which emplace_back() would zero the whole Entry with
    int fd = -1;
    Sender* sender = nullptr;
    SendPieces iov;
    std::size_t count = 0;
    msghdr message;
    int result = 0;  // bytes sent, or -errno
  };

  SendBatch(std::unique_ptr<io_uring> ring, boost::asio::io_context::executor_type executor);
  // Submits sending_[first, last) and waits for their results (all come within the call).
  void submit(std::size_t first, std::size_t last);

  std::unique_ptr<io_uring> ring_;
  unsigned ring_entries_ = 0;
  boost::asio::io_context::executor_type executor_;
  std::vector<Entry> queued_;
  std::vector<Entry> sending_;
  bool flush_posted_ = false;
  bool flushing_ = false;
};

}  // namespace pgshim::proxy
