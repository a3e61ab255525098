#include "dataplane/channels/channel_index.h"

#include <algorithm>

#include "common/base/strings.h"

namespace sockudo::dataplane::channels {

void ConnectionIndex::Add(std::string_view app_id, std::string_view name,
                          connection::Connection* c) {
  auto app = apps_.find(base::Av(app_id));
  if (app == apps_.end())
    app = apps_.emplace(std::string(app_id), absl::flat_hash_map<std::string, List>()).first;
  auto it = app->second.find(base::Av(name));
  if (it == app->second.end()) it = app->second.emplace(std::string(name), List()).first;
  it->second.push_back(c);
}

void ConnectionIndex::Remove(std::string_view app_id, std::string_view name,
                             connection::Connection* c) {
  auto app = apps_.find(base::Av(app_id));
  if (app == apps_.end()) return;
  auto it = app->second.find(base::Av(name));
  if (it == app->second.end()) return;
  List& list = it->second;
  auto pos = std::find(list.begin(), list.end(), c);
  if (pos != list.end()) {
    *pos = list.back();
    list.pop_back();
  }
  if (list.empty()) {
    app->second.erase(it);
    if (app->second.empty()) apps_.erase(app);
  }
}

const ConnectionIndex::List* ConnectionIndex::Find(std::string_view app_id,
                                                   std::string_view name) const {
  auto app = apps_.find(base::Av(app_id));
  if (app == apps_.end()) return nullptr;
  auto it = app->second.find(base::Av(name));
  return it == app->second.end() ? nullptr : &it->second;
}

}  // namespace sockudo::dataplane::channels
