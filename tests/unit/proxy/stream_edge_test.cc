// Reads at a socket's edges (proxy/edge_read.h) through Stream: the reader runs
// at each edge while one wait stays queued, the wait ends when the reader says
// so, when the stream is cancelled or closed, through its cancellation slot or
// end_wait_readable(), and data queued before the wait began is not missed.
#include <sys/socket.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "proxy/stream.h"

namespace pgshim::proxy {
namespace {

using boost::system::error_code;
using namespace std::chrono_literals;

// Reads everything there; asks to be resumed on '!' or on an error (eof).
class Collector final : public EdgeReader {
 public:
  explicit Collector(Stream& stream) : stream_(stream) {}
  bool on_readable() override {
    ++calls;
    for (;;) {
      char buffer[64];
      const std::size_t n = stream_.read_now(asio::buffer(buffer), error);
      if (error == asio::error::would_block) {
        error.clear();
        return true;
      }
      if (error) return false;
      text.append(buffer, n);
      if (text.find('!') != std::string::npos) return false;
    }
  }

  int calls = 0;
  std::string text;
  error_code error;

 private:
  Stream& stream_;
};

class StreamEdgeTest : public ::testing::Test {
 protected:
  StreamEdgeTest() : peer_(io_), stream_(unix_socket(io_)) {
    unix_socket ours(io_);
    asio::local::connect_pair(ours, peer_);
    stream_ = Stream(std::move(ours));
  }

  // Starts a wait for `reader` on the stream; the result lands in `result_`.
  void start_wait(Collector& reader) {
    asio::co_spawn(
        io_,
        [this, &reader]() -> asio::awaitable<void> {
          auto [ec] = co_await stream_.wait_readable(reader);
          result_ = ec;
        },
        asio::detached);
  }

  void send(std::string_view text) { asio::write(peer_, asio::buffer(text)); }

  // Runs ready handlers and the edges that are due, without blocking for long.
  void settle() {
    io_.restart();  // poll() stops the io_context when it runs out of work
    for (int i = 0; i < 20; ++i) {
      io_.poll();
      std::this_thread::sleep_for(1ms);
    }
    io_.poll();
  }

  asio::io_context io_{1};
  unix_socket peer_;
  Stream stream_;
  std::optional<error_code> result_;
};

TEST_F(StreamEdgeTest, ReaderRunsAtEachEdgeWhileOneWaitStaysQueued) {
  Collector reader(stream_);
  start_wait(reader);
  settle();
  EXPECT_FALSE(result_.has_value());
  send("one ");
  settle();
  send("two ");
  settle();
  EXPECT_EQ(reader.text, "one two ");
  EXPECT_GE(reader.calls, 2);
  EXPECT_FALSE(result_.has_value()) << "the wait ended although the reader asked to go on";
  send("three!");
  settle();
  ASSERT_TRUE(result_.has_value());
  EXPECT_FALSE(*result_) << result_->message();
  EXPECT_EQ(reader.text, "one two three!");
}

TEST_F(StreamEdgeTest, DataQueuedBeforeTheWaitIsReadAtOnce) {
  Collector reader(stream_);
  // An empty read marks the stream drained; data then comes with nobody waiting.
  char byte = 0;
  error_code ec;
  EXPECT_EQ(stream_.read_now(asio::buffer(&byte, 1), ec), 0u);
  EXPECT_EQ(ec, asio::error::would_block);
  send("early!");
  settle();
  EXPECT_EQ(stream_.read_now(asio::buffer(&byte, 1), ec), 0u) << "drained until the next edge";
  EXPECT_EQ(ec, asio::error::would_block);
  start_wait(reader);
  settle();
  ASSERT_TRUE(result_.has_value());
  EXPECT_EQ(reader.text, "early!");
}

TEST_F(StreamEdgeTest, PeerEndCompletesTheWaitWithEof) {
  Collector reader(stream_);
  start_wait(reader);
  settle();
  send("last words");
  settle();
  peer_.close();
  settle();
  ASSERT_TRUE(result_.has_value());
  EXPECT_EQ(reader.text, "last words");
  EXPECT_EQ(reader.error, asio::error::eof);
}

// An end that comes with the last data may raise no edge after the short read
// that took the data: then the wait goes on, and peer_has_ended() (the
// sessions' periodic probe) is what finds it. Either way it is not missed.
TEST_F(StreamEdgeTest, EndThatCameWithTheDataIsNotMissed) {
  Collector reader(stream_);
  send("last words");
  peer_.close();
  start_wait(reader);
  settle();
  EXPECT_EQ(reader.text, "last words");
  if (result_.has_value()) {
    EXPECT_EQ(reader.error, asio::error::eof);
  } else {
    EXPECT_TRUE(stream_.peer_has_ended());
  }
}

TEST_F(StreamEdgeTest, CancelEndsTheWait) {
  Collector reader(stream_);
  start_wait(reader);
  settle();
  stream_.cancel();
  settle();
  ASSERT_TRUE(result_.has_value());
  EXPECT_EQ(*result_, asio::error::operation_aborted);
  EXPECT_EQ(reader.calls, 0);
}

TEST_F(StreamEdgeTest, EndWaitReadableEndsTheWaitFromOutside) {
  Collector reader(stream_);
  start_wait(reader);
  settle();
  EXPECT_FALSE(result_.has_value());
  stream_.end_wait_readable();
  settle();
  ASSERT_TRUE(result_.has_value());
  EXPECT_EQ(*result_, asio::error::operation_aborted);
  // Nothing is queued any more: a second call finds nothing to end.
  stream_.end_wait_readable();
  send("after!");
  settle();
  EXPECT_EQ(reader.calls, 0);
}

TEST_F(StreamEdgeTest, CloseEndsTheWait) {
  Collector reader(stream_);
  start_wait(reader);
  settle();
  stream_.close();
  settle();
  ASSERT_TRUE(result_.has_value());
  EXPECT_EQ(*result_, asio::error::operation_aborted);
}

TEST_F(StreamEdgeTest, CancellationSlotEndsTheWait) {
  using namespace asio::experimental::awaitable_operators;
  Collector reader(stream_);
  bool timer_won = false;
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer timer(io_, 5ms);
        auto first = co_await (stream_.wait_readable(reader) || timer.async_wait(asio::use_awaitable));
        timer_won = first.index() == 1;
      },
      asio::detached);
  for (int i = 0; i < 200 && !timer_won; ++i) {
    io_.run_for(5ms);
  }
  EXPECT_TRUE(timer_won);
  // The wait is gone from the reactor: new data reaches no reader, and the
  // io_context runs out of work.
  io_.restart();
  send("after!");
  io_.run_for(50ms);
  EXPECT_TRUE(io_.stopped()) << "an operation is still queued";
  EXPECT_EQ(reader.calls, 0);
}

}  // namespace
}  // namespace pgshim::proxy
