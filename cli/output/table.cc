#include "cli/output/table.h"

#include <algorithm>
#include <cstdio>

#include "google/protobuf/util/time_util.h"

namespace sockudo::cli::output {
namespace {

constexpr const char* kGap = "   ";

std::string RightTrim(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

size_t DisplayWidth(const std::string& s) {
  size_t width = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++width;  // count lead bytes only
  }
  return width;
}

std::string Truncate(const std::string& s, size_t width) {
  size_t seen = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (seen == width) return s.substr(0, i);
      ++seen;
    }
  }
  return s;
}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

std::vector<std::string> Table::Lines(bool headers, int max_width) const {
  std::vector<size_t> widths(headers_.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], DisplayWidth(row[i]));
  };
  if (headers) measure(headers_);
  for (const auto& row : rows_) measure(row);

  std::vector<std::string> lines;
  auto render = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) line += kGap;
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - DisplayWidth(row[i]), ' ');
    }
    line = RightTrim(std::move(line));
    if (max_width > 0) line = Truncate(line, static_cast<size_t>(max_width));
    lines.push_back(std::move(line));
  };
  if (headers) render(headers_);
  for (const auto& row : rows_) render(row);
  return lines;
}

std::string Table::Render(bool headers) const {
  std::string text;
  for (const auto& line : Lines(headers)) {
    text += line;
    text += '\n';
  }
  return text;
}

std::string FormatAge(int64_t ms) {
  if (ms < 0) ms = 0;
  if (ms < 1000) return std::to_string(ms) + "ms";
  int64_t s = ms / 1000;
  if (s < 60) return std::to_string(s) + "s";
  int64_t m = s / 60;
  if (m < 60) return std::to_string(m) + "m" + (s % 60 ? std::to_string(s % 60) + "s" : "");
  int64_t h = m / 60;
  if (h < 24) return std::to_string(h) + "h" + (m % 60 ? std::to_string(m % 60) + "m" : "");
  int64_t d = h / 24;
  return std::to_string(d) + "d" + (h % 24 ? std::to_string(h % 24) + "h" : "");
}

std::string FormatBytes(int64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes < 0 ? 0 : bytes) + "B";
  static const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes) / 1024.0;
  int unit = 0;
  while (value >= 1024.0 && unit < 3) {
    value /= 1024.0;
    ++unit;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.1f%s", value, kUnits[unit]);
  return buffer;
}

std::string FormatTime(const google::protobuf::Timestamp& time) {
  if (time.seconds() == 0 && time.nanos() == 0) return "-";
  google::protobuf::Timestamp whole = time;
  whole.set_nanos(0);
  return google::protobuf::util::TimeUtil::ToString(whole);
}

}  // namespace sockudo::cli::output
