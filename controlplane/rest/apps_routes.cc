#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"
#include "controlplane/rest/routes.h"
#include "controlplane/service/app_proto.h"
#include "controlplane/service/app_service.h"

namespace sockudo::controlplane::rest {
namespace {

template <typename Request>
Request Named(const std::string& name) {
  Request r;
  r.set_name(name);
  return r;
}

absl::StatusOr<std::string> Collection(RestCall& call, service::AppService& apps) {
  call.audit->resource = "apps";
  if (call.method == "GET") {
    call.audit->method = "ListApps";
    v1::ListAppsRequest list;
    SOCKUDO_RETURN_IF_ERROR(ParsePaging(call, &list));
    SOCKUDO_ASSIGN_OR_RETURN(auto response, apps.ListApps(list));
    return ToJson(response);
  }
  if (call.method == "POST") {
    call.audit->method = "CreateApp";
    v1::CreateAppRequest create;
    SOCKUDO_RETURN_IF_ERROR(ParseBody(call.body, create.mutable_app()));
    if (auto it = call.query.find("app_id"); it != call.query.end()) create.set_app_id(it->second);
    SOCKUDO_ASSIGN_OR_RETURN(auto app, apps.CreateApp(create));
    return ToJson(app);
  }
  return MethodNotAllowed(call);
}

absl::StatusOr<std::string> One(RestCall& call, service::AppService& apps) {
  const std::string name = service::AppName(call.segments[1]);
  call.audit->resource = name;
  if (!call.verb.empty()) {
    if (call.method != "POST") return MethodNotAllowed(call);
    absl::StatusOr<v1::App> app =
        absl::NotFoundError(absl::StrCat("no custom method :", call.verb));
    if (call.verb == "rotateSecret") {
      call.audit->method = "RotateAppSecret";
      app = apps.RotateAppSecret(Named<v1::RotateAppSecretRequest>(name));
    } else if (call.verb == "enable") {
      call.audit->method = "EnableApp";
      app = apps.EnableApp(Named<v1::EnableAppRequest>(name));
    } else if (call.verb == "disable") {
      call.audit->method = "DisableApp";
      app = apps.DisableApp(Named<v1::DisableAppRequest>(name));
    }
    if (!app.ok()) return app.status();
    return ToJson(*app);
  }
  if (call.method == "GET") {
    call.audit->method = "GetApp";
    SOCKUDO_ASSIGN_OR_RETURN(auto app, apps.GetApp(Named<v1::GetAppRequest>(name)));
    return ToJson(app);
  }
  if (call.method == "PATCH") {
    call.audit->method = "UpdateApp";
    v1::UpdateAppRequest r;
    SOCKUDO_RETURN_IF_ERROR(ParseBody(call.body, r.mutable_app()));
    if (!r.app().name().empty() && r.app().name() != name) {
      return absl::InvalidArgumentError("app.name: differs from the URL");
    }
    r.mutable_app()->set_name(name);
    if (auto it = call.query.find("update_mask"); it != call.query.end()) {
      ParseMask(it->second, r.mutable_update_mask());
    }
    SOCKUDO_ASSIGN_OR_RETURN(auto app, apps.UpdateApp(r));
    return ToJson(app);
  }
  if (call.method == "DELETE") {
    call.audit->method = "DeleteApp";
    SOCKUDO_ASSIGN_OR_RETURN(auto empty, apps.DeleteApp(Named<v1::DeleteAppRequest>(name)));
    return ToJson(empty);
  }
  return MethodNotAllowed(call);
}

}  // namespace

bool RouteApps(RestCall& call, service::AppService* apps, const JsonReply& reply) {
  if (call.segments.empty() || call.segments[0] != "apps" || call.segments.size() > 2) {
    return false;
  }
  if (apps == nullptr) {
    reply(absl::UnimplementedError("the Apps API is not served here"));
  } else if (call.segments.size() == 1) {
    if (!call.verb.empty()) {
      reply(absl::NotFoundError(absl::StrCat("no route ", call.Path())));
    } else {
      reply(Collection(call, *apps));
    }
  } else if (call.segments[1].empty()) {
    reply(absl::NotFoundError(absl::StrCat("no route ", call.Path())));
  } else {
    reply(One(call, *apps));
  }
  return true;
}

}  // namespace sockudo::controlplane::rest
