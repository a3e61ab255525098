// File: client_ip.h
// The client IP a per-IP limit counts: with `trust_hops` = 0 the TCP peer; with n > 0 the n-th
// entry from the right of X-Forwarded-For when it is a valid IP, else X-Real-IP when valid, else
// the peer. X-Real-IP is not read without trusted hops (a client can set it).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sockudo::dataplane::limits {

std::string ClientIp(std::string_view peer, std::string_view forwarded_for,
                     std::string_view real_ip, int64_t trust_hops);

// An IPv4 or IPv6 address in text form.
bool IsIpAddress(std::string_view text);

}  // namespace sockudo::dataplane::limits
