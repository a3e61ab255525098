#include "dataplane/server/server.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/apps/app_store_factory.h"
#include "common/apps/file/file_app_store.h"
#include "common/base/allocator.h"
#include "common/base/logging.h"
#include "common/base/status_macros.h"
#include "common/bus/local/local_transport.h"
#include "common/bus/transport_factory.h"
#include "common/limits/rate_limiter_factory.h"
#include "common/protocol/close_codes.h"
#include "controlplane/control_plane.h"
#include "dataplane/adapter/horizontal_adapter.h"
#include "dataplane/cache/channel_cache_factory.h"
#include "dataplane/connection/connection.h"
#include "dataplane/http/router.h"
#include "dataplane/server/app_changes.h"
#include "dataplane/server/housekeeper.h"
#include "dataplane/server/worker.h"
#include "dataplane/webhooks/webhook_dispatcher.h"
#include "dataplane/ws/listener.h"

namespace sockudo::dataplane::server {

namespace net = boost::asio;

// One slice of a spread drain.
constexpr int64_t kDrainSliceMs = 50;
// The longest a drain slice waits for the bus fence.
constexpr int64_t kFenceWaitMs = 250;

namespace {

class Pool : public node::WorkerPool {
 public:
  explicit Pool(std::vector<std::unique_ptr<Worker>>& workers) : workers_(workers) {}
  size_t size() const override { return workers_.size(); }
  void Post(size_t index, std::function<void(node::WorkerState&)> fn) override {
    Worker* w = workers_[index].get();
    net::post(w->io(), [w, fn = std::move(fn)] { fn(w->state()); });
  }

 private:
  std::vector<std::unique_ptr<Worker>>& workers_;
};

// Milliseconds from now until `t`, 0 once it has passed.
int64_t MillisUntil(std::chrono::steady_clock::time_point t) {
  return std::max<int64_t>(
      0, std::chrono::duration_cast<std::chrono::milliseconds>(t - std::chrono::steady_clock::now())
             .count());
}

// Waits until the events the bus had taken have been handed to the workers (Adapter::Fence),
// at most kFenceWaitMs. False when the bus cannot or did not answer: later slices do not wait.
bool AwaitFence(adapter::Adapter& adapter, const std::shared_ptr<spdlog::logger>& log) {
  auto answered = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> answer = answered->get_future();
  adapter.Fence(std::chrono::milliseconds(kFenceWaitMs),
                [answered](absl::Status s) { answered->set_value(std::move(s)); });
  // The adapter answers within kFenceWaitMs; the margin only guards against a stopped one.
  if (answer.wait_for(std::chrono::milliseconds(kFenceWaitMs + 1000)) !=
      std::future_status::ready) {
    log->warn("draining: no answer to the bus fence; closing without it");
    return false;
  }
  const absl::Status st = answer.get();
  if (st.ok()) return true;
  log->warn("draining: closing without waiting for events in flight: {}",
            std::string(st.message()));
  return false;
}

}  // namespace

struct Server::Impl {
  config::Config config;
  std::unique_ptr<apps::AppStore> apps;
  std::unique_ptr<apps::WritableAppStore> writable_apps;  // embedded control plane over redis
  std::unique_ptr<node::NodeContext> node;
  std::unique_ptr<webhooks::WebhookDispatcher> webhooks;  // outlives the workers that emit
  std::vector<std::unique_ptr<Worker>> workers;
  std::unique_ptr<Pool> pool;
  bus::local::LocalHub hub;  // the in-process bus (local driver, embedded control plane)
  std::unique_ptr<adapter::HorizontalAdapter> adapter;
  std::unique_ptr<http::Router> router;
  std::unique_ptr<net::ssl::context> tls;
  std::unique_ptr<ws::Listener> main_listener;
  std::unique_ptr<ws::Listener> metrics_listener;
  std::unique_ptr<net::steady_timer> cache_sweep;
  // Every 5 s: give the pages a burst of traffic left free back to the kernel.
  Housekeeper housekeeper{std::chrono::seconds(5), [] { base::ReleaseFreeMemory(); }};
  std::shared_ptr<spdlog::logger> log = base::Logger("server");
  // Embedded control plane: writes `apps`, the store this node reads. Declared last so it is
  // destroyed first; ~Server and Stop() stop it before anything else.
  std::unique_ptr<controlplane::ControlPlane> control_plane;
  bool control_plane_required = false;  // control_plane.embedded=true: failing to listen is fatal

