#include "common/apps/file/file_app_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/apps/app_reader.h"
#include "common/base/json.h"
#include "common/base/status_macros.h"

namespace sockudo::apps {
namespace {

absl::Status Errno(const std::string& what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

// Writes `text` to `path` through a temporary file in the same directory and a rename.
absl::Status WriteAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create", tmp);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      absl::Status status = Errno("cannot write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return status;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    absl::Status status = Errno("cannot flush", tmp);
    ::unlink(tmp.c_str());
    return status;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    absl::Status status = Errno("cannot replace", path);
    ::unlink(tmp.c_str());
    return status;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<App>> FileAppStore::ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat("app_manager.file.path: cannot read ", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = base::ParseJson(text.str());
  if (!parsed || !parsed->is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat("app_manager.file.path: ", path, " is not a JSON array of apps"));
  }
  std::vector<App> apps;
  for (size_t i = 0; i < parsed->size(); ++i) {
    auto app = ReadApp((*parsed)[i]);
    if (!app.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, "[", i, "]: ", std::string(app.status().message())));
    }
    apps.push_back(*std::move(app));
  }
  return apps;
}

absl::StatusOr<std::unique_ptr<FileAppStore>> FileAppStore::Open(std::string path) {
  std::unique_ptr<FileAppStore> store(new FileAppStore(std::move(path)));
  SOCKUDO_RETURN_IF_ERROR(store->Reload());
  return store;
}

absl::Status FileAppStore::Reload() {
  SOCKUDO_ASSIGN_OR_RETURN(std::vector<App> apps, ReadFile(path_));
  std::vector<std::shared_ptr<const App>> shared;
  shared.reserve(apps.size());
  for (App& app : apps) shared.push_back(std::make_shared<const App>(std::move(app)));
  auto snapshot = Build(std::move(shared));
  if (!snapshot.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path_, ": ", std::string(snapshot.status().message())));
  }
  const std::vector<std::shared_ptr<const App>> before = All();
  const std::vector<AppChange> closing = ClosingChanges(before, (*snapshot)->apps);
  ReplaceAll(*std::move(snapshot));
  AppChangeListener listener;
  {
    std::lock_guard lock(listener_mu_);
    listener = changes_;
  }
  if (listener) {
    for (const AppChange& c : closing) listener(c);
  }
  return absl::OkStatus();
}

void FileAppStore::SetChangeListener(AppChangeListener listener) {
  std::lock_guard lock(listener_mu_);
  changes_ = std::move(listener);
}

absl::Status FileAppStore::Persist(const Snapshot& next) {
  base::Json array = base::Json::array();
  for (const auto& app : next.apps) array.push_back(StoredRecord(*app));
  return WriteAtomically(path_,
                         array.dump(2, ' ', false, base::Json::error_handler_t::replace) + "\n");
}

}  // namespace sockudo::apps
