// File: redis_cluster.h
// A real Redis Cluster for tests: `masters` redis-server 7 processes (plus `replicas` per master)
// started with --cluster-enabled yes on 127.0.0.1, each with a free client port and a free
// cluster-bus port (--cluster-port), their nodes.conf in one temporary directory. Start() builds
// the cluster itself, as `redis-cli --cluster create` would but without its fixed waits:
//   CLUSTER SET-CONFIG-EPOCH (distinct epochs), CLUSTER ADDSLOTSRANGE (16384 slots split evenly
//   over the masters), CLUSTER MEET from the first node, CLUSTER REPLICATE on the replicas,
// and returns once every node reports cluster_state:ok, knows every other node and lists every
// node as online in CLUSTER SHARDS, and every replica's link to its master is up (all polled,
// bounded; with replicas, --repl-ping-replica-period 1 keeps that wait near a second). The
// destructor kills exactly the processes it started (by PID) and removes the directory. Owned and
// used by one test thread. Header-only, built on the helpers of redis_server.h.
//
//   testutil::RedisCluster cluster;             // 3 masters, no replica
//   ASSERT_TRUE(cluster.Start().ok());
//   seed.port = cluster.port(0);
//   cluster.Kill(1);                            // SIGKILL one node
//   cluster.MoveSlot(slot, /*to=*/2);           // reshard an empty slot
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/testutil/redis_server.h"

namespace sockudo::testutil {

class RedisCluster {
 public:
  struct Options {
    int masters = 3;
    int replicas = 0;                     // per master
    std::optional<std::string> password;  // --requirepass and --masterauth
    int node_timeout_ms = 1000;           // --cluster-node-timeout
    // Also a TLS port per node (tls_port(); self-signed certificate for IP 127.0.0.1 in
    // ca_path(), no client certificate) with --tls-cluster yes, so the nodes announce it as
    // `tls-port` (the cluster bus then runs over TLS too). The plain port stays open.
    bool tls = false;
    std::string binary = "/usr/bin/redis-server";

    static Options Masters(int masters, int replicas = 0) {
      Options o;
      o.masters = masters;
      o.replicas = replicas;
      return o;
    }
    Options& WithPassword(std::string pw) {
      password = std::move(pw);
      return *this;
    }
    Options& WithTls() {
      tls = true;
      return *this;
    }
  };

  RedisCluster() : RedisCluster(Options{}) {}
  explicit RedisCluster(Options options)
      : options_(std::move(options)), dir_(redis_internal::MakeTempDir("redis-cluster")) {}
  ~RedisCluster() {
    for (auto& node : nodes_) node->child.Kill();
    redis_internal::RemoveTempDir(dir_);
  }
  RedisCluster(const RedisCluster&) = delete;
  RedisCluster& operator=(const RedisCluster&) = delete;

  absl::Status Start(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    if (dir_.empty()) return absl::InternalError("no temporary directory");
    if (!nodes_.empty()) return absl::FailedPreconditionError("cluster already started");
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const int total = options_.masters * (1 + options_.replicas);
    if (options_.masters < 1) return absl::InvalidArgumentError("at least one master");
    if (options_.tls) {
      absl::Status st = redis_internal::MakeCertificate(dir_, ca_path(), KeyPath());
      if (!st.ok()) return st;
    }
    for (int i = 0; i < total; ++i) {
      auto node = std::make_unique<Node>();
      node->master_index = i < options_.masters ? -1 : (i - options_.masters) % options_.masters;
      absl::Status st = Spawn(*node, i, deadline);
      if (!st.ok()) return st;
      nodes_.push_back(std::move(node));
    }
    for (auto& node : nodes_) {
      auto id = Run(*node, {"CLUSTER", "MYID"});
      if (!id.ok()) return id.status();
      node->id = id->str;
    }
    for (size_t i = 0; i < nodes_.size(); ++i) {
      auto r = Run(*nodes_[i], {"CLUSTER", "SET-CONFIG-EPOCH", std::to_string(i + 1)});
      if (!r.ok()) return r.status();
    }
    for (int m = 0; m < options_.masters; ++m) {
      const int first = 16384 * m / options_.masters;
      const int last = 16384 * (m + 1) / options_.masters - 1;
      auto r = Run(*nodes_[m],
                   {"CLUSTER", "ADDSLOTSRANGE", std::to_string(first), std::to_string(last)});
      if (!r.ok()) return r.status();
    }
    for (size_t i = 1; i < nodes_.size(); ++i) {
      auto r = Run(*nodes_[0], {"CLUSTER", "MEET", "127.0.0.1", std::to_string(nodes_[i]->port),
                                std::to_string(nodes_[i]->bus_port)});
      if (!r.ok()) return r.status();
    }
    const std::string known = absl::StrCat("cluster_known_nodes:", nodes_.size());
    absl::Status met = WaitUntil(deadline, "every node to know every other node", [&] {
      for (auto& node : nodes_) {
        auto info = Run(*node, {"CLUSTER", "INFO"});
        if (!info.ok() || !absl::StrContains(info->str, known)) return false;
      }
      return true;
    });
    if (!met.ok()) return met;
    for (auto& node : nodes_) {
      if (node->master_index < 0) continue;
      const std::string& master_id = nodes_[node->master_index]->id;
      absl::Status st = WaitUntil(deadline, "CLUSTER REPLICATE", [&] {
        return Run(*node, {"CLUSTER", "REPLICATE", master_id}).ok();
      });
      if (!st.ok()) return st;
    }
    // Every node sees every other one "online" in CLUSTER SHARDS: replicas have synced and
    // gossip carried their replication offsets (until then CLUSTER SLOTS leaves them out).
    absl::Status online = WaitUntil(deadline, "every node to be online everywhere", [&] {
      for (auto& node : nodes_) {
        auto shards = Run(*node, {"CLUSTER", "SHARDS"});
        if (!shards.ok() || CountOnline(*shards) != nodes_.size()) return false;
      }
      return true;
    });
    if (!online.ok()) return online;
    return WaitHealthy(std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now()));
  }

