#include "controlplane/rest/rest_server.h"

#include <chrono>
#include <deque>
#include <exception>
#include <optional>
#include <thread>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/strand.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "common/base/logging.h"

namespace sockudo::controlplane::rest {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

template <class Stream>
constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

beast::tcp_stream& Lowest(beast::tcp_stream& s) { return s; }
beast::tcp_stream& Lowest(TlsStream& s) { return beast::get_lowest_layer(s); }

constexpr size_t kBodyLimit = 1 << 20;
constexpr auto kReadTimeout = std::chrono::seconds(30);
// An event stream: a comment line this often (proxies keep the connection, a dead client is
// found), and a client this many events behind is dropped rather than buffered without end.
constexpr auto kStreamKeepAlive = std::chrono::seconds(15);
constexpr size_t kStreamBacklog = 4096;

// One connection: (TLS handshake,) read a request, answer it, repeat while keep-alive.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(tcp::socket socket, const RestRouter* router, asio::ssl::context* tls)
      : stream_(MakeStream(std::move(socket), tls)), router_(router) {
    boost::system::error_code ec;
    auto remote = Lowest(stream_).socket().remote_endpoint(ec);
    if (!ec) peer_ = absl::StrCat(remote.address().to_string(), ":", remote.port());
  }

  ~Session() {
    if (events_) events_->close();  // the server stopped with the stream open
  }

  void Run() {
    if constexpr (kIsTls<Stream>) {
      Lowest(stream_).expires_after(kReadTimeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->Close();  // plain text, bad client, timeout
                                self->Read();
                              });
    } else {
      Read();
    }
  }

 private:
  static Stream MakeStream(tcp::socket socket, asio::ssl::context* tls) {
    if constexpr (kIsTls<Stream>) {
      return Stream(std::move(socket), *tls);
    } else {
      return Stream(std::move(socket));
    }
  }

  void Read() {
    parser_.emplace();
    parser_->body_limit(kBodyLimit);
    Lowest(stream_).expires_after(kReadTimeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted) {
      Close();
      return;
    }
    response_ = {};
    response_.version(11);
    response_.set(http::field::content_type, "application/json");
    response_.set(http::field::server, "sockudo-controlplane");
    if (ec) {
      // Malformed request or body over the limit: answer once and close.
      const bool too_large = ec == http::error::body_limit;
      response_.result(too_large ? http::status::payload_too_large : http::status::bad_request);
      response_.body() =
          absl::StrCat("{\"error\":{\"code\":", too_large ? 413 : 400, ",\"message\":\"",
                       too_large ? "body too large" : "malformed HTTP request",
                       "\",\"status\":\"INVALID_ARGUMENT\"}}");
      response_.keep_alive(false);
      return Write();
    }
    auto& req = parser_->get();
    RestRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    request.authorization = std::string(req[http::field::authorization]);
    request.body = std::move(req.body());
    request.peer = peer_;
    response_.keep_alive(req.keep_alive());
    // Cluster-wide calls answer later, from the bus observer's thread: back to this strand.
    router_->HandleAsync(request, [self = this->shared_from_this()](RestResponse answer) {
      asio::post(self->stream_.get_executor(), [self, answer = std::move(answer)]() mutable {
        if (answer.stream) return self->StartEvents(std::move(answer.stream));
        self->response_.result(answer.status);
        self->response_.set(http::field::content_type, answer.content_type);
        self->response_.body() = std::move(answer.body);
        self->Write();
      });
    });
  }

  void Write() {
    response_.prepare_payload();
    http::async_write(
        stream_, response_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(beast::error_code ec) {
    if (ec || !response_.keep_alive()) {
      Close();
      return;
    }
    Read();
  }

  // A text/event-stream answer: the headers (chunked, no keep-alive), then one chunk per event
  // until the client leaves, a write fails or the client falls kStreamBacklog events behind.
  void StartEvents(std::shared_ptr<EventStream> events) {
    events_ = std::move(events);
    Lowest(stream_).expires_never();
    events_head_.emplace(http::status::ok, 11);
    events_head_->set(http::field::server, "sockudo-controlplane");
    events_head_->set(http::field::content_type, "text/event-stream");
    events_head_->set(http::field::cache_control, "no-cache");
    events_head_->keep_alive(false);
    events_head_->chunked(true);
    events_serializer_.emplace(*events_head_);
    http::async_write_header(stream_, *events_serializer_,
                             [self = this->shared_from_this()](beast::error_code ec, size_t) {
                               if (ec) return self->EndEvents();
                               self->OpenEvents();
                             });
  }

  void OpenEvents() {
    std::weak_ptr<Session> weak = this->shared_from_this();
    auto executor = stream_.get_executor();
    events_->open([weak, executor](std::string text) {
      auto self = weak.lock();
      if (!self) return false;
      asio::post(executor,
                 [self, text = std::move(text)]() mutable { self->QueueEvent(EventText(text)); });
      return true;
    });
    // The client sends nothing more: a read that ends tells that it left.
    Lowest(stream_).socket().async_wait(
        tcp::socket::wait_read,
        [self = this->shared_from_this()](beast::error_code) { self->EndEvents(); });
    KeepAlive();
  }

  // One server-sent event: each line of `text` as a `data:` line, then the blank line.
  static std::string EventText(const std::string& text) {
    std::string out;
    size_t start = 0;
    for (;;) {
      const size_t end = text.find('\n', start);
      out.append("data: ").append(text, start, end - start).push_back('\n');
      if (end == std::string::npos) break;
      start = end + 1;
    }
    out.push_back('\n');
    return out;
  }

  void KeepAlive() {
    keep_alive_.emplace(stream_.get_executor());
    keep_alive_->expires_after(kStreamKeepAlive);
    keep_alive_->async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec || !self->events_) return;
      self->QueueEvent(": keep-alive\n\n");
      self->KeepAlive();
    });
  }

  void QueueEvent(std::string chunk) {
    if (!events_) return;
    if (outbox_.size() >= kStreamBacklog) {
      base::Logger("controlplane")
          ->warn("REST {}: event stream dropped, {} events behind", peer_, outbox_.size());
      return EndEvents();
    }
    outbox_.push_back(std::move(chunk));
    if (outbox_.size() == 1) WriteEvent();
  }

  void WriteEvent() {
    asio::async_write(stream_, http::make_chunk(asio::buffer(outbox_.front())),
                      [self = this->shared_from_this()](beast::error_code ec, size_t) {
                        if (ec || !self->events_) return self->EndEvents();
                        self->outbox_.pop_front();
                        if (!self->outbox_.empty()) self->WriteEvent();
                      });
  }

  void EndEvents() {
    if (!events_) return;
    events_->close();
    events_.reset();
    if (keep_alive_) keep_alive_->cancel();
    Close();
  }

  void Close() {
    beast::error_code ignored;
    Lowest(stream_).socket().shutdown(tcp::socket::shutdown_send, ignored);
    Lowest(stream_).socket().close(ignored);
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  const RestRouter* router_;
  std::string peer_ = "unknown";
  // An event stream (StartEvents), on this session's strand.
  std::shared_ptr<EventStream> events_;
  std::optional<http::response<http::empty_body>> events_head_;
  std::optional<http::response_serializer<http::empty_body>> events_serializer_;
  std::optional<asio::steady_timer> keep_alive_;
  std::deque<std::string> outbox_;
};

}  // namespace