  std::vector<ws::WorkerSlot> Slots() {
    std::vector<ws::WorkerSlot> slots;
    for (auto& w : workers) slots.push_back({&w->io(), &w->state(), w->send_ring()});
    return slots;
  }

  void ScheduleCacheSweep() {
    cache_sweep->expires_after(std::chrono::seconds(config.cache.memory_cleanup_interval));
    cache_sweep->async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      if (node->cache) node->cache->Sweep();
      ScheduleCacheSweep();
    });
  }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  if (!impl_) return;
  if (impl_->control_plane) impl_->control_plane->Stop();
  for (auto& w : impl_->workers) w->StopNow();
  for (auto& w : impl_->workers) w->Join();
}

absl::StatusOr<std::unique_ptr<Server>> Server::Create(const config::Config& config) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  // The embedded control plane writes the store the node reads (memory or file driver), so an
  // app created over REST is usable by the next connection; otherwise the store is read-only.
  const bool embedded =
      impl->config.control_plane.embedded.value_or(impl->config.adapter.driver == "local");
  apps::WritableAppStore* writable = nullptr;
  if (embedded && impl->config.app_manager.driver == "redis") {
    // The control plane writes Redis; this node reads its in-memory copy (never Redis on a
    // worker thread), refreshed by the AppChanged the control plane publishes.
    SOCKUDO_ASSIGN_OR_RETURN(impl->writable_apps, apps::MakeWritableAppStore(impl->config));
    writable = impl->writable_apps.get();
    SOCKUDO_ASSIGN_OR_RETURN(impl->apps, apps::MakeAppStore(impl->config));
  } else if (embedded) {
    SOCKUDO_ASSIGN_OR_RETURN(auto store, apps::MakeWritableAppStore(impl->config));
    writable = store.get();
    impl->apps = std::move(store);
  } else {
    SOCKUDO_ASSIGN_OR_RETURN(impl->apps, apps::MakeAppStore(impl->config));
  }
  impl->node = std::make_unique<node::NodeContext>(impl->config, *impl->apps);
  SOCKUDO_ASSIGN_OR_RETURN(impl->webhooks,
                           webhooks::WebhookDispatcher::Create(impl->config, *impl->apps,
                                                               impl->node->metrics.webhooks()));
  impl->node->webhooks = impl->webhooks.get();
  SOCKUDO_ASSIGN_OR_RETURN(
      impl->node->cache,
      cache::MakeChannelCache(impl->config, &impl->node->metrics.cache_errors()));
  SOCKUDO_ASSIGN_OR_RETURN(impl->node->rate_limiter,
                           sockudo::limits::MakeRateLimiter(
                               impl->config, &impl->node->metrics.rate_limits().backend_errors));

  size_t threads = static_cast<size_t>(config.worker_threads);
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (size_t i = 0; i < threads; ++i) impl->workers.push_back(std::make_unique<Worker>(i));
  if (config.websocket.io_uring) {
    std::string why_not;
    size_t with_ring = 0;
    for (auto& w : impl->workers) with_ring += w->EnableSendRing(&why_not) ? 1 : 0;
    if (with_ring < impl->workers.size()) {
      impl->log->info("WebSocket writes go through epoll on {} of {} workers: {}",
                      impl->workers.size() - with_ring, impl->workers.size(), why_not);
    }
  }
  impl->pool = std::make_unique<Pool>(impl->workers);
  impl->node->workers = impl->pool.get();
  bus::TransportDeps deps;
  deps.hub = &impl->hub;
  deps.fatal = [](absl::Status why) {
    // The bus is gone for good (e.g. NATS reconnects exhausted): let the orchestrator restart
    // the node rather than serve a cluster it cannot reach.
    base::Logger("server")->critical("the bus is lost for good: {}", std::string(why.message()));
    std::_Exit(3);
  };
  SOCKUDO_ASSIGN_OR_RETURN(auto transport, bus::MakeTransport(impl->config, deps));
  adapter::NodeInfo info{impl->config.process_id, SOCKUDO_VERSION_STRING, impl->config.host,
                         impl->config.port,
                         std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count()};
  // The embedded control plane's view of this node comes from heartbeats, on `local` too.
  info.local_heartbeats = embedded;
  std::unique_ptr<bus::Transport> fallback;
  if (impl->config.adapter.fallback_to_local && impl->config.adapter.driver != "local") {
    fallback = std::make_unique<bus::local::LocalTransport>(impl->hub);
  }
  impl->adapter = std::make_unique<adapter::HorizontalAdapter>(
      impl->config, *impl->node, *impl->pool, std::move(transport), std::move(info),
      std::move(fallback));
  // AppChanged notices, from the control plane over the bus.
  node::NodeContext* node = impl->node.get();
  apps::AppStore* store = impl->apps.get();
  impl->adapter->SetAppChangedHandler([node, store](const std::string& app_id,
                                                    const std::string& action,
                                                    const std::string& old_key) {
    store->Invalidate(app_id, old_key);
    ApplyAppChange(*node, app_id, action, old_key);
  });
  // What the store's own reloads (cache refresh, SIGHUP of a file) find deleted or disabled:
  // the notice was lost, or there was none.
  store->SetChangeListener([node](const apps::AppChange& change) {
    ApplyAppChange(*node, change.id, change.action, change.old_key);
  });
  impl->node->adapter = impl->adapter.get();
  SOCKUDO_ASSIGN_OR_RETURN(impl->node->occupancy,
                           cache::MakeOccupancyCounter(impl->config, impl->adapter->node_id(),
                                                       &impl->node->metrics.cache_errors()));
  impl->router = std::make_unique<http::Router>(*impl->node);

  if (config.ssl.enabled) {
    auto tls = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
    boost::system::error_code ec;
    tls->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                     net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                     net::ssl::context::no_tlsv1_1);
    if (config.ssl.passphrase.has_value()) {
      tls->set_password_callback([pass = *config.ssl.passphrase](
                                     size_t, net::ssl::context::password_purpose) { return pass; });
    }
    tls->use_certificate_chain_file(config.ssl.cert_path, ec);
    if (ec) return absl::InvalidArgumentError(absl::StrCat("ssl.cert_path: ", ec.message()));
    tls->use_private_key_file(config.ssl.key_path, net::ssl::context::pem, ec);
    if (ec) return absl::InvalidArgumentError(absl::StrCat("ssl.key_path: ", ec.message()));
    if (config.ssl.ca_path.has_value()) {
      tls->load_verify_file(*config.ssl.ca_path, ec);
      if (ec) return absl::InvalidArgumentError(absl::StrCat("ssl.ca_path: ", ec.message()));
    }
    impl->tls = std::move(tls);
  }

  net::io_context& accept_io = impl->workers[0]->io();
  impl->main_listener = std::make_unique<ws::Listener>(accept_io, impl->Slots(), *impl->node,
                                                       *impl->router, impl->tls.get(), false);
  if (config.metrics.enabled) {
    impl->metrics_listener = std::make_unique<ws::Listener>(accept_io, impl->Slots(), *impl->node,
                                                            *impl->router, nullptr, true);
  }
  impl->cache_sweep = std::make_unique<net::steady_timer>(accept_io);

  if (writable != nullptr) {
    std::string warning;
    SOCKUDO_ASSIGN_OR_RETURN(auto options, controlplane::ControlPlane::EmbeddedOptions(
                                               impl->config.control_plane, &warning));
    if (!warning.empty()) impl->log->warn("{}", warning);
    if (impl->config.adapter.driver != "local") {
      impl->log->warn(
          "control_plane.embedded with adapter.driver={}: app changes made here are seen by "
          "this node only",
          impl->config.adapter.driver);
    }
    impl->control_plane_required = impl->config.control_plane.embedded.value_or(false);
    SOCKUDO_RETURN_IF_ERROR(controlplane::ControlPlane::FromConfig(impl->config, &options));
    // The Events API spends the same per-app budgets as this node's HTTP API.
    options.rate_limiter = impl->node->rate_limiter.get();
    // The control plane observes this node's bus: the in-process hub with `local`, else its own
    // connection to the configured bus.
    std::unique_ptr<bus::Transport> observer_transport;
    if (impl->config.adapter.driver == "local") {
      observer_transport = std::make_unique<bus::local::LocalTransport>(impl->hub);
    } else {
      SOCKUDO_ASSIGN_OR_RETURN(observer_transport, bus::MakeTransport(impl->config, deps));
    }
    impl->control_plane = std::make_unique<controlplane::ControlPlane>(
        writable, std::move(observer_transport), options);
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

absl::Status Server::Start() {
  Impl& s = *impl_;
  // Started in dependency order, stopped in reverse (Stop): the bus first, then the workers,
  // then the listeners that feed them.
  s.webhooks->Start();
  SOCKUDO_RETURN_IF_ERROR(s.adapter->Start());
  if (s.config.unix_socket.enabled) {
    SOCKUDO_RETURN_IF_ERROR(s.main_listener->ListenUnix(s.config.unix_socket.path,
                                                        s.config.unix_socket.permission_mode));
  } else {
    SOCKUDO_RETURN_IF_ERROR(
        s.main_listener->ListenTcp(s.config.host, static_cast<int>(s.config.port)));
  }
  if (s.metrics_listener) {
    SOCKUDO_RETURN_IF_ERROR(s.metrics_listener->ListenTcp(s.config.metrics.host,
                                                          static_cast<int>(s.config.metrics.port)));
  }
  s.main_listener->Start();
  if (s.metrics_listener) s.metrics_listener->Start();
  s.ScheduleCacheSweep();
  for (auto& w : s.workers) w->Start();
  s.housekeeper.Start();
  // Last: the control plane changes apps the listeners and workers act on.
  if (s.control_plane) {
    absl::Status st = s.control_plane->Start();
    if (!st.ok() && s.control_plane_required) return st;
    if (!st.ok()) {
      // Not in the message path: the node serves without it (e.g. a second node on this host).
      s.log->warn(
          "embedded control plane not started: {} (set CONTROL_PLANE_GRPC_PORT / "
          "CONTROL_PLANE_REST_PORT, or SOCKUDO_CONTROL_PLANE_EMBEDDED=false)",
          std::string(st.message()));
      s.control_plane.reset();
    } else {
      const bool tls = s.control_plane->options().tls.has_value();
      s.log->info("embedded control plane: grpc {}:{}{}, rest {}://{}:{}/v1/apps",
                  s.control_plane->options().grpc_host, s.control_plane->grpc_port(),
                  tls ? " (TLS)" : "", tls ? "https" : "http", s.control_plane->options().rest_host,
                  s.control_plane->rest_port());
    }
  }
  s.node->started.store(true);  // /ready answers 200 from here
  return absl::OkStatus();
}

int Server::port() const { return impl_->main_listener->port(); }

void Server::ReloadApps() {
  auto* file = dynamic_cast<apps::FileAppStore*>(impl_->apps.get());
  if (file == nullptr) {
    impl_->log->info("SIGHUP: nothing to reload with app_manager.driver={}",
                     impl_->config.app_manager.driver);
  } else if (auto st = file->Reload(); st.ok()) {
    // What the edit removed or disabled was closed by the store's change listener.
    impl_->log->info("SIGHUP: reloaded {} ({} apps)", file->path(), file->All().size());
  } else {
    impl_->log->error("SIGHUP: reload failed, keeping the current apps: {}",
                      std::string(st.message()));
  }
}

void Server::Stop() {
  Impl& s = *impl_;
  // The whole shutdown fits shutdown_grace_period from here (the pod's SIGTERM): the drain gets
  // all of it but a reserve, in which the node leaves the cluster and hands its last events over.
  using Clock = std::chrono::steady_clock;
  const auto grace = std::chrono::seconds(std::max<int64_t>(s.config.shutdown_grace_period, 1));
  const auto deadline = Clock::now() + grace;
  const auto drain_end = deadline - std::min<Clock::duration>(std::chrono::seconds(2), grace / 4);
  s.webhooks->BeginShutdown(deadline);
  // Reverse order of Start: no app changes while the node drains.
  if (s.control_plane) s.control_plane->Stop();
  // Drain: /ready answers 503, no new socket is admitted, the open ones get 4200 and their
  // cleanup runs (presence leaves, member_removed across the cluster).
  s.node->draining.store(true);
  s.log->info("draining: closing connections with 4200");
  s.main_listener->Stop();
  // The 4200 closes go out in slices over shutdown_drain_spread (ending before drain_end, which
  // leaves time for the last close handshakes), so the clients reconnect to the other nodes
  // gradually.
  const int64_t drain_ms = MillisUntil(drain_end);
  const int64_t spread_ms = std::min<int64_t>(s.config.shutdown_drain_spread * 1000,
                                              drain_ms - std::min<int64_t>(1000, drain_ms / 2));
  const int slices = static_cast<int>(std::max<int64_t>(1, spread_ms / kDrainSliceMs));
  if (spread_ms > 0) {
    s.log->info("draining: spreading the closes over {} ms", spread_ms);
  }
  // Each worker keeps at most N * (1 - (slice + 1) / slices) of the N sockets it had open when
  // the drain began, so the closes are even over the spread however few sockets there are.
  // Worker i alone reads and writes opened[i].
  auto opened = std::make_shared<std::vector<std::optional<size_t>>>(s.workers.size());
  bool fence = true;
  for (int slice = 0; slice < slices; ++slice) {
    // The events the bus took before now reach the sockets of this slice before their close.
    if (fence) fence = AwaitFence(*s.adapter, s.log);
    for (size_t i = 0; i < s.workers.size(); ++i) {
      net::post(s.workers[i]->io(), [state = &s.workers[i]->state(), opened, i, slice, slices] {
        std::vector<connection::Connection*> open;
        for (const auto& [serial, c] : state->connections) {
          if (!c->closed()) open.push_back(c);  // earlier slices closed the others
        }
        std::optional<size_t>& n = (*opened)[i];
        if (!n) n = open.size();
        const size_t keep = *n - *n * static_cast<size_t>(slice + 1) / slices;
        for (size_t k = keep; k < open.size(); ++k) {
          open[k]->CloseWithError(protocol::close_code::kReconnectNow,
                                  protocol::close_message::kServerClosing);
        }
      });
    }
    if (slice + 1 < slices) std::this_thread::sleep_for(std::chrono::milliseconds(kDrainSliceMs));
  }
  // A session ends when its close handshake completes (or after its 5 s close timeout); sockets
  // still open at drain_end are cut when the workers stop.
  while (s.node->live_websockets.load() > 0 && Clock::now() < drain_end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (s.metrics_listener) s.metrics_listener->Stop();
  s.cache_sweep->cancel();
  // The shared stores answer what is pending now, while the workers that continue those requests
  // still run; the cluster is left while they run too (answers to peers need them).
  if (s.node->rate_limiter) s.node->rate_limiter->Shutdown();
  if (s.node->cache) s.node->cache->Shutdown();
  // The drain's leaves are counted before the node goes (its share then is zero).
  if (s.node->occupancy) {
    s.node->occupancy->Shutdown(
        std::chrono::milliseconds(std::clamp<int64_t>(MillisUntil(deadline) / 2, 0, 2000)));
  }
  s.adapter->Stop();
  for (auto& w : s.workers) w->StopNow();
  for (auto& w : s.workers) w->Join();
  // Last: the drain's vacated / member_removed events are in; deliver or hand them over.
  s.webhooks->Stop();
  s.housekeeper.Stop();
}

}  // namespace sockudo::dataplane::server
