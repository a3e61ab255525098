// File: channel_index.h
// One worker's view of who is subscribed where: (app, channel) -> the connections of this worker,
// and (app, user) -> this worker's connections signed in as that user. Owned by one worker and
// touched only on its thread, so delivery needs no lock. Entries are non-owning; a connection
// removes itself during its close cleanup.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace sockudo::dataplane::connection {
class Connection;
}

namespace sockudo::dataplane::channels {

class ConnectionIndex {
 public:
  using List = std::vector<connection::Connection*>;

  void Add(std::string_view app_id, std::string_view name, connection::Connection* c);
  void Remove(std::string_view app_id, std::string_view name, connection::Connection* c);
  // nullptr when nobody on this worker is there.
  const List* Find(std::string_view app_id, std::string_view name) const;

 private:
  absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, List>> apps_;
};

}  // namespace sockudo::dataplane::channels
