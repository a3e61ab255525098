// pusher:subscribe: validation in the order of the numbered steps below, state committed before
// the success frame, then member_added and the cache replay.
#include "absl/strings/str_cat.h"
#include "common/crypto/pusher_signature.h"
#include "dataplane/connection/connection.h"
#include "dataplane/connection/handlers/handlers.h"

namespace sockudo::dataplane::connection::handlers {
namespace {

using protocol::ChannelType;

struct Rejection {
  const char* type;
  std::string error;
  int status;
};

void Reject(Connection& c, const std::string& channel, const Rejection& r) {
  c.Send(protocol::SubscriptionErrorFrame(channel, r.type, r.error, r.status));
}

std::optional<std::string> StringField(const base::Json& data, const char* name) {
  auto it = data.find(name);
  if (it == data.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// The presence identity from channel_data (or from the signed-in user).
std::variant<presence::MemberIdentity, Rejection> PresenceIdentity(Connection& c,
                                                                   const base::Json& data) {
  auto it = data.find("channel_data");
  if (it == data.end() || it->is_null()) {
    const auto& user = c.user();
    if (!user.has_value()) {
      return Rejection{"AuthError",
                       "Presence channels require channel_data or a signed-in connection", 401};
    }
    return presence::MemberIdentity{user->id, base::JsonString(user->id), user->user_info_json};
  }
  if (!it->is_string()) return Rejection{"AuthError", "channel_data must be a JSON string", 401};
  const std::string& text = it->get_ref<const std::string&>();
  auto parsed = base::ParseJson(text);
  if (!parsed.has_value() || !parsed->is_object()) {
    return Rejection{"AuthError", "channel_data must be a JSON object", 401};
  }
  auto id = parsed->find("user_id");
  presence::MemberIdentity member;
  if (id != parsed->end() && id->is_string() && !id->get_ref<const std::string&>().empty()) {
    member.key = id->get<std::string>();
  } else if (id != parsed->end() && id->is_number()) {
    member.key = IdJson(*id, text, "user_id");
  } else {
    return Rejection{"AuthError",
                     "channel_data must contain a user_id (non-empty string or number)", 401};
  }
  member.user_id_json = IdJson(*id, text, "user_id");
  auto info = parsed->find("user_info");
  member.user_info_json = info == parsed->end() ? "null" : base::Dump(*info);
  return member;
}

// The last event, or pusher:cache_miss (and the cache_miss webhook).
void Replay(Connection& c, const std::string& channel, const std::optional<cache::CachedEvent>& cached) {
  if (cached.has_value()) {
    c.Send(protocol::ChannelEventFrame(cached->event, channel, cached->data));
    return;
  }
  c.Send(protocol::CacheMissFrame(channel));
  if (webhooks::Wanted(c.node().webhooks, c.app(), "cache_miss")) {
    c.node().webhooks->EmitFor(c.app().id, webhooks::CacheMiss(channel));
  }
}

// Cache channels: the last event, or pusher:cache_miss. A shared store answers later: the replay
// then goes to the socket if it is still subscribed and no live event of the channel reached it
// meanwhile (that one is newer).
void SendCacheReplay(Connection& c, const std::string& channel, protocol::ChannelTraits traits) {
  if (!traits.cache) return;
  cache::ChannelCache* store = c.node().cache.get();
  if (store == nullptr) return Replay(c, channel, std::nullopt);
  if (store->answers_inline()) {
    return store->Get(c.app().id, channel,
                      [&c, &channel](std::optional<cache::CachedEvent> cached) {
                        Replay(c, channel, cached);
                      });
  }
  c.ExpectCacheReplay(channel);
  store->Get(c.app().id, channel,
             [handle = c.handle(), channel](std::optional<cache::CachedEvent> cached) {
               handle.Resume([channel, cached = std::move(cached)](Connection& c) {
                 if (c.TakeCacheReplay(channel)) Replay(c, channel, cached);
               });
             });
}

}  // namespace

void HandleSubscribe(Connection& c, const protocol::InboundFrame& frame) {
  base::Json storage;
  const base::Json* data = DataObject(frame, storage);
  std::optional<std::string> channel_field = data ? StringField(*data, "channel") : std::nullopt;
  if (!channel_field.has_value()) {
    c.Send(protocol::ErrorFrame(std::nullopt, "Invalid subscribe: data.channel must be a string"));
    return;
  }
  const std::string& channel = *channel_field;
  const apps::App& app = c.app();
  const auto& limits = c.node().config.limits;

  // 1-2: name length, then characters.
  switch (protocol::CheckChannelName(channel, app.ChannelNameLimit(limits))) {
    case protocol::NameCheck::kTooLong:
      return Reject(c, channel,
                    {"LimitReached",
                     absl::StrCat("Channel name is too long. Maximum allowed size is ",
                                  app.ChannelNameLimit(limits), "."),
                     4009});
    case protocol::NameCheck::kInvalid:
      return Reject(c, channel, {"InvalidChannel", "Invalid channel name", 4009});
    case protocol::NameCheck::kOk:
      break;
  }
  const protocol::ChannelTraits traits = protocol::ClassifyChannel(channel);

  // 7: #server-to-user-{id} is answered from the sign-in state only; it is not a real channel.
  if (traits.type == ChannelType::kServerToUser) {
    const auto target = protocol::ServerToUserId(channel);
    if (!c.user().has_value() || c.user()->id != *target) {
      return Reject(c, channel, {"AuthError", "The connection is not signed in as this user", 401});
    }
    c.Send(protocol::SubscriptionSucceededFrame(channel, "{}"));
    return;
  }

  // 3-4: signatures and the presence identity.
  std::optional<presence::MemberIdentity> member;
  if (traits.RequiresAuth()) {
    const std::string auth = StringField(*data, "auth").value_or("");
    std::string to_sign = absl::StrCat(c.socket_id(), ":", channel);
    if (traits.IsPresence()) {
      auto cd = data->find("channel_data");
      if (cd != data->end() && cd->is_string())
        absl::StrAppend(&to_sign, ":", cd->get_ref<const std::string&>());
    }
    const auto current = c.CurrentApp();  // a rotated secret counts at once
    if (!crypto::VerifyClientAuth(current->key, current->secret, auth, to_sign)) {
      return Reject(c, channel,
                    {"AuthError",
                     absl::StrCat("Invalid signature: expected HMAC SHA256 hex digest of ", to_sign,
                                  ", but got ", auth),
                     401});
    }
    if (traits.IsPresence()) {
      auto identity = PresenceIdentity(c, *data);
      if (auto* r = std::get_if<Rejection>(&identity)) return Reject(c, channel, *r);
      member = std::get<presence::MemberIdentity>(std::move(identity));
      // 5: member info size.
      const size_t max_info = app.PresenceMemberSizeLimitBytes(limits);
      if (member->user_info_json.size() > max_info) {
        return Reject(c, channel,
                      {"LimitReached",
                       absl::StrCat("The member info is too large. Maximum allowed size is ",
                                    max_info, " bytes."),
                       4301});
      }
    }
  }

  // Re-subscribing keeps the first identity and repeats the success frame.
  const Connection::Subscription* existing = c.FindSubscription(channel);
  if (existing != nullptr && existing->pending) return;  // the first subscribe is still answering
  if (existing != nullptr && member.has_value()) {
    member->key = existing->member_key;
    member->user_id_json = existing->user_id_json;
  }
  if (!member.has_value()) {
    if (traits.RequiresAuth()) c.MarkAuthorized();
    auto succeeded = [channel, traits](Connection& c) {
      c.Send(protocol::SubscriptionSucceededFrame(channel, "{}"));
      SendCacheReplay(c, channel, traits);
    };
    if (existing == nullptr) return c.AddSubscription(channel, {traits, "", ""}, succeeded);
    return succeeded(c);
  }

  // 6: presence. The socket is a member from now on (its close runs the leave flow), and enters
  // the channel's indices once the adapter has checked the member limit cluster-wide and sent
  // member_added to the others.
  if (existing == nullptr) {
    c.AddSubscription(channel, {traits, member->key, member->user_id_json, /*pending=*/true});
  }
  adapter::PresenceJoin join{app.id,
                             channel,
                             c.socket_id(),
                             member->key,
                             member->user_id_json,
                             member->user_info_json,
                             app.PresenceMembersLimit(limits)};
  c.node().adapter->JoinPresence(join, [handle = c.handle(), channel,
                                        traits](adapter::PresenceJoinAnswer answer) {
    handle.Resume([channel, traits, answer = std::move(answer)](Connection& c) {
      if (answer.full) {
        c.RemoveSubscription(channel, /*member_gone=*/true);
        return Reject(c, channel,
                      {"LimitReached",
                       "The maximum number of members in this channel has been reached.", 4100});
      }
      c.CommitSubscription(channel, [channel, traits, answer](Connection& c) {
        // member_added goes after channel_occupied.
        if (answer.member_added && webhooks::Wanted(c.node().webhooks, c.app(), "member_added")) {
          const Connection::Subscription* sub = c.FindSubscription(channel);
          if (sub != nullptr) {
            c.node().webhooks->EmitFor(c.app().id,
                                       webhooks::MemberAdded(channel, sub->user_id_json));
          }
        }
        c.MarkAuthorized();
        c.Send(protocol::SubscriptionSucceededFrame(channel, answer.subscription_data));
        SendCacheReplay(c, channel, traits);
      });
    });
  });
}

}  // namespace sockudo::dataplane::connection::handlers
