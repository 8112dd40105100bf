// SendBatch (proxy/send_batch.h): queued sends of several sockets are made by
// one flush, when the reactor of the thread the batch is attached to waits, or
// called directly; a wait that may block sleeps in the same call until the
// reactor has something to do, unless a sender deferred a read; each sender
// learns what went out, a full socket gives a short count and no error, a
// closed peer an error, and sends queued by a report are made in the same flush.
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <gtest/gtest.h>

#include "proxy/send_batch.h"

namespace pgshim::proxy {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

class Pair {
 public:
  Pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    ours = fds[0];
    theirs = fds[1];
  }
  ~Pair() {
    if (ours >= 0) ::close(ours);
    if (theirs >= 0) ::close(theirs);
  }
  std::string received() {
    std::string text;
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::recv(theirs, buffer, sizeof buffer, MSG_DONTWAIT);
      if (n <= 0) return text;
      text.append(buffer, static_cast<std::size_t>(n));
    }
  }
  int ours = -1;
  int theirs = -1;
};

struct Report final : SendBatch::Sender {
  void on_sent(std::size_t n, error_code e) override {
    ++calls;
    sent = n;
    ec = e;
    if (then) then();
  }
  int calls = 0;
  std::size_t sent = 0;
  error_code ec;
  std::function<void()> then;
};

class SendBatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string reason;
    batch_ = SendBatch::create(reason);
    // The kernels this project supports have io_uring; a refusal here is a failure, not a skip.
    ASSERT_NE(batch_, nullptr) << "io_uring refused: " << reason;
    batch_->attach_to_this_thread();
  }
  asio::io_context io_{1};
  std::unique_ptr<SendBatch> batch_;
};

// A timer that ends the test's io_context if nothing else does first: the
// reactor is there (timers wait in it), and run() returns once end() cancels it.
struct Bound {
  explicit Bound(asio::io_context& io) : timer(io, std::chrono::seconds(10)) {
    timer.async_wait([](error_code) {});
  }
  // True when called before the bound was due.
  void end() {
    early = std::chrono::steady_clock::now() < timer.expiry();
    timer.cancel();
  }
  asio::steady_timer timer;
  bool early = false;
};

TEST_F(SendBatchTest, SendsOfSeveralSocketsAreMadeWhenTheReactorWaits) {
  Pair a, b;
  Report ra, rb;
  asio::steady_timer soon(io_);
  const std::string one = "one", two = "two", three = "three";
  const asio::const_buffer pieces[] = {asio::buffer(one), asio::buffer(two)};
  bool queued_in_handler = false;
  asio::post(io_, [&] {
    batch_->queue(a.ours, pieces, ra);
    batch_->queue(b.ours, std::span<const asio::const_buffer>(&pieces[0], 1), rb);
    queued_in_handler = true;
    // The event that ends the reactor's wait (see WithoutADeferredReadTheReportsWaitForAnEvent).
    soon.expires_after(std::chrono::milliseconds(1));
    soon.async_wait([](error_code) {});
    // Nothing is sent while the handlers of this round run.
    EXPECT_EQ(a.received(), "");
    EXPECT_EQ(ra.calls, 0);
  });
  io_.run();
  ASSERT_TRUE(queued_in_handler);
  EXPECT_TRUE(batch_->empty());
  EXPECT_EQ(ra.calls, 1);
  EXPECT_EQ(ra.sent, 6u);
  EXPECT_FALSE(ra.ec);
  EXPECT_EQ(rb.sent, 3u);
  EXPECT_EQ(a.received(), "onetwo");
  EXPECT_EQ(b.received(), "one");
}

// With nothing else to do, the reactor sleeps in the call that makes the sends
// and wakes with what they cause: here the reply of the peer they reached.
TEST_F(SendBatchTest, AWaitThatBlocksWakesForTheReactorsEvents) {
  Pair a;
  Report report;
  Bound bound(io_);
  asio::local::stream_protocol::socket peer(io_, asio::local::stream_protocol(), a.theirs);
  a.theirs = -1;  // the socket owns it
  char received[16] = {};
  std::size_t got = 0;
  peer.async_read_some(asio::buffer(received), [&](error_code ec, std::size_t n) {
    EXPECT_FALSE(ec) << ec.message();
    got = n;
    bound.end();
  });
  const std::string text = "ping";
  const asio::const_buffer piece = asio::buffer(text);
  asio::post(io_, [&] { batch_->queue(a.ours, std::span<const asio::const_buffer>(&piece, 1), report); });
  io_.run();
  EXPECT_TRUE(bound.early) << "the wait did not wake for the peer's data";
  EXPECT_EQ(report.calls, 1);
  EXPECT_EQ(report.sent, 4u);
  EXPECT_EQ(std::string(received, got), "ping");
}

// A wait that may block holds the reports until the reactor has an event; a
// sender that deferred a read gets its report without waiting for one.
TEST_F(SendBatchTest, ADeferredReadKeepsTheWaitFromBlocking) {
  Pair a;
  Bound bound(io_);
  Report report;
  report.then = [&] { bound.end(); };
  const std::string text = "x";
  const asio::const_buffer piece = asio::buffer(text);
  asio::post(io_, [&] {
    batch_->queue(a.ours, std::span<const asio::const_buffer>(&piece, 1), report);
    batch_->defer_read();
  });
  io_.run();
  EXPECT_TRUE(bound.early) << "the report waited for the bound to expire";
  EXPECT_EQ(report.calls, 1);
}

