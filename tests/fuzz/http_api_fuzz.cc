// Fuzz target: the HTTP API request path a client controls, from the raw target to the handlers:
// query parsing and percent-decoding, signature and body_md5 checks, JSON body, event and batch
// validation, channel names, info attributes. Input: one byte of flags, then
// "METHOD\nPATH\nQUERY\nBODY". When flag bit 0 is set the request is signed here with the app
// secret (auth_key, auth_timestamp, body_md5, auth_signature appended), so it passes
// authentication and reaches the handlers.
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "common/crypto/hmac.h"
#include "common/crypto/pusher_signature.h"
#include "dataplane/http/request_auth.h"
#include "dataplane/http/router.h"
#include "tests/testutil/node_fixture.h"

namespace {

std::string_view NextLine(std::string_view& input) {
  const size_t nl = input.find('\n');
  std::string_view line = input.substr(0, nl);
  input.remove_prefix(nl == std::string_view::npos ? input.size() : nl + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sockudo::dataplane;
  if (size == 0) return 0;
  const bool sign = (data[0] & 1) != 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  http::HttpRequest request;
  request.method = std::string(NextLine(input));
  request.path = std::string(NextLine(input));
  const std::string query(NextLine(input));
  request.body = std::string(input);
  request.query = http::ParseQuery(query);
  if (sign) {
    auto& q = request.query;
    q.emplace_back("auth_key", "app-key");
    q.emplace_back("auth_timestamp", std::to_string(http::UnixNow()));
    q.emplace_back("auth_version", "1.0");
    if (!request.body.empty()) q.emplace_back("body_md5", sockudo::crypto::Md5Hex(request.body));
    q.emplace_back("auth_signature",
                   sockudo::crypto::SignHttpRequest("app-secret", request.method, request.path, q));
  }

  sockudo::testutil::NodeFixture node;
  node.Connect("1.1").connection->OnMessage(
      R"({"event":"pusher:subscribe","data":{"channel":"my-channel"}})", node.now);
  http::Router router(*node.node);
  int answers = 0;
  router.Handle(request, [&answers](http::HttpResponse r) {
    ++answers;
    if (r.status < 100 || r.status > 599) __builtin_trap();
  });
  if (answers != 1) __builtin_trap();  // every request is answered exactly once
  return 0;
}
