#include "controlplane/cluster/node_view.h"

#include <gtest/gtest.h>

namespace sockudo::controlplane::cluster {
namespace {

using namespace std::chrono_literals;
using Type = NodeChange::Type;

class NodeViewTest : public ::testing::Test {
 protected:
  NodeView view_{1000ms, 3000ms, 10000ms};
  NodeView::Clock::time_point t0_ = NodeView::Clock::now();
  NodeView::WallClock::time_point wall_ = NodeView::WallClock::now();

  std::vector<NodeChange> Beat(const std::string& id, NodeView::Clock::time_point at,
                               int connections = 0) {
    return view_.OnHeartbeat(id, base::Json{{"connections", connections}, {"version", "1"}}, at,
                             wall_);
  }
};

TEST_F(NodeViewTest, AFirstHeartbeatJoinsAndRepeatsChangeNothing) {
  auto joined = Beat("b", t0_);
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_EQ(joined[0].type, Type::kJoined);
  EXPECT_EQ(joined[0].node.state, NodeState::kAlive);
  EXPECT_TRUE(joined[0].node.leader);
  EXPECT_TRUE(Beat("b", t0_ + 500ms).empty());
  auto updated = Beat("b", t0_ + 900ms, 5);
  ASSERT_EQ(updated.size(), 1u);
  EXPECT_EQ(updated[0].type, Type::kUpdated);
  EXPECT_EQ(updated[0].node.metadata["connections"], 5);
}

TEST_F(NodeViewTest, SilenceMakesANodeSuspectThenDeadThenForgotten) {
  Beat("a", t0_);
  EXPECT_TRUE(view_.Tick(t0_ + 2000ms).empty());  // 2 x interval: still alive
  auto suspect = view_.Tick(t0_ + 2001ms);
  ASSERT_EQ(suspect.size(), 1u);
  EXPECT_EQ(suspect[0].type, Type::kSuspect);
  EXPECT_EQ(view_.Responders(t0_ + 2001ms), 1u);  // suspect nodes are still asked
  auto dead = view_.Tick(t0_ + 3001ms);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].type, Type::kDead);
  EXPECT_EQ(view_.Responders(t0_ + 3001ms), 0u);
  EXPECT_TRUE(view_.Tick(t0_ + 5000ms).empty());
  ASSERT_EQ(view_.Snapshot(t0_ + 5000ms).size(), 1u);  // dead nodes stay listed a while
  auto forgotten = view_.Tick(t0_ + 13001ms);
  ASSERT_EQ(forgotten.size(), 1u);
  EXPECT_EQ(forgotten[0].type, Type::kForgotten);
  EXPECT_TRUE(view_.Snapshot(t0_ + 13001ms).empty());
}

TEST_F(NodeViewTest, ASuspectNodeThatHeartbeatsIsAliveAgain) {
  Beat("a", t0_);
  view_.Tick(t0_ + 2500ms);
  auto back = Beat("a", t0_ + 2600ms);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].type, Type::kAlive);
}

TEST_F(NodeViewTest, NodeDeadMarksItDeadAtOnceAndAHeartbeatRejoinsIt) {
  Beat("a", t0_);
  auto dead = view_.OnNodeDead("a", t0_ + 10ms);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].type, Type::kDead);
  EXPECT_EQ(dead[0].node.state, NodeState::kDead);
  EXPECT_TRUE(view_.OnNodeDead("a", t0_ + 20ms).empty());
  EXPECT_TRUE(view_.OnNodeDead("unknown", t0_ + 20ms).empty());
  auto back = Beat("a", t0_ + 30ms);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].type, Type::kJoined);
}

TEST_F(NodeViewTest, TheLeaderIsTheSmallestAliveId) {
  Beat("c", t0_);
  Beat("a", t0_);
  Beat("b", t0_);
  auto nodes = view_.Snapshot(t0_ + 10ms);
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes[0].id, "a");
  EXPECT_TRUE(nodes[0].leader);
  EXPECT_FALSE(nodes[1].leader);
  view_.OnNodeDead("a", t0_ + 20ms);
  nodes = view_.Snapshot(t0_ + 30ms);
  EXPECT_FALSE(nodes[0].leader);
  EXPECT_TRUE(nodes[1].leader);  // "b"
  EXPECT_EQ(nodes[1].id, "b");
}

}  // namespace
}  // namespace sockudo::controlplane::cluster
