// The bus envelopes of spec/cluster.md §3: round trips of BroadcastMessage, RequestBody and
// ResponseBody, the exact snake_case field names (every "always" field present, optional ones
// omitted), the tolerant decoding rules (unknown fields ignored, null like absent), refusal of
// malformed payloads without crashing, the request-type table of §7 and UUIDv4 ids.
#include "common/bus/envelope.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "common/base/json.h"

namespace sockudo::bus {
namespace {

using base::Json;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAreArray;

// The keys of a JSON object payload, in order.
std::vector<std::string> Keys(const std::string& payload) {
  auto parsed = base::ParseJson(payload);
  EXPECT_TRUE(parsed.has_value() && parsed->is_object()) << payload;
  std::vector<std::string> keys;
  if (!parsed.has_value() || !parsed->is_object()) return keys;
  for (const auto& [key, value] : parsed->items()) keys.push_back(key);
  return keys;
}

Json Parse(const std::string& payload) {
  auto parsed = base::ParseJson(payload);
  EXPECT_TRUE(parsed.has_value()) << payload;
  return parsed.value_or(Json());
}

constexpr RequestType kAllTypes[] = {
    RequestType::kChannelMembers,
    RequestType::kChannelMembersCount,
    RequestType::kChannelSockets,
    RequestType::kChannelSocketsCount,
    RequestType::kBatchChannelSocketsCount,
    RequestType::kSocketExistsInChannel,
    RequestType::kSockets,
    RequestType::kSocketsCount,
    RequestType::kChannels,
    RequestType::kChannelsWithSocketsCount,
    RequestType::kCountUserConnectionsInChannel,
    RequestType::kCountUserConnections,
    RequestType::kWatchlistUpdate,
    RequestType::kTerminateUserConnections,
    RequestType::kForceReconnect,
    RequestType::kPresenceMemberJoined,
    RequestType::kPresenceMemberLeft,
    RequestType::kPresenceMemberUpdated,
    RequestType::kHeartbeat,
    RequestType::kNodeDead,
    RequestType::kPresenceStateSync,
    RequestType::kAppChanged,
    RequestType::kChannelCountUpdate,
    RequestType::kChannelCountSync,
};

// ---------------------------------------------------------------------------------------------
// BroadcastMessage (§3.1)

TEST(EnvelopeBroadcastTest, RoundTripsEveryField) {
  BroadcastMessage m;
  m.node_id = "0b6c1c1e-7d1a-4c1e-9a4e-000000000001";
  m.app_id = "app-id";
  m.channel = "presence-room";
  m.message = R"({"event":"e","channel":"presence-room","data":"{\"a\":\"é\\n\"}"})";
  m.except_socket_id = "123.456";
  m.timestamp_ms = 1718000000123.456;

  auto decoded = DecodeBroadcast(EncodeBroadcast(m));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->node_id, m.node_id);
  EXPECT_EQ(decoded->app_id, m.app_id);
  EXPECT_EQ(decoded->channel, m.channel);
  EXPECT_EQ(decoded->message, m.message);  // byte for byte
  EXPECT_EQ(decoded->except_socket_id, m.except_socket_id);
  ASSERT_TRUE(decoded->timestamp_ms.has_value());
  // Milliseconds since the epoch with microsecond precision (§3).
  EXPECT_NEAR(*decoded->timestamp_ms, *m.timestamp_ms, 0.001);
  EXPECT_FALSE(decoded->presence_replication);
  EXPECT_FALSE(decoded->cache_event);
}

TEST(EnvelopeBroadcastTest, CacheEventIsSentOnlyWhenSetAndRoundTrips) {
  BroadcastMessage m{"node", "app", "cache-prices", "frame"};
  EXPECT_EQ(EncodeBroadcast(m).find("cache_event"), std::string::npos);
  m.cache_event = true;
  EXPECT_EQ(Parse(EncodeBroadcast(m))["cache_event"], true);
  auto decoded = DecodeBroadcast(EncodeBroadcast(m));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(decoded->cache_event);
}

