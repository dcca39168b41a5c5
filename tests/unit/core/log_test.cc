#include "core/log.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace beckon {
namespace {

std::string format_line(bool json, std::string_view message) {
  auto formatter = make_log_formatter(json);
  spdlog::details::log_msg msg(spdlog::source_loc{}, "beckon", spdlog::level::info, message);
  spdlog::memory_buf_t out;
  formatter->format(msg, out);
  return std::string(out.data(), out.size());
}

TEST(JsonLogs, EveryLineParsesWhateverTheMessageHolds) {
  const std::string message = "broker \"b1\" said: C:\\path\ttab\nnewline \x01 done";
  const std::string line = format_line(true, message);
  auto doc = nlohmann::json::parse(line, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << line;
  EXPECT_EQ(doc["msg"], message);
  EXPECT_EQ(doc["level"], "info");
  EXPECT_TRUE(doc.contains("ts"));
}

TEST(JsonLogs, TextFormatIsNotJson) {
  const std::string line = format_line(false, "hello");
  EXPECT_NE(line.find("hello"), std::string::npos);
  EXPECT_TRUE(nlohmann::json::parse(line, nullptr, false).is_discarded());
}

}  // namespace
}  // namespace beckon
