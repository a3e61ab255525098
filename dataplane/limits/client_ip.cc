#include "dataplane/limits/client_ip.h"

#include <arpa/inet.h>

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"

namespace sockudo::dataplane::limits {

bool IsIpAddress(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return false;
  const std::string s(text);
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

std::string ClientIp(std::string_view peer, std::string_view forwarded_for,
                     std::string_view real_ip, int64_t trust_hops) {
  if (trust_hops <= 0) return std::string(peer);
  std::vector<absl::string_view> hops = absl::StrSplit(
      absl::string_view(forwarded_for.data(), forwarded_for.size()), ',', absl::SkipWhitespace());
  if (static_cast<int64_t>(hops.size()) >= trust_hops) {
    absl::string_view candidate = absl::StripAsciiWhitespace(hops[hops.size() - trust_hops]);
    if (IsIpAddress(std::string_view(candidate.data(), candidate.size()))) {
      return std::string(candidate);
    }
  }
  absl::string_view real = absl::StripAsciiWhitespace(absl::string_view(real_ip.data(), real_ip.size()));
  if (IsIpAddress(std::string_view(real.data(), real.size()))) return std::string(real);
  return std::string(peer);
}

}  // namespace sockudo::dataplane::limits