TEST(EnvelopeBroadcastTest, FieldNamesAreThoseOfTheSpec) {
  BroadcastMessage m{"node", "app", "news", "frame", "1.2", 1718000000123.0};
  EXPECT_THAT(Keys(EncodeBroadcast(m)), ElementsAre("node_id", "app_id", "channel", "message",
                                                    "except_socket_id", "timestamp_ms"));
  const Json j = Parse(EncodeBroadcast(m));
  EXPECT_EQ(j["message"], "frame");  // a JSON string, not an embedded object
  EXPECT_TRUE(j["timestamp_ms"].is_number());
  EXPECT_DOUBLE_EQ(j["timestamp_ms"].get<double>(), 1718000000123.0);
}

TEST(EnvelopeBroadcastTest, AlwaysFieldsAreEmittedAsNullAndOptionalOnesOmitted) {
  BroadcastMessage m{"node", "app", "news", "frame", std::nullopt, std::nullopt};
  const std::string wire = EncodeBroadcast(m);
  EXPECT_THAT(Keys(wire), ElementsAre("node_id", "app_id", "channel", "message",
                                      "except_socket_id"));  // timestamp_ms is optional
  EXPECT_TRUE(Parse(wire)["except_socket_id"].is_null());
  auto decoded = DecodeBroadcast(wire);
  ASSERT_TRUE(decoded.ok());
  EXPECT_FALSE(decoded->except_socket_id.has_value());
  EXPECT_FALSE(decoded->timestamp_ms.has_value());
}

TEST(EnvelopeBroadcastTest, IgnoresUnknownFieldsAndTreatsNullAsAbsent) {
  auto m = DecodeBroadcast(
      R"({"node_id":"n","app_id":"a","channel":"c","message":"m","except_socket_id":null,)"
      R"("timestamp_ms":null,"idempotency_key":"k","ephemeral":true,"future":{"x":[1]}})");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->message, "m");
  EXPECT_FALSE(m->except_socket_id.has_value());
  EXPECT_FALSE(m->timestamp_ms.has_value());
  EXPECT_FALSE(m->presence_replication);
  // A missing always-field that is optional in meaning decodes as its default.
  auto lean = DecodeBroadcast(R"({"node_id":"n","app_id":"a","channel":"c","message":"m"})");
  ASSERT_TRUE(lean.ok());
  EXPECT_FALSE(lean->except_socket_id.has_value());
}

TEST(EnvelopeBroadcastTest, PresenceReplicationIsFlaggedEvenWithAnEmptyMessage) {
  auto m = DecodeBroadcast(
      R"({"node_id":"n","app_id":"a","channel":"c","message":"","except_socket_id":null,)"
      R"("presence_replication":{"action":"join"}})");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(m->presence_replication);
}

TEST(EnvelopeBroadcastTest, RefusesPayloadsWithoutRequiredFields) {
  for (const char* payload : {
           R"({"app_id":"a","channel":"c","message":"m"})",                 // node_id
           R"({"node_id":"n","channel":"c","message":"m"})",                // app_id
           R"({"node_id":"n","app_id":"a","message":"m"})",                 // channel
           R"({"node_id":"n","app_id":"a","channel":"c"})",                 // message
           R"({"node_id":"n","app_id":"a","channel":"c","message":""})",    // empty message
           R"({"node_id":null,"app_id":"a","channel":"c","message":"m"})",  // null = absent
           R"({"node_id":7,"app_id":"a","channel":"c","message":"m"})",     // wrong type
       }) {
    EXPECT_FALSE(DecodeBroadcast(payload).ok()) << payload;
  }
}

// ---------------------------------------------------------------------------------------------
// RequestBody (§3.2)

RequestBody FullRequest() {
  RequestBody r;
  r.request_id = "6f1d2c3b-4a59-4b6c-8d7e-8f9a0b1c2d3e";
  r.node_id = "node-a";
  r.app_id = "app-id";
  r.request_type = RequestType::kPresenceMemberJoined;
  r.channel = "presence-room";
  r.socket_id = "1.2";
  r.user_id_json = R"("alice")";
  r.user_info = Json{{"name", "Alice"}, {"tags", {1, 2}}};
  r.timestamp = 1718000000;
  r.dead_node_id = "node-x";
  r.target_node_id = "node-b";
  r.channels = std::vector<std::string>{"a", "b"};
  r.reply_to = "sockudo_adapter::#reply:0123";
  r.sequence_number = 42;
  return r;
}

