// File: join_watches.h
// Member events heard while presence joins wait for their peers' member lists. A joining socket
// enters the channel's indices only once every peer has answered, so a member_added or
// member_removed broadcast that arrives meanwhile would never reach it; and a peer that answered
// before that event left a list that the event has already changed. Each waiting join keeps the
// events of its channel, in arrival order, and folds them into the list it sends. Cluster thread
// only, except Any().
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/presence/presence_registry.h"

namespace sockudo::dataplane::adapter {

// The member key of a user id JSON text: a string's contents, or a number's digits.
std::string MemberKey(const std::string& user_id_json);

class JoinWatches {
 public:
  struct Event {
    bool added = false;
    std::string key;
    presence::MemberInfo info;
  };
  using Id = uint64_t;

  // A member_added / member_removed frame as an event; nullopt for any other frame.
  static std::optional<Event> Parse(std::string_view frame);

  Id Open(const std::string& app_id, const std::string& channel);
  // The events recorded for the join so far (it keeps watching).
  std::vector<Event> Take(Id id);
  // Stops watching. Called once the joining socket's commit is queued on its worker: until then
  // the channel's member events must keep going through the cluster thread, behind that commit.
  void Close(Id id);
  // True while any join watches (read by the transport thread to route member events here).
  bool Any() const { return open_.load() > 0; }
  void Record(const std::string& app_id, const std::string& channel, const Event& event);

  // Applies `events` to `members` in order. A member removed elsewhere stays when `held_here`
  // says this node still has a socket of it; an added member never replaces an entry.
  template <class HeldHere>
  static void Apply(const std::vector<Event>& events, presence::MemberMap& members,
                    HeldHere held_here) {
    for (const Event& e : events) {
      if (e.added) {
        members.try_emplace(e.key, e.info);
      } else if (!held_here(e.key)) {
        members.erase(e.key);
      }
    }
  }

 private:
  struct Watch {
    std::string app_id;
    std::string channel;
    std::vector<Event> events;
  };
  std::map<Id, Watch> watches_;
  Id next_ = 1;
  std::atomic<size_t> open_{0};
};

}  // namespace sockudo::dataplane::adapter
