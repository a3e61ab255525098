// File: bus_channels.h
// The Redis channels of one bus participant, shared by the redis and redis-cluster drivers: the
// three shared channels, its own node and reply inboxes, what it subscribes to, and the way back
// from a channel a message arrived on to its Channel.
//
//   subscriptions  broadcast, requests, responses, own node inbox, own reply inbox; an observer
//                  only requests and its reply inbox (it is never counted as a node).
//
// Built with the prefix, bound to the identity once by Start (before the driver thread runs),
// read-only afterwards, so any thread may read it then.
//
//   BusChannels channels("sockudo_adapter:");
//   channels.Bind(identity);
//   conn->Subscribe(channels.subscriptions(), ...);
//   std::optional<Channel> kind = channels.Classify(push.channel);
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bus/transport.h"

namespace sockudo::bus::redis {

class BusChannels {
 public:
  explicit BusChannels(std::string prefix);

  // Names the inboxes of `identity` and fills subscriptions().
  void Bind(const Identity& identity);

  const std::string& prefix() const { return prefix_; }
  const std::string& broadcast() const { return broadcast_; }
  const std::string& requests() const { return requests_; }
  const std::string& responses() const { return responses_; }
  const std::string& node_inbox() const { return node_inbox_; }
  const std::string& reply_inbox() const { return reply_inbox_; }
  // Another node's inbox.
  std::string NodeInbox(std::string_view node_id) const;
  const std::vector<std::string>& subscriptions() const { return subscriptions_; }

  // The Channel `channel` is for this participant, or nullopt when it is none of its own.
  std::optional<Channel> Classify(std::string_view channel) const;

 private:
  const std::string prefix_;
  const std::string broadcast_;
  const std::string requests_;
  const std::string responses_;
  std::string node_inbox_;
  std::string reply_inbox_;
  std::vector<std::string> subscriptions_;
};

}  // namespace sockudo::bus::redis