TEST(EnvelopeRequestTest, RoundTripsEveryField) {
  const RequestBody r = FullRequest();
  auto decoded = DecodeRequest(EncodeRequest(r));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->request_id, r.request_id);
  EXPECT_EQ(decoded->node_id, r.node_id);
  EXPECT_EQ(decoded->app_id, r.app_id);
  EXPECT_EQ(decoded->request_type, r.request_type);
  EXPECT_EQ(decoded->channel, r.channel);
  EXPECT_EQ(decoded->socket_id, r.socket_id);
  EXPECT_EQ(decoded->user_id_json, r.user_id_json);
  EXPECT_EQ(decoded->UserIdKey(), "alice");
  EXPECT_EQ(decoded->user_info, r.user_info);
  EXPECT_EQ(decoded->timestamp, r.timestamp);
  EXPECT_EQ(decoded->dead_node_id, r.dead_node_id);
  EXPECT_EQ(decoded->target_node_id, r.target_node_id);
  EXPECT_EQ(decoded->channels, r.channels);
  EXPECT_EQ(decoded->reply_to, r.reply_to);
  EXPECT_EQ(decoded->sequence_number, r.sequence_number);
}

TEST(EnvelopeRequestTest, FieldNamesAreThoseOfTheSpec) {
  EXPECT_THAT(Keys(EncodeRequest(FullRequest())),
              ElementsAre("request_id", "node_id", "app_id", "request_type", "channel", "socket_id",
                          "user_id", "user_info", "timestamp", "dead_node_id", "target_node_id",
                          "channels", "reply_to", "sequence_number"));
  const Json j = Parse(EncodeRequest(FullRequest()));
  EXPECT_EQ(j["request_type"], "PresenceMemberJoined");  // PascalCase enum value
  EXPECT_EQ(j["user_id"], "alice");
  EXPECT_EQ(j["sequence_number"], 42);
  EXPECT_EQ(j["timestamp"], 1718000000);
}

TEST(EnvelopeRequestTest, AlwaysFieldsAreNullWhenEmptyAndOptionalOnesOmitted) {
  RequestBody r;
  r.request_id = "id";
  r.node_id = "n";
  r.app_id = "cluster";
  r.request_type = RequestType::kHeartbeat;
  const std::string wire = EncodeRequest(r);
  EXPECT_THAT(Keys(wire),
              ElementsAre("request_id", "node_id", "app_id", "request_type", "channel", "socket_id",
                          "user_id", "user_info", "timestamp", "dead_node_id", "target_node_id"));
  const Json j = Parse(wire);
  for (const char* key : {"channel", "socket_id", "user_id", "user_info", "timestamp",
                          "dead_node_id", "target_node_id"}) {
    EXPECT_TRUE(j[key].is_null()) << key;
  }
  auto decoded = DecodeRequest(wire);
  ASSERT_TRUE(decoded.ok());
  EXPECT_FALSE(decoded->channel.has_value());
  EXPECT_FALSE(decoded->user_id_json.has_value());
  EXPECT_FALSE(decoded->UserIdKey().has_value());
  EXPECT_FALSE(decoded->user_info.has_value());
  EXPECT_FALSE(decoded->channels.has_value());
  EXPECT_FALSE(decoded->reply_to.has_value());
  EXPECT_FALSE(decoded->sequence_number.has_value());
}

TEST(EnvelopeRequestTest, NumericUserIdsKeepTheirTypeAndDigits) {
  RequestBody r = FullRequest();
  r.user_id_json = "42";
  const std::string wire = EncodeRequest(r);
  EXPECT_TRUE(Parse(wire)["user_id"].is_number_integer());
  auto decoded = DecodeRequest(wire);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->user_id_json, "42");
  EXPECT_EQ(decoded->UserIdKey(), "42");

  // Past 2^64 the parser has only a double: the digits travel as written.
  r.user_id_json = "100000000000000000000000000001";
  decoded = DecodeRequest(EncodeRequest(r));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->user_id_json, "100000000000000000000000000001");
  EXPECT_EQ(decoded->UserIdKey(), "100000000000000000000000000001");
}

