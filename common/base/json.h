// File: json.h
// JSON helpers shared by every binary. Outbound Pusher frames are built by concatenation with
// AppendJsonString, which escapes exactly like JavaScript's JSON.stringify (non-ASCII kept as
// UTF-8, control characters escaped), so frames match what real clients expect byte for byte.
//
//   std::string frame = "{\"event\":";
//   sockudo::base::AppendJsonString(frame, name);
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "nlohmann/json.hpp"

namespace sockudo::base {

using Json = nlohmann::ordered_json;

// Appends `value` as a quoted, escaped JSON string. Invalid UTF-8 bytes are replaced with U+FFFD.
void AppendJsonString(std::string& out, std::string_view value);

// Returns `value` as a quoted JSON string.
std::string JsonString(std::string_view value);

// Compact serialization (no spaces, UTF-8 kept, invalid UTF-8 replaced).
std::string Dump(const Json& value);

// True when the nesting depth of arrays/objects in `text` exceeds `max_depth`. Cheap scan that
// runs before a parse so hostile input cannot make the parser go deep.
bool JsonDepthExceeds(std::string_view text, int max_depth);

// Parses `text` without throwing; nullopt when it is not valid JSON or nests deeper than 64.
std::optional<Json> ParseJson(std::string_view text);

// The JSON text of member `key` of the object `object_text` (which must already have parsed as a
// JSON object), exactly as written, without surrounding whitespace; the last one when the key
// repeats (as the parser keeps it). nullopt when absent. For numbers whose text the parser would
// not keep: 100000000000000000000000000001 parses to a double and would print as 1e+29.
std::optional<std::string_view> RawMember(std::string_view object_text, std::string_view key);

// True when `text` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool IsValidUtf8(std::string_view text);

}  // namespace sockudo::base