TEST_F(SendBatchTest, WithoutADeferredReadTheReportsWaitForAnEvent) {
  Pair a;
  asio::steady_timer soon(io_);
  bool expired = false;
  Report report;
  bool timer_due_at_report = false;
  report.then = [&] { timer_due_at_report = std::chrono::steady_clock::now() >= soon.expiry(); };
  const std::string text = "x";
  const asio::const_buffer piece = asio::buffer(text);
  asio::post(io_, [&] {
    batch_->queue(a.ours, std::span<const asio::const_buffer>(&piece, 1), report);
    soon.expires_after(std::chrono::milliseconds(20));
    soon.async_wait([&](error_code ec) { expired = !ec; });
  });
  io_.run();
  EXPECT_TRUE(expired);
  EXPECT_EQ(report.calls, 1);
  // The only event was the timer's: the sends were made, and the reactor slept, in one call.
  EXPECT_TRUE(timer_due_at_report);
}

// A send that fills its socket is reported when the socket drains: the reactor
// watches the socket's writable edges (Stream::watch_writable() in the proxy),
// and that edge ends the wait even though nothing else happens.
TEST_F(SendBatchTest, AReportThatFoundTheSocketFullComesWhenItDrains) {
  Pair a;
  int small = 4096;
  ASSERT_EQ(::setsockopt(a.ours, SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  const int fd = a.ours;
  asio::local::stream_protocol::socket ours(io_, asio::local::stream_protocol(), a.ours);
  a.ours = -1;  // the socket owns it
  ours.async_wait(asio::socket_base::wait_write, [](error_code) {});
  Bound bound(io_);
  Report report;
  report.then = [&] { bound.end(); };
  const std::string big(1 << 20, 'x');
  const asio::const_buffer piece = asio::buffer(big);
  asio::post(io_, [&] { batch_->queue(fd, std::span<const asio::const_buffer>(&piece, 1), report); });
  // The peer reads a while later, from another thread: no event of the reactor's but the drain.
  std::thread reader([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    a.received();
  });
  io_.run();
  reader.join();
  EXPECT_TRUE(bound.early) << "the report waited for the bound to expire";
  EXPECT_EQ(report.calls, 1);
  EXPECT_GT(report.sent, 0u);
  EXPECT_LT(report.sent, big.size());
}

// A sender whose report may not wait (a pump that ends after its send) keeps the wait from blocking.
TEST_F(SendBatchTest, AReportThatMayNotWaitKeepsTheWaitFromBlocking) {
  Pair a;
  Bound bound(io_);
  Report report;
  report.then = [&] { bound.end(); };
  const std::string text = "x";
  const asio::const_buffer piece = asio::buffer(text);
  asio::post(io_, [&] { batch_->queue(a.ours, std::span<const asio::const_buffer>(&piece, 1), report, false); });
  io_.run();
  EXPECT_TRUE(bound.early) << "the report waited for the bound to expire";
  EXPECT_EQ(report.calls, 1);
}

TEST_F(SendBatchTest, AFullSocketGivesAShortCountAndNoError) {
  Pair a;
  int small = 4096;
  ASSERT_EQ(::setsockopt(a.ours, SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  const std::string big(1 << 20, 'x');
  Report report;
  const asio::const_buffer piece = asio::buffer(big);
  batch_->queue(a.ours, std::span<const asio::const_buffer>(&piece, 1), report);
  batch_->flush();
  EXPECT_EQ(report.calls, 1);
  EXPECT_FALSE(report.ec) << report.ec.message();
  EXPECT_LT(report.sent, big.size());
  // Once full, nothing more goes in: zero bytes, still no error.
  Report again;
  batch_->queue(a.ours, std::span<const asio::const_buffer>(&piece, 1), again);
  batch_->flush();
  EXPECT_EQ(again.sent, 0u);
  EXPECT_FALSE(again.ec);
}

TEST_F(SendBatchTest, AClosedPeerIsAnError) {
  Pair a;
  ::close(a.theirs);
  a.theirs = -1;
  Report report;
  const std::string text = "lost";
  const asio::const_buffer piece = asio::buffer(text);
  batch_->queue(a.ours, std::span<const asio::const_buffer>(&piece, 1), report);
  batch_->flush();
  EXPECT_EQ(report.calls, 1);
  EXPECT_EQ(report.ec, error_code(EPIPE, boost::system::system_category())) << report.ec.message();
}

TEST_F(SendBatchTest, SendsQueuedByAReportAreMadeInTheSameFlush) {
  Pair a;
  const std::string first = "first ", second = "second";
  const asio::const_buffer one = asio::buffer(first), two = asio::buffer(second);
  Report r1, r2;
  r1.then = [&] { batch_->queue(a.ours, std::span<const asio::const_buffer>(&two, 1), r2); };
  batch_->queue(a.ours, std::span<const asio::const_buffer>(&one, 1), r1);
  batch_->flush();
  EXPECT_EQ(r1.calls, 1);
  EXPECT_EQ(r2.calls, 1);
  EXPECT_TRUE(batch_->empty());
  EXPECT_EQ(a.received(), "first second");
}

TEST_F(SendBatchTest, MoreSendsThanTheRingHoldsAreAllMade) {
  std::vector<std::unique_ptr<Pair>> pairs;
  std::vector<std::unique_ptr<Report>> reports;
  const std::string text = "x";
  const asio::const_buffer piece = asio::buffer(text);
  for (int i = 0; i < 300; ++i) {
    pairs.push_back(std::make_unique<Pair>());
    reports.push_back(std::make_unique<Report>());
    batch_->queue(pairs.back()->ours, std::span<const asio::const_buffer>(&piece, 1), *reports.back());
  }
  batch_->flush();
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ(reports[i]->sent, 1u) << i;
    EXPECT_EQ(pairs[i]->received(), "x") << i;
  }
}

}  // namespace
}  // namespace pgshim::proxy