TEST(EnvelopeRequestTest, IgnoresUnknownFieldsAndWronglyTypedOptionalOnes) {
  auto r =
      DecodeRequest(R"({"request_id":"id","node_id":"n","app_id":"a","request_type":"Channels",)"
                    R"("channel":5,"socket_id":null,"user_id":{"x":1},"timestamp":1.5,)"
                    R"("channels":["a",3,"b"],"sequence_number":"7","brand_new_field":[1,2,3]})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->request_type, RequestType::kChannels);
  EXPECT_FALSE(r->channel.has_value());
  EXPECT_FALSE(r->socket_id.has_value());
  EXPECT_FALSE(r->user_id_json.has_value());
  EXPECT_FALSE(r->timestamp.has_value());
  EXPECT_FALSE(r->sequence_number.has_value());
  ASSERT_TRUE(r->channels.has_value());
  EXPECT_THAT(*r->channels, ElementsAre("a", "b"));
}

TEST(EnvelopeRequestTest, RefusesMissingRequiredFieldsAndUnknownTypes) {
  for (const char* payload : {
           R"({"node_id":"n","app_id":"a","request_type":"Channels"})",
           R"({"request_id":"i","app_id":"a","request_type":"Channels"})",
           R"({"request_id":"i","node_id":"n","request_type":"Channels"})",
           R"({"request_id":"i","node_id":"n","app_id":"a"})",
           R"({"request_id":"i","node_id":"n","app_id":"a","request_type":null})",
           R"({"request_id":"i","node_id":"n","app_id":"a","request_type":"channels"})",
           R"({"request_id":"i","node_id":"n","app_id":"a","request_type":"Teleport"})",
           R"({"request_id":"i","node_id":"n","app_id":"a","request_type":3})",
       }) {
    EXPECT_FALSE(DecodeRequest(payload).ok()) << payload;
  }
}

TEST(EnvelopeRequestTest, EveryRequestTypeNameRoundTrips) {
  std::set<std::string> names;
  for (RequestType type : kAllTypes) {
    const std::string name(RequestTypeName(type));
    EXPECT_TRUE(names.insert(name).second) << "duplicate name " << name;
    EXPECT_EQ(ParseRequestType(name), type) << name;
    RequestBody r;
    r.request_id = "id";
    r.node_id = "n";
    r.app_id = "a";
    r.request_type = type;
    auto decoded = DecodeRequest(EncodeRequest(r));
    ASSERT_TRUE(decoded.ok()) << name;
    EXPECT_EQ(decoded->request_type, type) << name;
  }
  EXPECT_EQ(names.size(), 24u);
  EXPECT_EQ(ParseRequestType("Unknown"), std::nullopt);
  EXPECT_EQ(ParseRequestType(""), std::nullopt);
}

TEST(EnvelopeRequestTest, FireAndForgetAndFastClassesFollowSection7) {
  std::vector<std::string> fire_and_forget, fast;
  for (RequestType type : kAllTypes) {
    if (IsFireAndForget(type)) fire_and_forget.emplace_back(RequestTypeName(type));
    if (IsFastRequest(type)) fast.emplace_back(RequestTypeName(type));
  }
  EXPECT_THAT(fire_and_forget,
              UnorderedElementsAreArray({"WatchlistUpdate", "PresenceMemberJoined",
                                         "PresenceMemberLeft", "PresenceMemberUpdated", "Heartbeat",
                                         "NodeDead", "PresenceStateSync", "AppChanged",
                                         "ChannelCountUpdate", "ChannelCountSync"}));
  // §6.3 names four; §7 puts the ext CountUserConnections in the fast class too.
  EXPECT_THAT(fast, UnorderedElementsAreArray({"SocketExistsInChannel", "Sockets", "SocketsCount",
                                               "Channels", "CountUserConnections"}));
}

// ---------------------------------------------------------------------------------------------
// ResponseBody (§3.3)

TEST(EnvelopeResponseTest, RoundTripsEveryField) {
  ResponseBody r;
  r.request_id = "id";
  r.node_id = "node-b";
  r.app_id = "app-id";
  r.members["alice"] = {R"("alice")", R"({"name":"Alice"})"};
  r.members["7"] = {"7", "null"};
  r.channels_with_sockets_count = {{"news", 3}, {"presence-room", 1}};
  r.socket_ids = {"1.1", "1.2"};
  r.sockets_count = 2;
  r.exists = true;
  r.channels = {"news", "presence-room"};
  r.members_count = 2;

  auto decoded = DecodeResponse(EncodeResponse(r));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->request_id, "id");
  EXPECT_EQ(decoded->node_id, "node-b");
  EXPECT_EQ(decoded->app_id, "app-id");
  ASSERT_EQ(decoded->members.size(), 2u);
  EXPECT_EQ(decoded->members["alice"].user_id_json, R"("alice")");
  EXPECT_EQ(decoded->members["alice"].user_info_json, R"({"name":"Alice"})");
  EXPECT_EQ(decoded->members["7"].user_id_json, "7");  // a number stays a number
  EXPECT_EQ(decoded->members["7"].user_info_json, "null");
  EXPECT_EQ(decoded->channels_with_sockets_count, r.channels_with_sockets_count);
  EXPECT_EQ(decoded->socket_ids, r.socket_ids);
  EXPECT_EQ(decoded->sockets_count, 2);
  EXPECT_TRUE(decoded->exists);
  EXPECT_EQ(decoded->channels, r.channels);
  EXPECT_EQ(decoded->members_count, 2);
  EXPECT_TRUE(decoded->complete);
}

