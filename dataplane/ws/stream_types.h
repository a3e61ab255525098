// File: stream_types.h
// The byte streams a node serves on: plain TCP, TLS over TCP, and a Unix-domain socket.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/ssl.hpp>
#include <type_traits>

namespace sockudo::dataplane::ws {

using TcpStream = boost::asio::ip::tcp::socket;
using TlsStream = boost::beast::ssl_stream<boost::asio::ip::tcp::socket>;
using UnixStream = boost::asio::local::stream_protocol::socket;

template <class Stream>
inline constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

// The socket under a stream (the TCP socket of a TLS stream).
template <class Stream>
auto& Lowest(Stream& s) {
  return boost::beast::get_lowest_layer(s);
}

}  // namespace sockudo::dataplane::ws
