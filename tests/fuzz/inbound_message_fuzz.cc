// Fuzz target: Pusher messages a client sends (protocol::ParseInbound and every handler behind
// Connection::OnMessage: subscribe, presence channel_data, signin, client events, unsubscribe).
// The input is split into messages at newlines and sent by one of two connections of a node with
// client events and watchlists on. When the first byte is odd, subscribe and signin messages get
// a valid signature computed here, so the code after the signature check is reached too.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/json.h"
#include "common/crypto/pusher_signature.h"
#include "tests/testutil/node_fixture.h"

namespace {

using sockudo::base::Json;

// Replaces `auth` with the signature the app's backend would return for this message.
std::string Sign(std::string_view message, const std::string& socket_id) {
  auto parsed = sockudo::base::ParseJson(message);
  if (!parsed.has_value() || !parsed->is_object()) return std::string(message);
  Json& root = *parsed;
  auto event = root.find("event");
  auto data = root.find("data");
  if (event == root.end() || !event->is_string() || data == root.end() || !data->is_object()) {
    return std::string(message);
  }
  Json& d = *data;
  if (*event == "pusher:subscribe" && d.contains("channel") && d["channel"].is_string()) {
    std::string to_sign = socket_id + ":" + d["channel"].get<std::string>();
    if (d.contains("channel_data") && d["channel_data"].is_string()) {
      to_sign += ":" + d["channel_data"].get<std::string>();
    }
    d["auth"] = sockudo::crypto::ClientAuth("app-key", "app-secret", to_sign);
  } else if (*event == "pusher:signin" && d.contains("user_data") && d["user_data"].is_string()) {
    d["auth"] = sockudo::crypto::ClientAuth(
        "app-key", "app-secret", socket_id + "::user::" + d["user_data"].get<std::string>());
  }
  return sockudo::base::Dump(root);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool sign = (data[0] & 1) != 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  sockudo::apps::App app = sockudo::apps::DefaultApp();
  app.enable_client_messages = true;
  app.enable_watchlist_events = true;
  sockudo::testutil::NodeFixture node(app);
  sockudo::testutil::NodeFixture::Client* clients[] = {&node.Connect("1.1"), &node.Connect("2.2")};
  size_t turn = 0;
  while (!input.empty()) {
    const size_t nl = input.find('\n');
    std::string_view message = input.substr(0, nl);
    input.remove_prefix(nl == std::string_view::npos ? input.size() : nl + 1);
    auto* c = clients[turn++ % 2];
    const std::string text =
        sign ? Sign(message, c->connection->socket_id()) : std::string(message);
    c->connection->OnMessage(text, node.now);
    node.pool.Drain();
  }
  return 0;
}