TEST(EnvelopeResponseTest, FieldNamesAreThoseOfTheSpecAndRespondersSendDefaults) {
  ResponseBody r;
  r.request_id = "id";
  r.node_id = "n";
  r.app_id = "a";
  r.members["7"] = {"7", "null"};
  // Whatever the in-memory aggregate says, a responder sends 0, 0, true.
  r.responses_received = 3;
  r.expected_responses = 4;
  r.complete = false;
  const std::string wire = EncodeResponse(r);
  EXPECT_THAT(Keys(wire), ElementsAre("request_id", "node_id", "app_id", "members",
                                      "channels_with_sockets_count", "socket_ids", "sockets_count",
                                      "exists", "channels", "members_count", "responses_received",
                                      "expected_responses", "complete"));
  const Json j = Parse(wire);
  EXPECT_EQ(j["responses_received"], 0);
  EXPECT_EQ(j["expected_responses"], 0);
  EXPECT_EQ(j["complete"], true);
  EXPECT_EQ(j["exists"], false);
  EXPECT_TRUE(j["members"]["7"]["user_id"].is_number_integer());
  EXPECT_THAT(Keys(base::Dump(j["members"]["7"])), ElementsAre("user_id", "user_info"));

  // Empty values are emitted, not left out (§3: strict decoders interoperate).
  ResponseBody empty;
  empty.request_id = "id";
  empty.node_id = "n";
  empty.app_id = "a";
  const Json e = Parse(EncodeResponse(empty));
  EXPECT_TRUE(e["members"].is_object() && e["members"].empty());
  EXPECT_TRUE(e["channels_with_sockets_count"].is_object() &&
              e["channels_with_sockets_count"].empty());
  EXPECT_TRUE(e["socket_ids"].is_array() && e["socket_ids"].empty());
  EXPECT_TRUE(e["channels"].is_array() && e["channels"].empty());
  EXPECT_EQ(e["sockets_count"], 0);
  EXPECT_EQ(e["members_count"], 0);
}

TEST(EnvelopeResponseTest, DecodesLeanAndSloppyResponses) {
  // Only the required fields: everything else takes its default.
  auto lean = DecodeResponse(R"({"request_id":"i","node_id":"n","app_id":"a"})");
  ASSERT_TRUE(lean.ok()) << lean.status();
  EXPECT_TRUE(lean->members.empty());
  EXPECT_EQ(lean->sockets_count, 0);
  EXPECT_FALSE(lean->exists);
  EXPECT_TRUE(lean->complete);

  // Wrong types inside are skipped, not fatal.
  auto sloppy = DecodeResponse(
      R"({"request_id":"i","node_id":"n","app_id":"a","members":{"x":5,"y":{"user_id":null},)"
      R"("z":{"user_id":"z","user_info":null}},"channels_with_sockets_count":{"a":1,"b":"2"},)"
      R"("socket_ids":["1.1",2],"sockets_count":"3","exists":"yes","channels":"news",)"
      R"("members_count":null,"extra":true})");
  ASSERT_TRUE(sloppy.ok()) << sloppy.status();
  ASSERT_EQ(sloppy->members.size(), 1u);
  EXPECT_EQ(sloppy->members["z"].user_id_json, R"("z")");
  EXPECT_EQ(sloppy->members["z"].user_info_json, "null");
  EXPECT_EQ(sloppy->channels_with_sockets_count, (std::map<std::string, int64_t>{{"a", 1}}));
  EXPECT_THAT(sloppy->socket_ids, ElementsAre("1.1"));
  EXPECT_EQ(sloppy->sockets_count, 0);
  EXPECT_FALSE(sloppy->exists);
  EXPECT_TRUE(sloppy->channels.empty());
  EXPECT_EQ(sloppy->members_count, 0);
}

