#include "dataplane/ws/listener.h"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "absl/strings/str_cat.h"
#include "common/base/logging.h"
#include "dataplane/ws/http_session.h"
#include "dataplane/ws/stream_types.h"

namespace sockudo::dataplane::ws {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using unix_proto = net::local::stream_protocol;

struct Listener::Impl {
  net::io_context& accept_io;
  std::vector<WorkerSlot> workers;
  node::NodeContext& node;
  http::Router& router;
  net::ssl::context* tls;
  bool metrics_listener;
  std::optional<tcp::acceptor> tcp_acceptor;
  std::optional<unix_proto::acceptor> unix_acceptor;
  size_t next = 0;
  bool stopped = false;
  net::steady_timer backoff{accept_io};

  SessionEnv Env(size_t w) const {
    return SessionEnv{&node, &router, workers[w].state, metrics_listener, workers[w].send_ring};
  }

  size_t NextWorker() { return next++ % workers.size(); }

  void AcceptTcp() {
    const size_t w = NextWorker();
    tcp_acceptor->async_accept(
        *workers[w].io, [this, w](boost::system::error_code ec, tcp::socket socket) {
          if (stopped) return;
          if (!ec) {
            boost::system::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
            net::post(*workers[w].io, [this, w, socket = std::move(socket)]() mutable {
              if (tls != nullptr) {
                std::make_shared<HttpSession<TlsStream>>(TlsStream(std::move(socket), *tls), Env(w))
                    ->Run();
              } else {
                std::make_shared<HttpSession<TcpStream>>(std::move(socket), Env(w))->Run();
              }
            });
          } else if (ec == net::error::no_descriptors || ec == net::error::no_buffer_space) {
            // Out of file descriptors: back off instead of spinning on accept.
            base::Logger("ws")->warn("accept failed: {} (raise the open-file limit)", ec.message());
            backoff.expires_after(std::chrono::milliseconds(100));
            backoff.async_wait([this](boost::system::error_code) {
              if (!stopped) AcceptTcp();
            });
            return;
          }
          AcceptTcp();
        });
  }

  void AcceptUnix() {
    const size_t w = NextWorker();
    unix_acceptor->async_accept(
        *workers[w].io, [this, w](boost::system::error_code ec, unix_proto::socket socket) {
          if (stopped) return;
          if (!ec) {
            net::post(*workers[w].io, [this, w, socket = std::move(socket)]() mutable {
              std::make_shared<HttpSession<UnixStream>>(std::move(socket), Env(w))->Run();
            });
          }
          AcceptUnix();
        });
  }
};

Listener::Listener(net::io_context& accept_io, std::vector<WorkerSlot> workers,
                   node::NodeContext& node, http::Router& router, net::ssl::context* tls,
                   bool metrics_listener)
    : impl_(new Impl{accept_io, std::move(workers), node, router, tls, metrics_listener, {}, {}}) {}

Listener::~Listener() = default;

absl::Status Listener::ListenTcp(const std::string& host, int port) {
  boost::system::error_code ec;
  const auto address = net::ip::make_address(host, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("invalid listen address \"", host, "\""));
  tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  tcp::acceptor& acceptor = impl_->tcp_acceptor.emplace(impl_->accept_io);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", host, ":", port, ": ", ec.message()));
  }
  return absl::OkStatus();
}

absl::Status Listener::ListenUnix(const std::string& path, const std::string& mode) {
  ::unlink(path.c_str());
  boost::system::error_code ec;
  unix_proto::acceptor& acceptor = impl_->unix_acceptor.emplace(impl_->accept_io);
  unix_proto::endpoint endpoint(path);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return absl::UnavailableError(
        absl::StrCat("cannot listen on unix socket ", path, ": ", ec.message()));
  if (::chmod(path.c_str(), static_cast<mode_t>(std::stoi(mode, nullptr, 8))) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot chmod ", path));
  }
  return absl::OkStatus();
}

int Listener::port() const {
  return impl_->tcp_acceptor.has_value() ? impl_->tcp_acceptor->local_endpoint().port() : 0;
}

void Listener::Start() {
  if (impl_->tcp_acceptor.has_value()) impl_->AcceptTcp();
  if (impl_->unix_acceptor.has_value()) impl_->AcceptUnix();
}

void Listener::Stop() {
  net::post(impl_->accept_io, [impl = impl_.get()] {
    impl->stopped = true;
    boost::system::error_code ignored;
    if (impl->tcp_acceptor.has_value()) impl->tcp_acceptor->close(ignored);
    if (impl->unix_acceptor.has_value()) impl->unix_acceptor->close(ignored);
  });
}

}  // namespace sockudo::dataplane::ws
