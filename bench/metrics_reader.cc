#include "bench/metrics_reader.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdlib>
#include <sstream>

namespace sockudo::bench {

namespace net = boost::asio;
namespace http = boost::beast::http;

std::optional<double> ReadMetric(const Endpoint& endpoint, const std::string& name) {
  try {
    net::io_context io;
    net::ip::tcp::socket socket(io);
    socket.connect(
        {net::ip::make_address(endpoint.host), static_cast<unsigned short>(endpoint.port)});
    http::request<http::empty_body> request(http::verb::get, "/metrics", 11);
    request.set(http::field::host, endpoint.host);
    http::write(socket, request);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(socket, buffer, response);
    std::istringstream lines(response.body());
    std::string line;
    std::optional<double> total;
    while (std::getline(lines, line)) {
      if (line.empty() || line[0] == '#') continue;
      // "<name>{labels} value" or "<name> value", where <name> may carry the server's prefix.
      const size_t at = line.find(name);
      if (at == std::string::npos) continue;
      const size_t end = at + name.size();
      if (end >= line.size() || (line[end] != '{' && line[end] != ' ')) continue;
      const size_t space = line.rfind(' ');
      total = total.value_or(0) + std::strtod(line.c_str() + space + 1, nullptr);
    }
    return total;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace sockudo::bench
