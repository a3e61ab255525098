#include "common/bus/envelope.h"

#include <openssl/rand.h>

#include <array>
#include <chrono>

#include "absl/strings/str_cat.h"

namespace sockudo::bus {
namespace {

using base::AppendJsonString;
using base::Json;

struct TypeInfo {
  RequestType type;
  std::string_view name;
  bool fire_and_forget;
  bool fast;
};

constexpr std::array<TypeInfo, 24> kTypes = {{
    {RequestType::kChannelMembers, "ChannelMembers", false, false},
    {RequestType::kChannelMembersCount, "ChannelMembersCount", false, false},
    {RequestType::kChannelSockets, "ChannelSockets", false, false},
    {RequestType::kChannelSocketsCount, "ChannelSocketsCount", false, false},
    {RequestType::kBatchChannelSocketsCount, "BatchChannelSocketsCount", false, false},
    {RequestType::kSocketExistsInChannel, "SocketExistsInChannel", false, true},
    {RequestType::kSockets, "Sockets", false, true},
    {RequestType::kSocketsCount, "SocketsCount", false, true},
    {RequestType::kChannels, "Channels", false, true},
    {RequestType::kChannelsWithSocketsCount, "ChannelsWithSocketsCount", false, false},
    {RequestType::kCountUserConnectionsInChannel, "CountUserConnectionsInChannel", false, false},
    {RequestType::kCountUserConnections, "CountUserConnections", false, true},
    {RequestType::kWatchlistUpdate, "WatchlistUpdate", true, false},
    {RequestType::kTerminateUserConnections, "TerminateUserConnections", false, false},
    {RequestType::kForceReconnect, "ForceReconnect", false, false},
    {RequestType::kPresenceMemberJoined, "PresenceMemberJoined", true, false},
    {RequestType::kPresenceMemberLeft, "PresenceMemberLeft", true, false},
    {RequestType::kPresenceMemberUpdated, "PresenceMemberUpdated", true, false},
    {RequestType::kHeartbeat, "Heartbeat", true, false},
    {RequestType::kNodeDead, "NodeDead", true, false},
    {RequestType::kPresenceStateSync, "PresenceStateSync", true, false},
    {RequestType::kAppChanged, "AppChanged", true, false},
    {RequestType::kChannelCountUpdate, "ChannelCountUpdate", true, false},
    {RequestType::kChannelCountSync, "ChannelCountSync", true, false},
}};

const TypeInfo& Info(RequestType type) {
  for (const TypeInfo& t : kTypes) {
    if (t.type == type) return t;
  }
  return kTypes[0];
}

// A field that is present and not null.
const Json* Field(const Json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<std::string> OptString(const Json& object, const char* name) {
  const Json* f = Field(object, name);
  if (f == nullptr || !f->is_string()) return std::nullopt;
  return f->get<std::string>();
}

std::optional<int64_t> OptInt(const Json& object, const char* name) {
  const Json* f = Field(object, name);
  if (f == nullptr || !f->is_number_integer()) return std::nullopt;
  return f->get<int64_t>();
}

absl::StatusOr<std::string> Required(const Json& object, const char* name) {
  auto value = OptString(object, name);
  if (!value.has_value()) return absl::InvalidArgumentError(absl::StrCat("missing ", name));
  return *value;
}

absl::StatusOr<Json> ParseObject(std::string_view payload) {
  auto parsed = base::ParseJson(payload);
  if (!parsed.has_value() || !parsed->is_object()) {
    return absl::InvalidArgumentError("not a JSON object");
  }
  return std::move(*parsed);
}

// A user id as JSON text, whatever its type (string or number); nullopt for anything else.
std::optional<std::string> UserIdText(const Json& object, std::string_view payload,
                                      const char* name) {
  const Json* f = Field(object, name);
  if (f == nullptr) return std::nullopt;
  if (f->is_string()) return base::Dump(*f);
  if (f->is_number()) {
    // Keep the digits as sent: a number past 2^64 must not become 1e+29 on the way.
    if (auto raw = base::RawMember(payload, name)) return std::string(*raw);
    return base::Dump(*f);
  }
  return std::nullopt;
}

void AppendField(std::string& out, std::string_view name) {
  out.push_back(',');
  AppendJsonString(out, name);
  out.push_back(':');
}

void AppendOptString(std::string& out, std::string_view name,
                     const std::optional<std::string>& value) {
  AppendField(out, name);
  if (value.has_value()) {
    AppendJsonString(out, *value);
  } else {
    out.append("null");
  }
}

}  // namespace

std::string_view RequestTypeName(RequestType type) { return Info(type).name; }

std::optional<RequestType> ParseRequestType(std::string_view name) {
  for (const TypeInfo& t : kTypes) {
    if (t.name == name) return t.type;
  }
  return std::nullopt;
}

bool IsFireAndForget(RequestType type) { return Info(type).fire_and_forget; }
bool IsFastRequest(RequestType type) { return Info(type).fast; }

std::optional<std::string> RequestBody::UserIdKey() const {
  if (!user_id_json.has_value()) return std::nullopt;
  const std::string& text = *user_id_json;
  if (!text.empty() && text.front() == '"') {
    auto parsed = base::ParseJson(text);
    if (parsed.has_value() && parsed->is_string()) return parsed->get<std::string>();
    return std::nullopt;
  }
  return text;
}

std::string EncodeBroadcast(const BroadcastMessage& m) {
  // Built by concatenation: it runs once per publish on the hot path.
  std::string out;
  out.reserve(96 + m.node_id.size() + m.app_id.size() + m.channel.size() +
              m.message.size() * 11 / 10);
  out.append("{\"node_id\":");
  AppendJsonString(out, m.node_id);
  AppendField(out, "app_id");
  AppendJsonString(out, m.app_id);
  AppendField(out, "channel");
  AppendJsonString(out, m.channel);
  AppendField(out, "message");
  AppendJsonString(out, m.message);
  AppendOptString(out, "except_socket_id", m.except_socket_id);
  if (m.timestamp_ms.has_value()) {
    AppendField(out, "timestamp_ms");
    // Shortest round-trip text: StrAppend's six significant digits would turn an epoch
    // millisecond value into 1.718e+12 (minutes off).
    out.append(base::Dump(Json(*m.timestamp_ms)));
  }
  if (m.cache_event) out.append(",\"cache_event\":true");
  out.push_back('}');
  return out;
}

absl::StatusOr<BroadcastMessage> DecodeBroadcast(std::string_view payload) {
  auto parsed = ParseObject(payload);
  if (!parsed.ok()) return parsed.status();
  const Json& j = *parsed;
  BroadcastMessage m;
  for (auto [field, name] : {std::pair{&m.node_id, "node_id"}, std::pair{&m.app_id, "app_id"},
                             std::pair{&m.channel, "channel"}}) {
    auto value = Required(j, name);
    if (!value.ok()) return value.status();
    *field = std::move(*value);
  }
  m.message = OptString(j, "message").value_or("");
  m.except_socket_id = OptString(j, "except_socket_id");
  if (const Json* t = Field(j, "timestamp_ms"); t != nullptr && t->is_number()) {
    m.timestamp_ms = t->get<double>();
  }
  m.presence_replication = Field(j, "presence_replication") != nullptr;
  if (const Json* c = Field(j, "cache_event"); c != nullptr && c->is_boolean()) {
    m.cache_event = c->get<bool>();
  }
  if (m.message.empty() && !m.presence_replication) {
    return absl::InvalidArgumentError("missing message");
  }
  return m;
}

std::string EncodeRequest(const RequestBody& r) {
  std::string out = "{\"request_id\":";
  AppendJsonString(out, r.request_id);
  AppendField(out, "node_id");
  AppendJsonString(out, r.node_id);
  AppendField(out, "app_id");
  AppendJsonString(out, r.app_id);
  AppendField(out, "request_type");
  AppendJsonString(out, RequestTypeName(r.request_type));
  AppendOptString(out, "channel", r.channel);
  AppendOptString(out, "socket_id", r.socket_id);
  AppendField(out, "user_id");
  out.append(r.user_id_json.value_or("null"));
  AppendField(out, "user_info");
  out.append(r.user_info.has_value() ? base::Dump(*r.user_info) : "null");
  AppendField(out, "timestamp");
  out.append(r.timestamp.has_value() ? std::to_string(*r.timestamp) : "null");
  AppendOptString(out, "dead_node_id", r.dead_node_id);
  AppendOptString(out, "target_node_id", r.target_node_id);
  if (r.channels.has_value()) {
    AppendField(out, "channels");
    out.append(base::Dump(Json(*r.channels)));
  }
  if (r.reply_to.has_value()) {
    AppendField(out, "reply_to");
    AppendJsonString(out, *r.reply_to);
  }
  if (r.sequence_number.has_value()) {
    AppendField(out, "sequence_number");
    out.append(std::to_string(*r.sequence_number));
  }
  out.push_back('}');
  return out;
}

absl::StatusOr<RequestBody> DecodeRequest(std::string_view payload) {
  auto parsed = ParseObject(payload);
  if (!parsed.ok()) return parsed.status();
  const Json& j = *parsed;
  RequestBody r;
  for (auto [field, name] : {std::pair{&r.request_id, "request_id"},
                             std::pair{&r.node_id, "node_id"}, std::pair{&r.app_id, "app_id"}}) {
    auto value = Required(j, name);
    if (!value.ok()) return value.status();
    *field = std::move(*value);
  }
  auto type_name = Required(j, "request_type");
  if (!type_name.ok()) return type_name.status();
  auto type = ParseRequestType(*type_name);
  if (!type.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat("unknown request_type ", *type_name));
  }
  r.request_type = *type;
  r.channel = OptString(j, "channel");
  r.socket_id = OptString(j, "socket_id");
  r.user_id_json = UserIdText(j, payload, "user_id");
  if (const Json* info = Field(j, "user_info")) r.user_info = *info;
  r.timestamp = OptInt(j, "timestamp");
  r.dead_node_id = OptString(j, "dead_node_id");
  r.target_node_id = OptString(j, "target_node_id");
  if (const Json* channels = Field(j, "channels"); channels != nullptr && channels->is_array()) {
    std::vector<std::string> list;
    for (const Json& c : *channels) {
      if (c.is_string()) list.push_back(c.get<std::string>());
    }
    r.channels = std::move(list);
  }
  r.reply_to = OptString(j, "reply_to");
  r.sequence_number = OptInt(j, "sequence_number");
  return r;
}

std::string EncodeResponse(const ResponseBody& r) {
  std::string out = "{\"request_id\":";
  AppendJsonString(out, r.request_id);
  AppendField(out, "node_id");
  AppendJsonString(out, r.node_id);
  AppendField(out, "app_id");
  AppendJsonString(out, r.app_id);
  AppendField(out, "members");
  out.push_back('{');
  bool first = true;
  for (const auto& [key, member] : r.members) {
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(out, key);
    out.append(":{\"user_id\":");
    out.append(member.user_id_json);
    out.append(",\"user_info\":");
    out.append(member.user_info_json);
    out.push_back('}');
  }
  out.push_back('}');
  AppendField(out, "channels_with_sockets_count");
  out.append(base::Dump(Json(r.channels_with_sockets_count)));
  AppendField(out, "socket_ids");
  out.append(base::Dump(Json(r.socket_ids)));
  absl::StrAppend(
      &out, ",\"sockets_count\":", r.sockets_count, ",\"exists\":", r.exists ? "true" : "false",
      ",\"channels\":", base::Dump(Json(r.channels)), ",\"members_count\":", r.members_count,
      ",\"responses_received\":0,\"expected_responses\":0,\"complete\":true}");
  return out;
}

absl::StatusOr<ResponseBody> DecodeResponse(std::string_view payload) {
  auto parsed = ParseObject(payload);
  if (!parsed.ok()) return parsed.status();
  const Json& j = *parsed;
  ResponseBody r;
  for (auto [field, name] : {std::pair{&r.request_id, "request_id"},
                             std::pair{&r.node_id, "node_id"}, std::pair{&r.app_id, "app_id"}}) {
    auto value = Required(j, name);
    if (!value.ok()) return value.status();
    *field = std::move(*value);
  }
  if (const Json* members = Field(j, "members"); members != nullptr && members->is_object()) {
    for (const auto& [key, member] : members->items()) {
      if (!member.is_object()) continue;
      PresenceMemberInfo info;
      const Json* id = Field(member, "user_id");
      if (id == nullptr || !(id->is_string() || id->is_number())) continue;
      // A number keeps its digits: the key is the id's string form, which for a number is its
      // JSON text exactly.
      info.user_id_json = id->is_string() ? base::Dump(*id) : key;
      if (const Json* user_info = Field(member, "user_info")) {
        info.user_info_json = base::Dump(*user_info);
      }
      r.members.emplace(key, std::move(info));
    }
  }
  if (const Json* counts = Field(j, "channels_with_sockets_count");
      counts != nullptr && counts->is_object()) {
    for (const auto& [channel, n] : counts->items()) {
      if (n.is_number_integer()) r.channels_with_sockets_count[channel] = n.get<int64_t>();
    }
  }
  if (const Json* ids = Field(j, "socket_ids"); ids != nullptr && ids->is_array()) {
    for (const Json& id : *ids) {
      if (id.is_string()) r.socket_ids.push_back(id.get<std::string>());
    }
  }
  if (const Json* channels = Field(j, "channels"); channels != nullptr && channels->is_array()) {
    for (const Json& c : *channels) {
      if (c.is_string()) r.channels.push_back(c.get<std::string>());
    }
  }
  r.sockets_count = OptInt(j, "sockets_count").value_or(0);
  if (const Json* e = Field(j, "exists"); e != nullptr && e->is_boolean())
    r.exists = e->get<bool>();
  r.members_count = OptInt(j, "members_count").value_or(0);
  return r;
}

std::string NewUuid() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) {
    // The CSPRNG is unavailable: fall back to a clock-seeded value (ids need uniqueness, not
    // secrecy).
    const auto t = std::chrono::steady_clock::now().time_since_epoch().count();
    for (size_t i = 0; i < sizeof b; ++i) b[i] = static_cast<unsigned char>(t >> ((i % 8) * 8));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0xF]);
  }
  return out;
}

std::string UuidHex(std::string_view uuid) {
  std::string out;
  for (char c : uuid) {
    if (c != '-') out.push_back(c);
  }
  return out;
}

}  // namespace sockudo::bus
