// SendBatch (proxy/send_batch.h): queued sends of several sockets are made by
// one flush, posted after the current handlers or called directly; each sender
// learns what went out, a full socket gives a short count and no error, a
// closed peer an error, and sends queued by a report are made in the same flush.
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
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
    batch_ = SendBatch::create(io_.get_executor(), reason);
    // The kernels this project supports have io_uring; a refusal here is a failure, not a skip.
    ASSERT_NE(batch_, nullptr) << "io_uring refused: " << reason;
  }
  asio::io_context io_{1};
  std::unique_ptr<SendBatch> batch_;
};

TEST_F(SendBatchTest, SendsOfSeveralSocketsAreMadeAfterTheCurrentHandlers) {
  Pair a, b;
  Report ra, rb;
  const std::string one = "one", two = "two", three = "three";
  const asio::const_buffer pieces[] = {asio::buffer(one), asio::buffer(two)};
  bool queued_in_handler = false;
  asio::post(io_, [&] {
    batch_->queue(a.ours, pieces, ra);
    batch_->queue(b.ours, std::span<const asio::const_buffer>(&pieces[0], 1), rb);
    queued_in_handler = true;
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
