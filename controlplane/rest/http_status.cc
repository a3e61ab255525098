#include "controlplane/rest/http_status.h"

#include "common/base/json.h"

namespace sockudo::controlplane::rest {

int HttpStatusFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kCancelled:
      return 499;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

std::string ErrorJson(const absl::Status& status) {
  std::string out = "{\"error\":{\"code\":";
  out += std::to_string(HttpStatusFor(status.code()));
  out += ",\"message\":";
  base::AppendJsonString(out, std::string(status.message()));
  out += ",\"status\":";
  base::AppendJsonString(out, absl::StatusCodeToString(status.code()));
  out += "}}";
  return out;
}

}  // namespace sockudo::controlplane::rest