  // Every running node says cluster_state:ok, and every running replica's link is up.
  absl::Status WaitHealthy(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    return WaitUntil(std::chrono::steady_clock::now() + timeout, "cluster_state:ok", [&] {
      for (auto& node : nodes_) {
        if (!node->child.Alive()) continue;
        auto info = Run(*node, {"CLUSTER", "INFO"});
        if (!info.ok() || !absl::StrContains(info->str, "cluster_state:ok")) return false;
        if (node->master_index >= 0 && nodes_[node->master_index]->child.Alive()) {
          auto repl = Run(*node, {"INFO", "replication"});
          if (!repl.ok() || !absl::StrContains(repl->str, "master_link_status:up")) return false;
        }
      }
      return true;
    });
  }

  size_t size() const { return nodes_.size(); }
  int port(size_t i) const { return nodes_[i]->port; }
  int tls_port(size_t i) const { return nodes_[i]->tls_port; }
  std::string ca_path() const { return dir_ + "/cert.pem"; }
  const std::string& id(size_t i) const { return nodes_[i]->id; }
  bool running(size_t i) { return nodes_[i]->child.Alive(); }
  // Index of the node listening on `port`, or -1.
  int IndexOf(int port) const {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i]->port == port) return static_cast<int>(i);
    }
    return -1;
  }
  std::string log_path(size_t i) const { return LogPath(i); }
  // The index of the first replica started for master `m`, or -1.
  int ReplicaIndexOf(size_t m) const {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i]->master_index == static_cast<int>(m)) return static_cast<int>(i);
    }
    return -1;
  }

  void Kill(size_t i) { nodes_[i]->child.Kill(); }

  absl::StatusOr<bus::redis::RedisReply> Command(size_t i,
                                                 const std::vector<std::string>& args) const {
    return Run(*nodes_[i], args);
  }

  // The port of the master serving `slot` according to node `asked` (CLUSTER SLOTS), or -1.
  int OwnerPort(int slot, size_t asked = 0) const {
    auto slots = Run(*nodes_[asked], {"CLUSTER", "SLOTS"});
    if (!slots.ok()) return -1;
    for (const auto& range : slots->elements) {
      if (range.elements.size() < 3) continue;
      if (range.elements[0].integer <= slot && slot <= range.elements[1].integer &&
          range.elements[2].elements.size() >= 2) {
        return static_cast<int>(range.elements[2].elements[1].integer);
      }
    }
    return -1;
  }

  // Moves an empty slot to master `to` (IMPORTING / MIGRATING, then SETSLOT NODE on both and on
  // every other master), then waits until every running master agrees on the new owner.
  absl::Status MoveSlot(int slot, size_t to,
                        std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const int from_port = OwnerPort(slot, to);
    const int from = IndexOf(from_port);
    if (from < 0) return absl::NotFoundError(absl::StrCat("no owner for slot ", slot));
    if (static_cast<size_t>(from) == to) return absl::OkStatus();
    const std::string s = std::to_string(slot);
    for (auto [node, args] : std::vector<std::pair<size_t, std::vector<std::string>>>{
             {to, {"CLUSTER", "SETSLOT", s, "IMPORTING", nodes_[from]->id}},
             {static_cast<size_t>(from), {"CLUSTER", "SETSLOT", s, "MIGRATING", nodes_[to]->id}},
             {to, {"CLUSTER", "SETSLOT", s, "NODE", nodes_[to]->id}},
             {static_cast<size_t>(from), {"CLUSTER", "SETSLOT", s, "NODE", nodes_[to]->id}}}) {
      auto r = Run(*nodes_[node], args);
      if (!r.ok()) return r.status();
    }
    for (int m = 0; m < options_.masters; ++m) {
      if (m == from || static_cast<size_t>(m) == to || !nodes_[m]->child.Alive()) continue;
      (void)Run(*nodes_[m], {"CLUSTER", "SETSLOT", s, "NODE", nodes_[to]->id});
    }
    return WaitUntil(std::chrono::steady_clock::now() + timeout, "the slot move to spread", [&] {
      for (size_t i = 0; i < nodes_.size(); ++i) {
        if (nodes_[i]->child.Alive() && OwnerPort(slot, i) != nodes_[to]->port) return false;
      }
      return true;
    });
  }

 private:
  struct Node {
    int port = 0;
    int bus_port = 0;
    int tls_port = 0;
    int master_index = -1;  // replicas: the index of their master
    std::string id;
    redis_internal::Child child;
  };

  // Nodes whose "health" is "online" in a CLUSTER SHARDS reply.
  static size_t CountOnline(const bus::redis::RedisReply& r) {
    size_t n = 0;
    for (size_t i = 0; i < r.elements.size(); ++i) {
      const auto& e = r.elements[i];
      if (e.str == "health" && i + 1 < r.elements.size() && r.elements[i + 1].str == "online") {
        ++n;
      }
      n += CountOnline(e);
    }
    return n;
  }

  std::string KeyPath() const { return dir_ + "/key.pem"; }

  std::string LogPath(size_t i) const { return absl::StrCat(dir_, "/node-", i, ".log"); }

  absl::StatusOr<bus::redis::RedisReply> Run(const Node& node,
                                             const std::vector<std::string>& args) const {
    return redis_internal::Command(node.port, options_.password, args);
  }

  absl::Status Spawn(Node& node, size_t index, std::chrono::steady_clock::time_point deadline) {
    absl::Status status;
    for (int attempt = 0; attempt < 5; ++attempt) {
      node.port = redis_internal::FreePort();
      do {
        node.bus_port = redis_internal::FreePort();
      } while (node.bus_port == node.port);
      if (options_.tls) {
        do {
          node.tls_port = redis_internal::FreePort();
        } while (node.tls_port == node.port || node.tls_port == node.bus_port);
      }
      std::vector<std::string> args = redis_internal::ServerArgs(options_.binary, node.port, dir_);
      args.insert(args.end(), {"--cluster-port", std::to_string(node.bus_port), "--cluster-enabled",
                               "yes", "--cluster-config-file",
                               absl::StrCat(dir_, "/nodes-", index, "-", attempt, ".conf"),
                               "--cluster-node-timeout", std::to_string(options_.node_timeout_ms)});
      // Replicas' offsets move (and reach the other nodes) within a second, not ten.
      if (options_.replicas > 0) args.insert(args.end(), {"--repl-ping-replica-period", "1"});
      if (options_.tls) {
        redis_internal::AddTlsArgs(args, node.tls_port, ca_path(), KeyPath());
        args.insert(args.end(), {"--tls-cluster", "yes", "--tls-replication", "yes"});
      }
      if (options_.password) {
        args.insert(args.end(),
                    {"--requirepass", *options_.password, "--masterauth", *options_.password});
      }
      status = node.child.Spawn(args, LogPath(index));
      if (!status.ok()) return status;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      status = redis_internal::WaitForPing(node.child, node.port, options_.password,
                                           std::max(left, std::chrono::milliseconds(100)),
                                           LogPath(index));
      if (status.ok()) return status;
      node.child.Kill();
    }
    return status;
  }

  static absl::Status WaitUntil(std::chrono::steady_clock::time_point deadline, const char* what,
                                const std::function<bool()>& pred) {
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat("redis cluster: timed out waiting for ", what));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return absl::OkStatus();
  }

  Options options_;
  std::string dir_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

}  // namespace sockudo::testutil
