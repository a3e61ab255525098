// File: pusher_signature.h
// The signature formulas of the Pusher Channels protocol and HTTP API: channel and sign-in auth
// strings presented by clients, and the signed query of HTTP API requests.
//
//   bool ok = VerifyClientAuth(app.key, app.secret, auth, socket_id + ":" + channel);
//   std::string sig = SignHttpRequest(secret, "POST", "/apps/1/events", params);
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sockudo::crypto {

// "<app_key>:<hex hmac of string_to_sign>", as an app backend returns it to a client.
std::string ClientAuth(std::string_view app_key, std::string_view secret,
                       std::string_view string_to_sign);

// Checks an `auth` value of the form "<app_key>:<64 lowercase hex>" against the expected
// signature of `string_to_sign`, in constant time.
bool VerifyClientAuth(std::string_view app_key, std::string_view secret, std::string_view auth,
                      std::string_view string_to_sign);

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// "k1=v1&k2=v2": keys lowercased, sorted bytewise, `auth_signature` left out, the last value of
// a repeated key kept. Values must already be percent-decoded.
std::string CanonicalQuery(const QueryParams& params);

// HMAC of "METHOD\npath\ncanonical query".
std::string SignHttpRequest(std::string_view secret, std::string_view method, std::string_view path,
                            const QueryParams& params);

}  // namespace sockudo::crypto
