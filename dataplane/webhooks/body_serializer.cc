#include "dataplane/webhooks/body_serializer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <utility>
#include <vector>

namespace sockudo::dataplane::webhooks {
namespace {

void AppendString(std::string& out, const std::string& s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (unsigned char ch : s) {
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default:
        if (ch < 0x20) {
          out += "\\u00";
          out.push_back(kHex[ch >> 4]);
          out.push_back(kHex[ch & 0xf]);
        } else {
          out.push_back(static_cast<char>(ch));
        }
    }
  }
  out.push_back('"');
}

// A canonical array index: "0".."4294967294" without leading zeros.
bool ArrayIndex(const std::string& key, uint64_t* index) {
  if (key.empty() || key.size() > 10) return false;
  if (key.size() > 1 && key[0] == '0') return false;
  uint64_t v = 0;
  for (char c : key) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > 4294967294ULL) return false;
  *index = v;
  return true;
}

constexpr int64_t kSafe = int64_t{1} << 53;

}  // namespace

std::string JsNumber(double value) {
  if (!std::isfinite(value)) return "null";  // JSON.stringify(NaN / Infinity)
  if (value == 0) return "0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  // sci = [-]d[.ddd]e[+-]xx
  bool negative = sci[0] == '-';
  if (negative) sci.erase(0, 1);
  const size_t e = sci.find('e');
  std::string digits;
  for (size_t i = 0; i < e; ++i) {
    if (sci[i] != '.') digits.push_back(sci[i]);
  }
  const int exp = std::atoi(sci.c_str() + e + 1);
  const int k = static_cast<int>(digits.size());
  const int n = exp + 1;  // position of the decimal point
  std::string out = negative ? "-" : "";
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, static_cast<size_t>(n));
    out += '.';
    out += digits.substr(static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += (n - 1) >= 0 ? '+' : '-';
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

void AppendJs(std::string& out, const base::Json& value) {
  switch (value.type()) {
    case base::Json::value_t::null:
    case base::Json::value_t::discarded:
      out += "null";
      return;
    case base::Json::value_t::boolean:
      out += value.get<bool>() ? "true" : "false";
      return;
    case base::Json::value_t::number_integer: {
      const int64_t v = value.get<int64_t>();
      if (v > -kSafe && v < kSafe) {
        out += std::to_string(v);
      } else {
        out += JsNumber(static_cast<double>(v));
      }
      return;
    }
    case base::Json::value_t::number_unsigned: {
      const uint64_t v = value.get<uint64_t>();
      if (v < static_cast<uint64_t>(kSafe)) {
        out += std::to_string(v);
      } else {
        out += JsNumber(static_cast<double>(v));
      }
      return;
    }
    case base::Json::value_t::number_float:
      out += JsNumber(value.get<double>());
      return;
    case base::Json::value_t::string:
      AppendString(out, value.get_ref<const std::string&>());
      return;
    case base::Json::value_t::binary:
      out += "null";
      return;
    case base::Json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : value) {
        if (!first) out.push_back(',');
        first = false;
        AppendJs(out, item);
      }
      out.push_back(']');
      return;
    }
    case base::Json::value_t::object: {
      std::vector<std::pair<uint64_t, const std::string*>> indices;
      for (auto it = value.begin(); it != value.end(); ++it) {
        uint64_t index = 0;
        if (ArrayIndex(it.key(), &index)) indices.emplace_back(index, &it.key());
      }
      std::sort(indices.begin(), indices.end());
      out.push_back('{');
      bool first = true;
      auto member = [&](const std::string& key, const base::Json& v) {
        if (!first) out.push_back(',');
        first = false;
        AppendString(out, key);
        out.push_back(':');
        AppendJs(out, v);
      };
      for (const auto& [index, key] : indices) member(*key, value.at(*key));
      for (auto it = value.begin(); it != value.end(); ++it) {
        uint64_t index = 0;
        if (!ArrayIndex(it.key(), &index)) member(it.key(), it.value());
      }
      out.push_back('}');
      return;
    }
  }
}

std::string SerializeJs(const base::Json& value) {
  std::string out;
  AppendJs(out, value);
  return out;
}

std::string WebhookBody(int64_t time_ms, const base::Json& events) {
  std::string out = "{\"time_ms\":";
  out += std::to_string(time_ms);
  out += ",\"events\":";
  AppendJs(out, events);
  out.push_back('}');
  return out;
}

}  // namespace sockudo::dataplane::webhooks
