// File: callback.h
// How the services that ask the cluster answer: once, later, on the bus observer's thread.
#pragma once

#include <functional>

#include "absl/status/statusor.h"

namespace sockudo::controlplane::service {

template <typename T>
using Callback = std::function<void(absl::StatusOr<T>)>;

}  // namespace sockudo::controlplane::service
