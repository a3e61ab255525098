#include "controlplane/rest/rest_call.h"

#include <charconv>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"

namespace sockudo::controlplane::rest {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && HexValue(in[i + 1]) >= 0 && HexValue(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2])));
      i += 2;
    } else if (plus_is_space && in[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

std::string_view View(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace

bool RestCall::Parse(std::string_view target) {
  const size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  if (question != std::string_view::npos) {
    for (absl::string_view part : absl::StrSplit(
             absl::string_view(target.substr(question + 1).data(), target.size() - question - 1),
             '&', absl::SkipEmpty())) {
      std::pair<absl::string_view, absl::string_view> kv =
          absl::StrSplit(part, absl::MaxSplits('=', 1));
      query[PercentDecode(View(kv.first), true)] = PercentDecode(View(kv.second), true);
    }
  }
  constexpr std::string_view kPrefix = "/v1/";
  if (path.substr(0, kPrefix.size()) != kPrefix) return false;
  path.remove_prefix(kPrefix.size());
  for (absl::string_view raw : absl::StrSplit(absl::string_view(path.data(), path.size()), '/')) {
    segments.push_back(std::string(View(raw)));
  }
  // A custom verb ends the last segment (":rotateSecret"); decoded text may contain ':'.
  if (!segments.empty()) {
    std::string& last = segments.back();
    if (size_t colon = last.rfind(':'); colon != std::string::npos) {
      verb = PercentDecode(std::string_view(last).substr(colon + 1), false);
      last.resize(colon);
    }
  }
  for (std::string& s : segments) s = PercentDecode(s, false);
  return true;
}

std::string RestCall::Path() const {
  return absl::StrCat("/v1/", absl::StrJoin(segments, "/"), verb.empty() ? "" : ":", verb);
}

absl::Status ParseBody(const std::string& body, google::protobuf::Message* message) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return absl::OkStatus();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(body, message, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("body: ", std::string(status.message())));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message) {
  std::string out;
  auto status = google::protobuf::util::MessageToJsonString(message, &out);
  if (!status.ok()) return absl::InternalError(std::string(status.message()));
  return out;
}

absl::StatusOr<int> QueryInt(const RestCall& call, const std::string& name) {
  auto it = call.query.find(name);
  if (it == call.query.end()) return 0;
  int value = 0;
  const std::string& text = it->second;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": expected an integer"));
  }
  return value;
}

void ParseMask(const std::string& text, google::protobuf::FieldMask* mask) {
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    std::string path;
    for (char c : part) {
      if (c >= 'A' && c <= 'Z') {
        path.push_back('_');
        path.push_back(static_cast<char>(c - 'A' + 'a'));
      } else {
        path.push_back(c);
      }
    }
    mask->add_paths(std::move(path));
  }
}

absl::Status MethodNotAllowed(const RestCall& call) {
  return absl::UnimplementedError(absl::StrCat(call.method, " is not supported on ", call.Path()));
}

}  // namespace sockudo::controlplane::rest
