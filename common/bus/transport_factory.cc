#include "common/bus/transport_factory.h"

#include "absl/strings/str_cat.h"
#include "common/bus/local/local_transport.h"
#include "common/bus/nats/nats_transport.h"
#include "common/bus/redis/redis_transport.h"
#if SOCKUDO_HAVE_REDIS_CLUSTER
#include "common/bus/redis_cluster/redis_cluster_transport.h"
#endif

namespace sockudo::bus {

absl::StatusOr<std::unique_ptr<Transport>> MakeTransport(const config::Config& config,
                                                         const TransportDeps& deps) {
  const config::AdapterConfig& adapter = config.adapter;
  if (adapter.driver == "local") {
    if (deps.hub == nullptr) return absl::InternalError("the local bus needs a hub");
    return std::unique_ptr<Transport>(new local::LocalTransport(*deps.hub));
  }
  if (adapter.UsesRedisCluster()) {
#if SOCKUDO_HAVE_REDIS_CLUSTER
    return std::unique_ptr<Transport>(new redis_cluster::RedisClusterTransport(adapter.cluster));
#else
    return absl::UnimplementedError("adapter.driver: redis-cluster is not available in this build");
#endif
  }
  if (adapter.driver == "redis") {
    return std::unique_ptr<Transport>(new redis::RedisTransport(adapter.redis));
  }
  if (adapter.driver == "nats") {
    auto fatal = deps.fatal ? deps.fatal : [](absl::Status) {};
    return std::unique_ptr<Transport>(new nats::NatsTransport(adapter.nats, std::move(fatal)));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("adapter.driver: unknown driver \"", adapter.driver, "\""));
}

}  // namespace sockudo::bus
