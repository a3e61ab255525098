// File: body_serializer.h
// The webhook body bytes: compact JSON that is a fixed point of JavaScript's
// JSON.stringify(JSON.parse(body)), so a receiver that verifies the signature over a re-serialized
// body gets the same bytes. Strings escape only `"`, `\` and U+0000-U+001F (lowercase \u00xx),
// numbers follow JavaScript's Number#toString, object keys that are canonical array indices come
// first in ascending order, then the other keys in insertion order.
//
//   std::string body = WebhookBody(1700000000000, events);  // {"time_ms":...,"events":[...]}
#pragma once

#include <cstdint>
#include <string>

#include "common/base/json.h"

namespace sockudo::dataplane::webhooks {

// Appends `value` serialized with the rules above.
void AppendJs(std::string& out, const base::Json& value);
std::string SerializeJs(const base::Json& value);
// A number as JavaScript prints it (shortest round trip, `1e+21`, `1.5e-7`, `-0` -> `0`).
std::string JsNumber(double value);
// {"time_ms":<time_ms>,"events":[<event>,...]}
std::string WebhookBody(int64_t time_ms, const base::Json& events);

}  // namespace sockudo::dataplane::webhooks
