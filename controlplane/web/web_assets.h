// File: web_assets.h
// The live cluster page (index.html, app.js, style.css in this folder), compiled into the binary
// by cmake/embed_assets.cmake and served by the REST port at `/`: no build step, no CDN.
#pragma once

#include <string_view>

namespace sockudo::controlplane::web {

struct WebAsset {
  std::string_view path;  // "/", "/app.js", ...
  std::string_view content_type;
  std::string_view body;
};

// nullptr when no asset has that path.
const WebAsset* FindWebAsset(std::string_view path);

}  // namespace sockudo::controlplane::web
