// File: envelope.h
// The JSON payloads of the bus: BroadcastMessage, RequestBody, ResponseBody, with the request types
// of RequestType. Encoding emits every "always" field; decoding ignores unknown fields, treats null
// like absent, and refuses a payload without a required field or with an unknown request type (the
// caller drops it and counts it). A broadcast's `message` is the ready Pusher frame: it is carried
// as a JSON string and written to sockets byte for byte.
//
//   std::string wire = EncodeBroadcast({.node_id = id, .app_id = "app", .channel = "news",
//                                       .message = frame_text});
//   absl::StatusOr<BroadcastMessage> in = DecodeBroadcast(wire);
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/base/json.h"

namespace sockudo::bus {

struct BroadcastMessage {
  std::string node_id;
  std::string app_id;
  std::string channel;
  std::string message;  // the Pusher frame text
  std::optional<std::string> except_socket_id;
  std::optional<double> timestamp_ms;  // publish start, for the cross-node latency metric
  bool presence_replication = false;   // V2 field seen on receipt: never delivered
  // Set by the control plane's Events API, which has no channel cache of its own: each node
  // keeps the event of a cache channel in its cache as it delivers it.
  bool cache_event = false;
};

enum class RequestType {
  kChannelMembers,
  kChannelMembersCount,
  kChannelSockets,
  kChannelSocketsCount,
  kBatchChannelSocketsCount,
  kSocketExistsInChannel,
  kSockets,
  kSocketsCount,
  kChannels,
  kChannelsWithSocketsCount,
  kCountUserConnectionsInChannel,
  kCountUserConnections,
  kWatchlistUpdate,
  kTerminateUserConnections,
  kForceReconnect,
  kPresenceMemberJoined,
  kPresenceMemberLeft,
  kPresenceMemberUpdated,
  kHeartbeat,
  kNodeDead,
  kPresenceStateSync,
  kAppChanged,
  kChannelCountUpdate,  // reserved: never sent, ignored
  kChannelCountSync,    // reserved: never sent, ignored
};

std::string_view RequestTypeName(RequestType type);
std::optional<RequestType> ParseRequestType(std::string_view name);
// Fire-and-forget types never get a response.
bool IsFireAndForget(RequestType type);
// The fast class, which waits a shorter deadline (RequestTimeout): SocketExistsInChannel,
// SocketsCount, Channels, Sockets.
bool IsFastRequest(RequestType type);

struct RequestBody {
  std::string request_id;
  std::string node_id;
  std::string app_id;
  RequestType request_type = RequestType::kHeartbeat;
  std::optional<std::string> channel;
  std::optional<std::string> socket_id;
  // A presence user id keeps its JSON type: the JSON text ("\"7\"" or "7"), or nullopt.
  std::optional<std::string> user_id_json;
  std::optional<base::Json> user_info;
  std::optional<int64_t> timestamp;
  std::optional<std::string> dead_node_id;
  std::optional<std::string> target_node_id;
  std::optional<std::vector<std::string>> channels;
  std::optional<std::string> reply_to;
  std::optional<int64_t> sequence_number;

  // The user id as a string: the text of a string id, the digits of a number.
  std::optional<std::string> UserIdKey() const;
};

struct PresenceMemberInfo {
  std::string user_id_json;  // original JSON type
  std::string user_info_json = "null";
};

struct ResponseBody {
  std::string request_id;
  std::string node_id;
  std::string app_id;
  std::map<std::string, PresenceMemberInfo> members;  // user id key -> member
  std::map<std::string, int64_t> channels_with_sockets_count;
  std::vector<std::string> socket_ids;
  int64_t sockets_count = 0;
  bool exists = false;
  std::vector<std::string> channels;
  int64_t members_count = 0;
  int64_t responses_received = 0;
  int64_t expected_responses = 0;
  bool complete = true;
};

std::string EncodeBroadcast(const BroadcastMessage& m);
absl::StatusOr<BroadcastMessage> DecodeBroadcast(std::string_view payload);
std::string EncodeRequest(const RequestBody& r);
absl::StatusOr<RequestBody> DecodeRequest(std::string_view payload);
std::string EncodeResponse(const ResponseBody& r);
absl::StatusOr<ResponseBody> DecodeResponse(std::string_view payload);

// A random UUIDv4, lowercase and hyphenated (node ids, request ids).
std::string NewUuid();
// The 32 hex digits of a UUID (reply inbox names).
std::string UuidHex(std::string_view uuid);

}  // namespace sockudo::bus
