// File: app_reader.h
// Reads an app record from JSON in any accepted form: the flat snake_case form, Sockudo's nested
// `policy` form and soketi's camelCase aliases. Numbers may be given as numeric strings; an empty
// string counts as absent. Errors name the field.
//
//   absl::StatusOr<App> app = ReadApp(json);
#pragma once

#include "absl/status/statusor.h"
#include "common/apps/app.h"
#include "common/base/json.h"

namespace sockudo::apps {

absl::StatusOr<App> ReadApp(const base::Json& record);
// The full record as stores persist it (secret and message_rate_limit included); ReadApp reads
// it back to an equal App.
base::Json StoredRecord(const App& app);

}  // namespace sockudo::apps
