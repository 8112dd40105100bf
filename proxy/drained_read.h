// A socket read that tells the reactor when it emptied the socket, so the next
// read waits for readiness instead of trying recv() first.
//
// Asio's epoll reactor registers each socket edge-triggered and, before queueing a
// read, tries recv() at once ("speculative" read). It stops trying only after a
// read returns end of stream. A proxy forwards one request, then reads the same
// socket again while its peer is still waiting for the answer: that speculative
// recv() fails with EAGAIN twice per query (once on the client socket, once on the
// server's), a third of the proxy's system calls on a simple query.
//
// A stream recv() that returns fewer bytes than asked has emptied the socket's
// receive queue (TCP and Unix stream sockets copy everything queued up to the
// buffer's size). Reporting such a read as "done and exhausted" makes the reactor
// queue the next read without a system call; the next edge (new data) performs it.
// Data that arrives after the recv() raises a new edge, so nothing is missed.
//
// The hook is a specialization of Asio's receive operation for DrainedBuffer, a
// mutable_buffer by another name: the reactor, handler allocation, cancellation
// and completion stay Asio's own. It depends on the reactor's internals, hence the
// version check below; read it again when Boost is upgraded.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/detail/reactive_socket_recv_op.hpp>
#include <boost/version.hpp>

#if BOOST_VERSION != 108100
#error "proxy/drained_read.h is written against Boost.Asio 1.81's epoll reactor: check it against this version"
#endif

namespace pgshim::proxy {

// A single buffer whose reads report a short read as having emptied the socket.
struct DrainedBuffer : boost::asio::mutable_buffer {
  explicit DrainedBuffer(boost::asio::mutable_buffer buffer) : boost::asio::mutable_buffer(buffer) {}
};

}  // namespace pgshim::proxy

namespace boost::asio::detail {

template <>
class reactive_socket_recv_op_base<pgshim::proxy::DrainedBuffer> : public reactor_op {
 public:
  reactive_socket_recv_op_base(const boost::system::error_code& success_ec, socket_type socket,
                               socket_ops::state_type state, const pgshim::proxy::DrainedBuffer& buffer,
                               socket_base::message_flags flags, func_type complete_func)
      : reactor_op(success_ec, &reactive_socket_recv_op_base::do_perform, complete_func),
        socket_(socket),
        stream_oriented_((state & socket_ops::stream_oriented) != 0),
        buffer_(buffer),
        flags_(flags) {}

  static status do_perform(reactor_op* base) {
    auto* op = static_cast<reactive_socket_recv_op_base*>(base);
    if (!socket_ops::non_blocking_recv1(op->socket_, op->buffer_.data(), op->buffer_.size(), op->flags_,
                                        op->stream_oriented_, op->ec_, op->bytes_transferred_)) {
      return not_done;
    }
    // End of stream, an error, or a short read: nothing more to read until the next edge.
    if (op->stream_oriented_ && op->bytes_transferred_ < op->buffer_.size()) return done_and_exhausted;
    return done;
  }

 private:
  socket_type socket_;
  bool stream_oriented_;
  pgshim::proxy::DrainedBuffer buffer_;
  socket_base::message_flags flags_;
};

}  // namespace boost::asio::detail
