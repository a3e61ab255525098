// File: table.h
// Aligned text tables as kubectl prints them: upper-case headers, columns padded to their widest
// cell (counted in UTF-8 code points) and separated by three spaces, no trailing blanks. Also the
// small formatters the tables share (ages, sizes, timestamps).
//
//   output::Table table({"ID", "KEY", "ENABLED"});
//   table.AddRow({"chat", "k1", "true"});
//   std::cout << table.Render(/*headers=*/true);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "google/protobuf/timestamp.pb.h"

namespace sockudo::cli::output {

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

  // Missing cells print empty; extra ones are dropped.
  void AddRow(std::vector<std::string> cells);
  size_t rows() const { return rows_.size(); }

  // Every line ends with '\n'. Without headers only the rows are printed.
  std::string Render(bool headers = true) const;
  // The rendered lines without their newline, each cut to `max_width` code points when it is
  // positive (a live view must not wrap).
  std::vector<std::string> Lines(bool headers = true, int max_width = 0) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// Number of code points of UTF-8 `s` (what a terminal column count approximates).
size_t DisplayWidth(const std::string& s);
// `s` cut to `width` code points.
std::string Truncate(const std::string& s, size_t width);

// 950ms, 12s, 3m4s, 5h6m, 2d3h.
std::string FormatAge(int64_t milliseconds);
// 512B, 12.3KiB, 45.6MiB, 1.2GiB.
std::string FormatBytes(int64_t bytes);
// RFC 3339 in UTC with seconds; "-" when unset.
std::string FormatTime(const google::protobuf::Timestamp& time);
// "true"/"false".
inline std::string FormatBool(bool value) { return value ? "true" : "false"; }

}  // namespace sockudo::cli::output