struct RestServer::Impl {
  explicit Impl(const RestRouter* r) : router(r), acceptor(io) {}

  void Accept() {
    acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket s) {
      if (ec) {
        if (ec != asio::error::operation_aborted) Accept();
        return;
      }
      if (tls) {
        std::make_shared<Session<TlsStream>>(std::move(s), router, tls.get())->Run();
      } else {
        std::make_shared<Session<beast::tcp_stream>>(std::move(s), router, nullptr)->Run();
      }
      Accept();
    });
  }

  const RestRouter* router;
  std::unique_ptr<asio::ssl::context> tls;  // set: HTTPS
  asio::io_context io{1};
  tcp::acceptor acceptor;
  std::thread thread;
  bool running = false;
};

RestServer::RestServer(const RestRouter* router) : impl_(std::make_unique<Impl>(router)) {}

RestServer::~RestServer() { Stop(); }

absl::StatusOr<int> RestServer::Start(const std::string& host, int port, const TlsPem* tls) {
  beast::error_code ec;
  if (tls != nullptr) {
    auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                         asio::ssl::context::no_tlsv1_1);
    context->use_certificate_chain(asio::buffer(tls->cert_chain), ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("control_plane.tls.cert_path: not a usable certificate: ", ec.message()));
    }
    context->use_private_key(asio::buffer(tls->private_key), asio::ssl::context::pem, ec);
    if (ec) {
      return absl::InvalidArgumentError(absl::StrCat(
          "control_plane.tls.key_path: not a usable key for the certificate: ", ec.message()));
    }
    impl_->tls = std::move(context);
  }
  auto address = asio::ip::make_address(host, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("control_plane.rest_host: ", host));
  tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("control_plane.rest_port: cannot listen on ", host,
                                               ":", port, ": ", ec.message()));
  }
  const int bound = impl_->acceptor.local_endpoint().port();
  impl_->Accept();
  impl_->running = true;
  impl_->thread = std::thread([this] {
    try {
      impl_->io.run();
    } catch (const std::exception& e) {
      base::Logger("controlplane")->error("REST listener stopped: {}", e.what());
    }
  });
  return bound;
}

void RestServer::Stop() {
  if (!impl_->running) return;
  impl_->running = false;
  asio::post(impl_->io, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
  });
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace sockudo::controlplane::rest
