#include "cli/config/config_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "yaml-cpp/yaml.h"

namespace sockudo::cli::config {
namespace {

constexpr const char* kRedacted = "REDACTED";

std::string Errno(const std::string& what, const std::string& path) {
  return absl::StrCat(what, " ", path, ": ", std::strerror(errno));
}

// mkdir -p with mode 0700 for the directories it creates.
absl::Status MakeDirs(const std::string& dir) {
  if (dir.empty()) return absl::OkStatus();
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(dir, " is not a directory"));
  }
  const auto slash = dir.find_last_of('/');
  if (slash != std::string::npos && slash > 0) {
    if (auto status = MakeDirs(dir.substr(0, slash)); !status.ok()) return status;
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(Errno("cannot create", dir));
  }
  return absl::OkStatus();
}

std::string Scalar(const YAML::Node& node, const char* key) {
  const YAML::Node value = node[key];
  if (!value || !value.IsScalar()) return "";
  return value.as<std::string>();
}

}  // namespace

std::string DefaultConfigPath() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg != nullptr && xdg[0] == '/') return absl::StrCat(xdg, "/sockudo/config");
  const char* home = std::getenv("HOME");
  return absl::StrCat(home != nullptr && home[0] != '\0' ? home : ".", "/.config/sockudo/config");
}

absl::StatusOr<ConfigFile> ConfigFile::Load(std::string path) {
  ConfigFile file;
  file.path_ = std::move(path);
  struct stat st;
  if (::stat(file.path_.c_str(), &st) != 0) {
    if (errno == ENOENT) return file;
    return absl::FailedPreconditionError(Errno("cannot read", file.path_));
  }
  file.exists_ = true;
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 0777));
    file.permission_warning_ =
        absl::StrCat("config file ", file.path_, " is readable by others (mode ", mode,
                     "); it holds tokens: chmod 600 ", file.path_);
  }
  std::ifstream in(file.path_);
  if (!in) return absl::FailedPreconditionError(Errno("cannot read", file.path_));
  std::stringstream text;
  text << in.rdbuf();
  try {
    YAML::Node root = YAML::Load(text.str());
    if (!root || root.IsNull()) return file;
    if (!root.IsMap()) {
      return absl::InvalidArgumentError(absl::StrCat(file.path_, ": not a YAML mapping"));
    }
    file.current_context_ = Scalar(root, "current-context");
    const YAML::Node contexts = root["contexts"];
    if (contexts && !contexts.IsNull()) {
      if (!contexts.IsSequence()) {
        return absl::InvalidArgumentError(absl::StrCat(file.path_, ": contexts: not a list"));
      }
      for (const YAML::Node& node : contexts) {
        Context context;
        context.name = Scalar(node, "name");
        if (context.name.empty()) {
          return absl::InvalidArgumentError(absl::StrCat(file.path_, ": a context without a name"));
        }
        context.server = Scalar(node, "server");
        context.token = Scalar(node, "token");
        context.ca_file = Scalar(node, "ca-file");
        context.app = Scalar(node, "app");
        if (node["tls"] && node["tls"].IsScalar()) context.tls = node["tls"].as<bool>();
        file.contexts_.push_back(std::move(context));
      }
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(file.path_, ": ", e.what()));
  }
  return file;
}

const Context* ConfigFile::Find(const std::string& name) const {
  for (const auto& context : contexts_) {
    if (context.name == name) return &context;
  }
  return nullptr;
}

void ConfigFile::SetContext(Context context) {
  for (auto& existing : contexts_) {
    if (existing.name == context.name) {
      existing = std::move(context);
      return;
    }
  }
  contexts_.push_back(std::move(context));
}

bool ConfigFile::DeleteContext(const std::string& name) {
  for (auto it = contexts_.begin(); it != contexts_.end(); ++it) {
    if (it->name == name) {
      contexts_.erase(it);
      if (current_context_ == name) current_context_.clear();
      return true;
    }
  }
  return false;
}

std::string ConfigFile::ToYaml(bool redact_tokens) const {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "current-context" << YAML::Value << YAML::DoubleQuoted << current_context_;
  out << YAML::Key << "contexts" << YAML::Value << YAML::BeginSeq;
  for (const auto& c : contexts_) {
    out << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << c.name;
    if (!c.server.empty()) {
      out << YAML::Key << "server" << YAML::Value << YAML::DoubleQuoted << c.server;
    }
    if (!c.token.empty()) {
      out << YAML::Key << "token" << YAML::Value << YAML::DoubleQuoted
          << (redact_tokens ? std::string(kRedacted) : c.token);
    }
    if (c.tls.has_value()) out << YAML::Key << "tls" << YAML::Value << (*c.tls ? "true" : "false");
    if (!c.ca_file.empty()) {
      out << YAML::Key << "ca-file" << YAML::Value << YAML::DoubleQuoted << c.ca_file;
    }
    if (!c.app.empty()) out << YAML::Key << "app" << YAML::Value << YAML::DoubleQuoted << c.app;
    out << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

absl::Status ConfigFile::Save() const {
  const auto slash = path_.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path_.substr(0, slash);
  if (auto status = MakeDirs(dir); !status.ok()) return status;
  const std::string temp = absl::StrCat(path_, ".tmp.", ::getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::FailedPreconditionError(Errno("cannot write", temp));
  const std::string text = absl::StrCat(
      "# sockudoctl contexts (sockudoctl config --help). Holds tokens: keep it mode 0600.\n",
      ToYaml(/*redact_tokens=*/false));
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const auto status = absl::FailedPreconditionError(Errno("cannot write", temp));
      ::close(fd);
      ::unlink(temp.c_str());
      return status;
    }
    written += static_cast<size_t>(n);
  }
  // open() honours the umask; the file must end up 0600 whatever it is.
  ::fchmod(fd, 0600);
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(temp.c_str());
    return absl::FailedPreconditionError(Errno("cannot write", temp));
  }
  if (::rename(temp.c_str(), path_.c_str()) != 0) {
    const auto status = absl::FailedPreconditionError(Errno("cannot replace", path_));
    ::unlink(temp.c_str());
    return status;
  }
  return absl::OkStatus();
}

}  // namespace sockudo::cli::config