TEST(EnvelopeResponseTest, RefusesMissingRequiredFields) {
  for (const char* payload : {
           R"({"node_id":"n","app_id":"a"})",
           R"({"request_id":"i","app_id":"a"})",
           R"({"request_id":"i","node_id":"n"})",
           R"({"request_id":null,"node_id":"n","app_id":"a"})",
           R"({"request_id":1,"node_id":"n","app_id":"a"})",
       }) {
    EXPECT_FALSE(DecodeResponse(payload).ok()) << payload;
  }
}

// ---------------------------------------------------------------------------------------------
// Malformed payloads never crash a decoder (§3: dropped and counted).

TEST(EnvelopeMalformedTest, GarbageIsRefusedByEveryDecoder) {
  const std::vector<std::string> garbage = {
      "",
      " ",
      "{",
      "}",
      "null",
      "true",
      "42",
      "\"string\"",
      "[]",
      R"([{"node_id":"n"}])",
      "{\"node_id\":\"n\"",
      "{\"a\":1}trailing",
      std::string("{\"node_id\":\"\xFF\xFE\"}"),
      std::string(1, '\0'),
      std::string(100, '[') + std::string(100, ']'),
      "{\"x\":" + std::string(200, '[') + std::string(200, ']') + "}",
      R"({"request_id":"i","node_id":"n","app_id":"a","request_type":"Channels")",
  };
  for (const std::string& payload : garbage) {
    EXPECT_FALSE(DecodeBroadcast(payload).ok()) << payload;
    EXPECT_FALSE(DecodeRequest(payload).ok()) << payload;
    EXPECT_FALSE(DecodeResponse(payload).ok()) << payload;
  }
}

TEST(EnvelopeMalformedTest, MutatedPayloadsNeverCrash) {
  BroadcastMessage b{"n", "a", "c", R"({"event":"x"})", "1.1", 1.5};
  ResponseBody resp;
  resp.request_id = "i";
  resp.node_id = "n";
  resp.app_id = "a";
  resp.members["7"] = {"7", R"({"k":[1,2]})"};
  resp.channels_with_sockets_count["news"] = 2;
  resp.socket_ids = {"1.1"};
  const std::vector<std::string> seeds = {EncodeBroadcast(b), EncodeRequest(FullRequest()),
                                          EncodeResponse(resp)};
  std::mt19937 rng(20240611);  // fixed seed: deterministic
  std::string alphabet = "{}[]\":,0123456789-.eE\\ntrufalsx\xFF";
  alphabet.push_back('\0');
  int decoded = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string s = seeds[i % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const size_t pos = rng() % s.size();
      switch (rng() % 3) {
        case 0:
          s[pos] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          s.erase(pos, 1 + rng() % 3);
          break;
        default:
          s.insert(pos, 1, alphabet[rng() % alphabet.size()]);
      }
    }
    decoded += DecodeBroadcast(s).ok() + DecodeRequest(s).ok() + DecodeResponse(s).ok();
  }
  // Some mutations still parse; what matters is that none crashed or threw.
  SUCCEED() << decoded << " mutated payloads decoded";
}

// ---------------------------------------------------------------------------------------------
// Ids (§1)

TEST(EnvelopeUuidTest, NewUuidIsALowercaseHyphenatedVersion4Uuid) {
  const std::regex uuid_v4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewUuid();
    ASSERT_EQ(id.size(), 36u) << id;
    ASSERT_TRUE(std::regex_match(id, uuid_v4)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);  // never reused
}

TEST(EnvelopeUuidTest, UuidHexIsThe32HexDigits) {
  EXPECT_EQ(UuidHex("0b6c1c1e-7d1a-4c1e-9a4e-00000000000f"), "0b6c1c1e7d1a4c1e9a4e00000000000f");
  const std::string hex = UuidHex(NewUuid());
  EXPECT_TRUE(std::regex_match(hex, std::regex("^[0-9a-f]{32}$"))) << hex;
}

}  // namespace
}  // namespace sockudo::bus
