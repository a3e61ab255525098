#include "controlplane/rest/rest_router.h"

#include <charconv>
#include <exception>
#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base/status_macros.h"
#include "controlplane/audit/audit_log.h"
#include "controlplane/rest/http_status.h"
#include "controlplane/service/app_proto.h"
#include "google/protobuf/util/json_util.h"

namespace sockudo::controlplane::rest {
namespace {

using google::protobuf::Message;

constexpr std::string_view kAppsPath = "/v1/apps";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && HexValue(in[i + 1]) >= 0 && HexValue(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2])));
      i += 2;
    } else if (in[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

std::map<std::string, std::string> ParseQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  for (absl::string_view part :
       absl::StrSplit(absl::string_view(query.data(), query.size()), '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(part, absl::MaxSplits('=', 1));
    out[PercentDecode(std::string_view(kv.first.data(), kv.first.size()))] =
        PercentDecode(std::string_view(kv.second.data(), kv.second.size()));
  }
  return out;
}

absl::Status ParseBody(const std::string& body, Message* message) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return absl::OkStatus();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(body, message, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("body: ", std::string(status.message())));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ToJson(const Message& message) {
  std::string out;
  auto status = google::protobuf::util::MessageToJsonString(message, &out);
  if (!status.ok()) return absl::InternalError(std::string(status.message()));
  return out;
}

template <typename T>
absl::StatusOr<std::string> Respond(absl::StatusOr<T> result) {
  if (!result.ok()) return result.status();
  return ToJson(*result);
}

// `update_mask` as comma-separated snake_case paths ("max_connections") or JSON names
// ("maxConnections"), mixed freely.
absl::Status ParseMask(const std::string& text, google::protobuf::FieldMask* mask) {
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
  return absl::OkStatus();
}

}  // namespace

RestResponse RestRouter::Handle(const RestRequest& request) const {
  audit::Call call{"rest", request.peer, "anonymous", "", ""};
  const size_t question = request.target.find('?');
  const std::string path = PercentDecode(std::string_view(request.target).substr(0, question));
  const auto query = question == std::string::npos
                         ? std::map<std::string, std::string>()
                         : ParseQuery(std::string_view(request.target).substr(question + 1));
  call.method = absl::StrCat(request.method, " ", path);

  absl::StatusOr<std::string> result = absl::NotFoundError(absl::StrCat("no route ", path));
  absl::Status auth = auth_->Check(request.authorization);
  if (!auth.ok()) {
    result = auth;
  } else {
    if (auth_->enabled()) call.principal = "token";
    try {
      if (path == kAppsPath) {
        call.resource = "apps";
        if (request.method == "GET") {
          call.method = "ListApps";
          v1::ListAppsRequest list;
          result = [&]() -> absl::StatusOr<std::string> {
            if (auto it = query.find("page_size"); it != query.end()) {
              int size = 0;
              auto [end, ec] =
                  std::from_chars(it->second.data(), it->second.data() + it->second.size(), size);
              if (ec != std::errc() || end != it->second.data() + it->second.size()) {
                return absl::InvalidArgumentError("page_size: expected an integer");
              }
              list.set_page_size(size);
            }
            if (auto it = query.find("page_token"); it != query.end()) {
              list.set_page_token(it->second);
            }
            return Respond(apps_->ListApps(list));
          }();
        } else if (request.method == "POST") {
          call.method = "CreateApp";
          v1::CreateAppRequest create;
          result = [&]() -> absl::StatusOr<std::string> {
            SOCKUDO_RETURN_IF_ERROR(ParseBody(request.body, create.mutable_app()));
            if (auto it = query.find("app_id"); it != query.end()) create.set_app_id(it->second);
            return Respond(apps_->CreateApp(create));
          }();
        } else {
          result =
              absl::UnimplementedError(absl::StrCat(request.method, " is not supported on ", path));
        }
      } else if (absl::StartsWith(path, std::string(kAppsPath) + "/")) {
        std::string rest = path.substr(kAppsPath.size() + 1);
        std::string verb;
        if (size_t colon = rest.find(':'); colon != std::string::npos) {
          verb = rest.substr(colon + 1);
          rest.resize(colon);
        }
        const std::string name = service::AppName(rest);
        call.resource = name;
        if (rest.empty() || rest.find('/') != std::string::npos) {
          result = absl::NotFoundError(absl::StrCat("no route ", path));
        } else if (!verb.empty()) {
          if (request.method != "POST") {
            result = absl::UnimplementedError(
                absl::StrCat(request.method, " is not supported on ", path));
          } else if (verb == "rotateSecret") {
            call.method = "RotateAppSecret";
            v1::RotateAppSecretRequest r;
            r.set_name(name);
            result = Respond(apps_->RotateAppSecret(r));
          } else if (verb == "enable") {
            call.method = "EnableApp";
            v1::EnableAppRequest r;
            r.set_name(name);
            result = Respond(apps_->EnableApp(r));
          } else if (verb == "disable") {
            call.method = "DisableApp";
            v1::DisableAppRequest r;
            r.set_name(name);
            result = Respond(apps_->DisableApp(r));
          } else {
            result = absl::NotFoundError(absl::StrCat("no custom method :", verb));
          }
        } else if (request.method == "GET") {
          call.method = "GetApp";
          v1::GetAppRequest r;
          r.set_name(name);
          result = Respond(apps_->GetApp(r));
        } else if (request.method == "PATCH") {
          call.method = "UpdateApp";
          v1::UpdateAppRequest r;
          result = [&]() -> absl::StatusOr<std::string> {
            SOCKUDO_RETURN_IF_ERROR(ParseBody(request.body, r.mutable_app()));
            if (!r.app().name().empty() && r.app().name() != name) {
              return absl::InvalidArgumentError("app.name: differs from the URL");
            }
            r.mutable_app()->set_name(name);
            if (auto it = query.find("update_mask"); it != query.end()) {
              SOCKUDO_RETURN_IF_ERROR(ParseMask(it->second, r.mutable_update_mask()));
            }
            return Respond(apps_->UpdateApp(r));
          }();
        } else if (request.method == "DELETE") {
          call.method = "DeleteApp";
          v1::DeleteAppRequest r;
          r.set_name(name);
          result = Respond(apps_->DeleteApp(r));
        } else {
          result =
              absl::UnimplementedError(absl::StrCat(request.method, " is not supported on ", path));
        }
      }
    } catch (const std::exception& e) {
      result = absl::InternalError(e.what());
    }
  }
  audit::Record(call, result.status());
  if (!result.ok())
    return RestResponse{HttpStatusFor(result.status().code()), ErrorJson(result.status())};
  return RestResponse{200, *std::move(result)};
}

}  // namespace sockudo::controlplane::rest
