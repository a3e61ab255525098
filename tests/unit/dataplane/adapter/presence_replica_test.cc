// The replicated presence registry of spec/cluster.md §8.2-§8.4: joins and leaves keyed by
// (owner, channel, socket) with owner sequence numbers, stale updates ignored, tombstones that
// beat late joins, legacy messages without a sequence, snapshots (PresenceStateSync) merged under
// the same rules, and the O(1) erase of a dead owner whose entries feed the leader's
// member_removed decisions (§8.7).
#include "dataplane/adapter/presence_replica.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <tuple>

namespace sockudo::dataplane::adapter {
namespace {

using base::Json;
using ::testing::ElementsAre;
using Clock = PresenceReplica::Clock;
using Entry = PresenceReplica::Entry;

const Clock::time_point t0{std::chrono::hours(1)};

Entry Member(const std::string& user, int64_t sequence, const std::string& info = "null") {
  return Entry{"app-id", base::JsonString(user), info, sequence};
}

// The stored entry of (owner, channel, socket) as the owner's snapshot shows it.
std::optional<Json> Find(const PresenceReplica& replica, const std::string& owner,
                         const std::string& channel, const std::string& socket) {
  auto snapshot = replica.Snapshot(owner);
  if (!snapshot.has_value() || !snapshot->contains(channel)) return std::nullopt;
  const Json& sockets = (*snapshot)[channel];
  if (!sockets.contains(socket)) return std::nullopt;
  return sockets[socket];
}

int64_t SequenceOf(const PresenceReplica& replica, const std::string& owner,
                   const std::string& channel, const std::string& socket) {
  auto e = Find(replica, owner, channel, socket);
  return e.has_value() ? (*e)["sequence_number"].get<int64_t>() : -1;
}

TEST(PresenceReplicaTest, AJoinIsStoredUnderItsOwner) {
  PresenceReplica replica;
  EXPECT_TRUE(replica.Upsert("node-b", "presence-room", "2.1", Member("alice", 1, R"({"n":1})")));
  EXPECT_EQ(replica.Size("node-b"), 1u);
  EXPECT_EQ(replica.Size("node-c"), 0u);
  auto e = Find(replica, "node-b", "presence-room", "2.1");
  ASSERT_TRUE(e.has_value());
  // The PresenceEntry of spec §3.4.
  std::vector<std::string> keys;
  for (const auto& [k, v] : e->items()) keys.push_back(k);
  EXPECT_THAT(keys, ElementsAre("user_info", "node_id", "app_id", "user_id", "socket_id",
                                "sequence_number"));
  EXPECT_EQ((*e)["user_info"], (Json{{"n", 1}}));
  EXPECT_EQ((*e)["node_id"], "node-b");
  EXPECT_EQ((*e)["app_id"], "app-id");
  EXPECT_EQ((*e)["user_id"], "alice");
  EXPECT_EQ((*e)["socket_id"], "2.1");
  EXPECT_EQ((*e)["sequence_number"], 1);
}

TEST(PresenceReplicaTest, AHigherSequenceWinsAndStaleUpdatesAreIgnored) {
  PresenceReplica replica;
  EXPECT_TRUE(replica.Upsert("node-b", "presence-room", "2.1", Member("alice", 2, R"("v2")")));
  EXPECT_TRUE(replica.Upsert("node-b", "presence-room", "2.1", Member("alice", 5, R"("v5")")));
  EXPECT_FALSE(replica.Upsert("node-b", "presence-room", "2.1", Member("alice", 3, R"("v3")")));
  EXPECT_FALSE(replica.Upsert("node-b", "presence-room", "2.1", Member("alice", 5, R"("again")")));
  auto e = Find(replica, "node-b", "presence-room", "2.1");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ((*e)["user_info"], "v5");
  EXPECT_EQ((*e)["sequence_number"], 5);
  EXPECT_EQ(replica.Size("node-b"), 1u);
}

TEST(PresenceReplicaTest, ALeaveRemovesTheEntryAndItsTombstoneBeatsLateJoins) {
  PresenceReplica replica;
  replica.Upsert("node-b", "presence-room", "2.1", Member("alice", 1));
  replica.Remove("node-b", "presence-room", "2.1", 2, t0);
  EXPECT_EQ(replica.Size("node-b"), 0u);
  EXPECT_FALSE(replica.Snapshot("node-b").has_value());
  // The join, delivered again or late (a snapshot taken before the leave): ignored.
  EXPECT_FALSE(replica.Upsert("node-b", "presence-room", "2.1", Member("alice", 1)));
  EXPECT_FALSE(replica.Upsert("node-b", "presence-room", "2.1", Member("alice", 2)));
  EXPECT_EQ(replica.Size("node-b"), 0u);
  // A later join of the same socket (the owner's counter moved on) is a real rejoin.
  EXPECT_TRUE(replica.Upsert("node-b", "presence-room", "2.1", Member("alice", 3)));
  EXPECT_EQ(replica.Size("node-b"), 1u);
}

TEST(PresenceReplicaTest, ALeaveArrivingBeforeItsJoinWins) {
  PresenceReplica replica;
  replica.Remove("node-b", "presence-room", "2.1", 8, t0);  // nothing to remove: tombstone only
  EXPECT_FALSE(replica.Upsert("node-b", "presence-room", "2.1", Member("alice", 7)));
  EXPECT_EQ(replica.Size("node-b"), 0u);
}

TEST(PresenceReplicaTest, AStaleLeaveKeepsANewerEntry) {
  PresenceReplica replica;
  replica.Upsert("node-b", "presence-room", "2.1", Member("alice", 5));
  replica.Remove("node-b", "presence-room", "2.1", 3, t0);  // older than the stored join
  EXPECT_EQ(SequenceOf(replica, "node-b", "presence-room", "2.1"), 5);
  // The leave that follows the join does remove it.
  replica.Remove("node-b", "presence-room", "2.1", 6, t0);
  EXPECT_EQ(replica.Size("node-b"), 0u);
}

TEST(PresenceReplicaTest, TombstonesAreKeyedByOwnerChannelAndSocket) {
  PresenceReplica replica;
  replica.Remove("node-b", "presence-room", "2.1", 9, t0);
  EXPECT_TRUE(replica.Upsert("node-c", "presence-room", "2.1", Member("alice", 1)));
  EXPECT_TRUE(replica.Upsert("node-b", "presence-other", "2.1", Member("alice", 1)));
  EXPECT_TRUE(replica.Upsert("node-b", "presence-room", "2.2", Member("alice", 1)));
  EXPECT_EQ(replica.Size("node-b"), 2u);
  EXPECT_EQ(replica.Size("node-c"), 1u);
}

TEST(PresenceReplicaTest, LegacyMessagesWithoutSequenceApplyInArrivalOrder) {
  PresenceReplica replica;
  EXPECT_TRUE(replica.Upsert("node-b", "presence-room", "2.1", Member("alice", 0, R"("a")")));
  EXPECT_TRUE(replica.Upsert("node-b", "presence-room", "2.1", Member("alice", 0, R"("b")")));
  EXPECT_EQ((*Find(replica, "node-b", "presence-room", "2.1"))["user_info"], "b");
  replica.Remove("node-b", "presence-room", "2.1", 0, t0);
  EXPECT_EQ(replica.Size("node-b"), 0u);
  // No sequence, no tombstone: a join after it is applied.
  EXPECT_TRUE(replica.Upsert("node-b", "presence-room", "2.1", Member("alice", 0)));
  // A legacy leave removes a sequenced entry too.
  replica.Upsert("node-b", "presence-room", "2.2", Member("bob", 4));
  replica.Remove("node-b", "presence-room", "2.2", 0, t0);
  EXPECT_FALSE(Find(replica, "node-b", "presence-room", "2.2").has_value());
}

TEST(PresenceReplicaTest, TombstonesLastSixtySeconds) {
  PresenceReplica replica;
  replica.Remove("node-b", "presence-room", "2.1", 2, t0);
  replica.PurgeTombstones(t0 + std::chrono::seconds(59));
  EXPECT_FALSE(replica.Upsert("node-b", "presence-room", "2.1", Member("alice", 1)));
  replica.PurgeTombstones(t0 + std::chrono::seconds(61));
  EXPECT_TRUE(replica.Upsert("node-b", "presence-room", "2.1", Member("alice", 1)));
}

TEST(PresenceReplicaTest, ADeadOwnerIsErasedAtOnceWithEverythingItHeld) {
  PresenceReplica replica;
  replica.Upsert("node-b", "presence-room", "2.1", Member("alice", 1, R"({"n":"A"})"));
  replica.Upsert("node-b", "presence-room", "2.2", Member("alice", 2));  // same user twice
  replica.Upsert("node-b", "presence-lobby", "2.1", Member("bob", 3));
  replica.Upsert("node-c", "presence-room", "3.1", Member("carol", 1));

  PresenceReplica::Channels taken = replica.TakeOwner("node-b");
  EXPECT_EQ(replica.Size("node-b"), 0u);
  EXPECT_FALSE(replica.Snapshot("node-b").has_value());
  EXPECT_EQ(replica.Size("node-c"), 1u);  // other owners untouched

  // What the leader's cleanup walks: one member_removed decision per distinct user (§8.7).
  std::set<std::tuple<std::string, std::string, std::string>> users;
  size_t sockets = 0;
  for (const auto& [channel, entries] : taken) {
    for (const auto& [socket, e] : entries) {
      ++sockets;
      users.emplace(e.app_id, channel, e.user_id_json);
    }
  }
  EXPECT_EQ(sockets, 3u);
  EXPECT_EQ(users, (std::set<std::tuple<std::string, std::string, std::string>>{
                       {"app-id", "presence-lobby", R"("bob")"},
                       {"app-id", "presence-room", R"("alice")"}}));
  EXPECT_EQ(taken["presence-room"]["2.1"].user_info_json, R"({"n":"A"})");
  EXPECT_TRUE(replica.TakeOwner("node-b").empty());  // nothing left to take
  EXPECT_TRUE(replica.TakeOwner("node-unknown").empty());
}

TEST(PresenceReplicaTest, DropAllButKeepsOwnEntriesAndTombstones) {
  PresenceReplica replica;
  replica.Upsert("self", "presence-room", "1.1", Member("me", 1));
  replica.Upsert("node-b", "presence-room", "2.1", Member("alice", 1));
  replica.Remove("node-c", "presence-room", "3.1", 5, t0);
  replica.DropAllBut("self");
  EXPECT_EQ(replica.Size("self"), 1u);
  EXPECT_EQ(replica.Size("node-b"), 0u);
  // The tombstone survives the resync: a stale snapshot entry stays out.
  EXPECT_FALSE(replica.Upsert("node-c", "presence-room", "3.1", Member("carol", 4)));
}

TEST(PresenceReplicaTest, SnapshotsMergeIntoAnotherReplicaExactly) {
  PresenceReplica owner;
  owner.Upsert("node-b", "presence-room", "2.1", Member("alice", 1, R"({"n":"A"})"));
  owner.Upsert("node-b", "presence-room", "2.2", Entry{"app-id", "42", "null", 2});
  owner.Upsert("node-b", "presence-lobby", "2.1", Entry{"app-2", R"("bob")", "[1,2]", 3});
  auto snapshot = owner.Snapshot("node-b");
  ASSERT_TRUE(snapshot.has_value());
  // A numeric user id keeps its JSON type (§3.4).
  EXPECT_TRUE((*snapshot)["presence-room"]["2.2"]["user_id"].is_number_integer());

  PresenceReplica peer;
  peer.Merge("node-b", *snapshot);
  EXPECT_EQ(peer.Size("node-b"), 3u);
  EXPECT_EQ(peer.Snapshot("node-b"), snapshot);
}

TEST(PresenceReplicaTest, MergeFollowsSequencesAndTombstones) {
  PresenceReplica replica;
  replica.Upsert("node-b", "presence-room", "2.1", Member("alice", 5, R"("new")"));
  replica.Remove("node-b", "presence-room", "2.2", 4, t0);
  Json snapshot = {
      {"presence-room",
       {
           {"2.1",
            {{"app_id", "app-id"},
             {"user_id", "alice"},
             {"user_info", "old"},
             {"sequence_number", 3}}},  // older than the stored entry
           {"2.2", {{"app_id", "app-id"}, {"user_id", "bob"}, {"sequence_number", 4}}},  // left
           {"2.3", {{"app_id", "app-id"}, {"user_id", "carol"}, {"sequence_number", 6}}},
       }}};
  replica.Merge("node-b", snapshot);
  EXPECT_EQ((*Find(replica, "node-b", "presence-room", "2.1"))["user_info"], "new");
  EXPECT_FALSE(Find(replica, "node-b", "presence-room", "2.2").has_value());
  EXPECT_EQ(SequenceOf(replica, "node-b", "presence-room", "2.3"), 6);
  // Chunks or repeats of a snapshot merge to the same state (order does not matter).
  replica.Merge("node-b", snapshot);
  EXPECT_EQ(replica.Size("node-b"), 2u);
}

TEST(PresenceReplicaTest, SnapshotEntriesWithoutSequenceNeverReplaceAnEntry) {
  PresenceReplica replica;
  replica.Upsert("node-b", "presence-room", "2.1", Member("alice", 0, R"("live")"));
  Json snapshot = {{"presence-room",
                    {{"2.1", {{"app_id", "app-id"}, {"user_id", "alice"}, {"user_info", "snap"}}},
                     {"2.2", {{"app_id", "app-id"}, {"user_id", "bob"}}}}}};
  replica.Merge("node-b", snapshot);
  EXPECT_EQ((*Find(replica, "node-b", "presence-room", "2.1"))["user_info"], "live");
  ASSERT_TRUE(Find(replica, "node-b", "presence-room", "2.2").has_value());  // new: inserted
  EXPECT_EQ(replica.Size("node-b"), 2u);
}

TEST(PresenceReplicaTest, MalformedSnapshotsAreSkippedEntryByEntry) {
  PresenceReplica replica;
  replica.Merge("node-b", Json());
  replica.Merge("node-b", Json::array({1, 2}));
  replica.Merge("node-b", Json{{"presence-room", "not an object"}});
  Json snapshot = {{"presence-room",
                    {
                        {"2.1", 7},
                        {"2.2", {{"user_id", "no-app"}}},
                        {"2.3", {{"app_id", "app-id"}}},
                        {"2.4", {{"app_id", "app-id"}, {"user_id", true}}},
                        {"2.5", {{"app_id", 5}, {"user_id", "x"}}},
                        {"2.6", {{"app_id", "app-id"}, {"user_id", 12}, {"sequence_number", "1"}}},
                    }}};
  replica.Merge("node-b", snapshot);
  EXPECT_EQ(replica.Size("node-b"), 1u);  // only 2.6 is a member (its bad sequence counts as 0)
  EXPECT_EQ(SequenceOf(replica, "node-b", "presence-room", "2.6"), 0);
}

}  // namespace
}  // namespace sockudo::dataplane::adapter
