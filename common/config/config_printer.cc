#include "absl/strings/str_split.h"
#include "common/base/json.h"
#include "common/base/strings.h"
#include "common/config/config_bindings.h"
#include "common/config/config_loader.h"

namespace sockudo::config {

std::string PrintConfig(const Config& config) {
  Config copy = config;
  base::Json out = base::Json::object();
  for (const internal::Binding& b : internal::Bindings(copy)) {
    base::Json value = std::visit(
        [](auto* target) -> base::Json {
          using T = std::remove_pointer_t<decltype(target)>;
          if constexpr (std::is_same_v<T, std::optional<bool>> ||
                        std::is_same_v<T, std::optional<int64_t>> ||
                        std::is_same_v<T, std::optional<std::string>>) {
            return target->has_value() ? base::Json(**target) : base::Json(nullptr);
          } else {
            return base::Json(*target);
          }
        },
        b.target);
    if (b.secret && !value.is_null()) value = "********";
    base::Json* node = &out;
    for (absl::string_view part : absl::StrSplit(base::Av(b.path), '.'))
      node = &(*node)[std::string(part)];
    *node = std::move(value);
  }
  base::Json apps = base::Json::array();
  for (const apps::App& app : config.app_manager.apps) {
    base::Json j = app.ToJson(false);
    j["secret"] = "********";
    apps.push_back(std::move(j));
  }
  out["app_manager"]["array"]["apps"] = std::move(apps);
  return out.dump(2, ' ', false, base::Json::error_handler_t::replace);
}

}  // namespace sockudo::config
