// File: hmac.h
// Hashes and MACs used by every Pusher signature, as lowercase hex, plus a constant-time compare
// and a CSPRNG. Thread-safe; wraps OpenSSL.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sockudo::crypto {

std::string HmacSha256Hex(std::string_view key, std::string_view message);
std::string Md5Hex(std::string_view data);

// Compares in time that depends only on the lengths, never on where the inputs differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Uniform random integer in [0, bound) from the OpenSSL CSPRNG.
uint64_t SecureRandom(uint64_t bound);

}  // namespace sockudo::crypto
