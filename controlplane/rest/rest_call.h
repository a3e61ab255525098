// File: rest_call.h
// One parsed REST call and the JSON helpers every route uses: the path after /v1/ split into
// percent-decoded segments, a custom verb (`/v1/apps/a1:rotateSecret`), the query, the body,
// and protobuf's JSON mapping both ways (camelCase out, camelCase or snake_case in, unknown
// fields refused with INVALID_ARGUMENT naming `body`).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "controlplane/audit/audit_log.h"
#include "controlplane/rest/event_stream.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/message.h"

namespace sockudo::controlplane::rest {

// The JSON answer of a route, or its error; called once, from any thread.
using JsonReply = std::function<void(absl::StatusOr<std::string>)>;

struct RestCall {
  std::string method;
  std::vector<std::string> segments;  // "/v1/apps/a1/channels" -> {"apps", "a1", "channels"}
  std::string verb;                   // "rotateSecret", "terminate", or ""
  std::map<std::string, std::string> query;
  std::string body;
  audit::Call* audit = nullptr;  // routes fill in method and resource
  // Set by a route that answers with a stream of events (then it replies OK with no body).
  std::shared_ptr<EventStream> stream;

  // Parses `target` ("/v1/..."?query). False when it is not under /v1/.
  bool Parse(std::string_view target);
  std::string Path() const;  // for "no route" messages
};

absl::Status ParseBody(const std::string& body, google::protobuf::Message* message);
absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message);
// An integer query parameter (INVALID_ARGUMENT naming it), 0 when absent.
absl::StatusOr<int> QueryInt(const RestCall& call, const std::string& name);
// page_size and page_token of a List call, from the query.
template <typename ListRequest>
absl::Status ParsePaging(const RestCall& call, ListRequest* request) {
  auto size = QueryInt(call, "page_size");
  if (!size.ok()) return size.status();
  request->set_page_size(*size);
  if (auto it = call.query.find("page_token"); it != call.query.end()) {
    request->set_page_token(it->second);
  }
  return absl::OkStatus();
}
// `update_mask` as comma-separated snake_case paths or JSON names, mixed freely.
void ParseMask(const std::string& text, google::protobuf::FieldMask* mask);
absl::Status MethodNotAllowed(const RestCall& call);

// A service's answer as the route's reply.
template <typename T>
void ReplyWith(const JsonReply& reply, const absl::StatusOr<T>& result) {
  if (!result.ok()) return reply(result.status());
  reply(ToJson(*result));
}

}  // namespace sockudo::controlplane::rest
