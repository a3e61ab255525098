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

TEST(JsonTest, RawMemberKeepsTheTextOfNumbers) {
  const std::string text =
      R"({"a":1,"user_id": 100000000000000000000000000001 ,"s":"x,}","o":{"user_id":2},"n":[1,{"b":"]"}]})";
  ASSERT_TRUE(ParseJson(text).has_value());
  EXPECT_EQ(RawMember(text, "user_id"), "100000000000000000000000000001");
  EXPECT_EQ(RawMember(text, "s"), "\"x,}\"");
  EXPECT_EQ(RawMember(text, "o"), R"({"user_id":2})");
  EXPECT_EQ(RawMember(text, "n"), R"([1,{"b":"]"}])");
  EXPECT_EQ(RawMember(text, "missing"), std::nullopt);
  EXPECT_EQ(RawMember(R"({"k":1,"k":2.50})", "k"), "2.50");  // the last one, as parsed
  EXPECT_EQ(RawMember("[1]", "k"), std::nullopt);
}

TEST(JsonTest, IsValidUtf8) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xC3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xFF"));
}

}  // namespace
}  // namespace sockudo::base
