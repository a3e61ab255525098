// pusher:signin: verify, register the user, answer, then the watchlist status of the users it
// watches.
#include "absl/strings/str_cat.h"
#include "common/crypto/pusher_signature.h"
#include "common/protocol/close_codes.h"
#include "dataplane/connection/connection.h"
#include "dataplane/connection/handlers/handlers.h"

namespace sockudo::dataplane::connection::handlers {

void HandleSignin(Connection& c, const protocol::InboundFrame& frame) {
  auto fail = [&c](std::string_view message) {
    c.CloseWithError(protocol::close_code::kUnauthorized, message);
  };
  base::Json storage;
  const base::Json* data = DataObject(frame, storage);
  if (data == nullptr || !data->contains("auth") || !(*data)["auth"].is_string() ||
      !data->contains("user_data") || !(*data)["user_data"].is_string()) {
    return fail(protocol::close_message::kSigninFailed);
  }
  const std::string& auth = (*data)["auth"].get_ref<const std::string&>();
  const std::string& user_data = (*data)["user_data"].get_ref<const std::string&>();
  const auto app = c.CurrentApp();  // a rotated secret counts at once
  if (!crypto::VerifyClientAuth(app->key, app->secret, auth,
                                absl::StrCat(c.socket_id(), "::user::", user_data))) {
    return fail(protocol::close_message::kSigninFailed);
  }
  auto parsed = base::ParseJson(user_data);
  if (!parsed.has_value() || !parsed->is_object()) {
    return fail("The returned user data must be a JSON object.");
  }
  auto id = parsed->find("id");
  Connection::SignedInUser user;
  if (id != parsed->end() && id->is_string() && !id->get_ref<const std::string&>().empty()) {
    user.id = id->get<std::string>();
  } else if (id != parsed->end() && id->is_number()) {
    user.id = IdJson(*id, user_data, "id");
  } else {
    return fail("The returned user data must contain the \"id\" field.");
  }
  auto info = parsed->find("user_info");
  user.user_info_json = info == parsed->end() ? "null" : base::Dump(*info);
  auto watchlist = parsed->find("watchlist");
  if (watchlist != parsed->end() && watchlist->is_array()) {
    for (const base::Json& w : *watchlist) {
      if (w.is_string()) {
        user.watchlist.push_back(w.get<std::string>());
      } else if (w.is_number()) {
        user.watchlist.push_back(base::Dump(w));
      }
    }
  }
  std::vector<std::string> watched = user.watchlist;
  c.SignIn(std::move(user));
  c.Send(protocol::SigninSuccessFrame(user_data));
  if (app->enable_watchlist_events && !watched.empty()) {
    c.node().adapter->GetWatchlistStatus(
        app->id, std::move(watched), [handle = c.handle()](adapter::WatchlistStatus status) {
          handle.Resume([status = std::move(status)](Connection& c) {
            c.Send(protocol::WatchlistEventsFrame(status.online, status.offline));
          });
        });
  }
}

}  // namespace sockudo::dataplane::connection::handlers
