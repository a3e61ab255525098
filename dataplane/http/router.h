// File: router.h
// Maps HTTP requests of the main and metrics listeners to their handlers: operational endpoints,
// the authenticated /apps/{app_id}/... API, CORS preflight, 404/405. Adds the CORS headers and
// counts calls per app. Thread-safe; one per node.
#pragma once

#include "dataplane/http/http_types.h"
#include "dataplane/node/node_context.h"

namespace sockudo::dataplane::http {

class Router {
 public:
  explicit Router(node::NodeContext& node) : node_(node) {}

  // Answers through `respond` exactly once (possibly later, from another thread).
  void Handle(const HttpRequest& request, Respond respond);

  // The path relative to the configured path_prefix, or nullopt when it lies outside it.
  std::optional<std::string> StripPrefix(const std::string& path) const;

 private:
  void AddCors(const std::string& request_origin, HttpResponse& response) const;
  void HandleApi(const HttpRequest& request, const std::vector<std::string>& segments,
                 Respond respond);

  node::NodeContext& node_;
};

}  // namespace sockudo::dataplane::http
