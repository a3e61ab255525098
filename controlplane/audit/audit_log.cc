#include "controlplane/audit/audit_log.h"

#include "absl/status/status.h"
#include "common/base/logging.h"

namespace sockudo::controlplane::audit {

void Record(const Call& call, const absl::Status& outcome) {
  static const auto log = base::Logger("audit");
  const std::string code = absl::StatusCodeToString(outcome.code());
  if (outcome.ok()) {
    log->info("transport={} peer={} principal={} method={} resource={} outcome={}", call.transport,
              call.peer, call.principal, call.method, call.resource, code);
  } else {
    log->warn("transport={} peer={} principal={} method={} resource={} outcome={} message=\"{}\"",
              call.transport, call.peer, call.principal, call.method, call.resource, code,
              std::string(outcome.message()));
  }
}

}  // namespace sockudo::controlplane::audit
