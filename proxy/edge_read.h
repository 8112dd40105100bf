// A read that stays queued in Asio's reactor across the edges of its socket, so
// that a pump reads, walks and forwards inside the reactor's pass over the
// socket, with no operation to start, no completion to queue and no coroutine to
// resume per message.
//
// Through a plain async_read_some, each forwarded query cost two queued reads
// (the client's message, then the server's answer), two completions through the
// scheduler and two coroutine resumptions: most of the proxy's own CPU time per
// query. Here the reactor calls EdgeReadOp's perform at every edge of the socket
// (new data, its peer's end, an error); perform calls the EdgeReader's
// on_readable(), which reads what is there and handles it. The operation
// completes, resuming the waiting coroutine, only when on_readable() says there
// is something it cannot do on the spot, or when it is cancelled (Stream::cancel,
// Stream::close, or the cancellation slot of its handler).
//
// on_readable() runs with the reactor's lock on this socket held: it must not
// start, cancel or close operations on this socket (it may on others).
//
// It reaches into Asio's socket implementation and epoll reactor, as
// proxy/drained_read.h does, hence the same version check: read it again when
// Boost is upgraded.
#pragma once

#include <memory>
#include <utility>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/detail/reactor_op.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>
#include <boost/version.hpp>

#if BOOST_VERSION != 108100
#error "proxy/edge_read.h is written against Boost.Asio 1.81's epoll reactor: check it against this version"
#endif

namespace pgshim::proxy {

// What reads a socket at its edges (see above). True to stay queued (the socket
// is empty for now), false to complete and resume the waiting coroutine.
class EdgeReader {
 public:
  virtual bool on_readable() = 0;

 protected:
  ~EdgeReader() = default;
};

namespace edge_read_detail {

namespace detail = boost::asio::detail;

// The reactor's view of a socket: Asio keeps it in a protected member.
template <typename Protocol, typename Executor>
struct SocketInternals : boost::asio::basic_stream_socket<Protocol, Executor> {
  static auto& implementation(boost::asio::basic_stream_socket<Protocol, Executor>& socket) {
    return (socket.*(&SocketInternals::impl_)).get_implementation();
  }
};

template <typename Protocol, typename Executor>
detail::reactor& reactor_of(boost::asio::basic_stream_socket<Protocol, Executor>& socket) {
  return boost::asio::use_service<detail::reactor>(
      boost::asio::query(socket.get_executor(), boost::asio::execution::context));
}

class Cancellation {
 public:
  Cancellation(detail::reactor& reactor, detail::reactor::per_descriptor_data& data, detail::socket_type fd,
               void* key, bool& queued)
      : reactor_(reactor), data_(data), fd_(fd), key_(key), queued_(queued) {}
  void operator()(boost::asio::cancellation_type_t type) {
    using boost::asio::cancellation_type;
    if (!!(type & (cancellation_type::terminal | cancellation_type::partial | cancellation_type::total))) {
      queued_ = false;
      reactor_.cancel_ops_by_key(fd_, data_, detail::reactor::read_op, key_);
    }
  }

 private:
  detail::reactor& reactor_;
  detail::reactor::per_descriptor_data& data_;
  detail::socket_type fd_;
  void* key_;
  bool& queued_;
};

template <typename Handler>
class EdgeReadOp final : public detail::reactor_op {
 public:
  EdgeReadOp(EdgeReader& reader, bool& edge_seen, bool& queued, Handler&& handler)
      : reactor_op(boost::system::error_code(), &EdgeReadOp::do_perform, &EdgeReadOp::do_complete),
        reader_(reader),
        edge_seen_(edge_seen),
        queued_(queued),
        handler_(std::move(handler)) {}

  Handler& handler() { return handler_; }

 private:
  static status do_perform(reactor_op* base) {
    auto* op = static_cast<EdgeReadOp*>(base);
    op->edge_seen_ = true;
    if (op->reader_.on_readable()) return not_done;
    op->queued_ = false;
    return done;
  }

  // From the scheduler: `owner` is null when the io_context is destroyed with
  // the operation still queued.
  static void do_complete(void* owner, detail::operation* base, const boost::system::error_code&, std::size_t) {
    std::unique_ptr<EdgeReadOp> op(static_cast<EdgeReadOp*>(base));
    Handler handler(std::move(op->handler_));
    const boost::system::error_code ec = op->ec_;
    op.reset();
    auto slot = boost::asio::get_associated_cancellation_slot(handler);
    if (slot.is_connected()) slot.clear();
    if (owner != nullptr) std::move(handler)(ec);
  }

  EdgeReader& reader_;
  bool& edge_seen_;
  bool& queued_;
  Handler handler_;
};

}  // namespace edge_read_detail

// Queues `reader` on `socket` until it completes `handler` (void(error_code)).
// `edge_seen` is set at each edge, before on_readable() runs. The reactor
// re-arms the socket as it queues the read, so data already there raises an
// edge at once. `key` names the read for cancel_edge_read(). `queued` is true
// from here until the read is ended: by its reader, its cancellation slot, or
// whoever clears it before cancelling the socket's reads.
template <typename Protocol, typename Executor, typename Handler>
void start_edge_read(boost::asio::basic_stream_socket<Protocol, Executor>& socket, EdgeReader& reader,
                     bool& edge_seen, bool& queued, void* key, Handler&& handler) {
  namespace detail = boost::asio::detail;
  auto& impl = edge_read_detail::SocketInternals<Protocol, Executor>::implementation(socket);
  auto& reactor = edge_read_detail::reactor_of(socket);
  auto op = std::make_unique<edge_read_detail::EdgeReadOp<std::decay_t<Handler>>>(
      reader, edge_seen, queued, std::forward<Handler>(handler));
  op->cancellation_key_ = key;
  auto slot = boost::asio::get_associated_cancellation_slot(op->handler());
  if (slot.is_connected()) {
    slot.template emplace<edge_read_detail::Cancellation>(reactor, impl.reactor_data_, impl.socket_, key, queued);
  }
  queued = true;
  // Not speculative: the reactor's MOD re-arms the socket, so what is already
  // there is reported as an edge.
  reactor.start_op(detail::reactor::read_op, impl.socket_, impl.reactor_data_, op.release(), false, false);
}

// Completes the read `key` queued on `socket`, if any, with operation_aborted;
// never from that read's own on_readable().
template <typename Protocol, typename Executor>
void cancel_edge_read(boost::asio::basic_stream_socket<Protocol, Executor>& socket, void* key) {
  auto& impl = edge_read_detail::SocketInternals<Protocol, Executor>::implementation(socket);
  edge_read_detail::reactor_of(socket).cancel_ops_by_key(impl.socket_, impl.reactor_data_,
                                                         boost::asio::detail::reactor::read_op, key);
}

}  // namespace pgshim::proxy
