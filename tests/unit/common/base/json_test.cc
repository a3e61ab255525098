#include "common/base/json.h"

#include <gtest/gtest.h>

namespace sockudo::base {
namespace {

TEST(AppendJsonStringTest, EscapesLikeJsonStringify) {
  EXPECT_EQ(JsonString("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(JsonString("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(JsonString(std::string("\x01", 1)), R"("\u0001")");
  EXPECT_EQ(JsonString("/"), R"("/")");
  EXPECT_EQ(JsonString("h\xC3\xA9llo \xE2\x82\xAC"),
            "\"h\xC3\xA9llo \xE2\x82\xAC\"");  // UTF-8 kept
}

TEST(AppendJsonStringTest, ReplacesInvalidUtf8) {
  EXPECT_EQ(JsonString("a\xFF"
                       "b"),
            "\"a\xEF\xBF\xBD"
            "b\"");
  EXPECT_EQ(JsonString("\xC3"), "\"\xEF\xBF\xBD\"");
}

TEST(ParseJsonTest, RejectsInvalidAndTooDeep) {
  EXPECT_TRUE(ParseJson(R"({"a":[1,2,{"b":null}]})").has_value());
  EXPECT_FALSE(ParseJson("{").has_value());
  EXPECT_FALSE(ParseJson("").has_value());
  EXPECT_FALSE(ParseJson(std::string(65, '[') + std::string(65, ']')).has_value());
  EXPECT_TRUE(ParseJson(std::string(64, '[') + std::string(64, ']')).has_value());
  // Brackets inside strings do not count.
  EXPECT_FALSE(JsonDepthExceeds(
      R"({"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["})", 64));
}

TEST(DumpTest, CompactAndOrdered) {
  Json j = Json::parse(R"({"z":1,"a":{"y":"é","b":[true,null]}})");
  EXPECT_EQ(Dump(j), R"({"z":1,"a":{"y":"é","b":[true,null]}})");
}

}  // namespace
}  // namespace sockudo::base
