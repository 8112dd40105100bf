#include "proxy/log_text.h"

#include <gtest/gtest.h>

namespace pgshim::proxy {
namespace {

TEST(Loggable, KeepsPrintableTextAndUtf8) {
  EXPECT_EQ(loggable("shop-v1 café"), "shop-v1 café");
  EXPECT_EQ(loggable(""), "");
}

TEST(Loggable, NoControlCharacterReachesTheLog) {
  EXPECT_EQ(loggable("app\n2026-01-01 00:00:00.000 info forged line"),
            "app 2026-01-01 00:00:00.000 info forged line");
  EXPECT_EQ(loggable("a\rb\tc"), "a b c");
  EXPECT_EQ(loggable(std::string("a\0b\x1b[31mc\x7f", 10)), "a?b?[31mc?");
}

TEST(Loggable, TruncatesAndSaysSo) {
  EXPECT_EQ(loggable("abcdef", 3), "abc...");
  EXPECT_EQ(loggable("abc", 3), "abc");
}

}  // namespace
}  // namespace pgshim::proxy
