// Duration and size spellings of the configuration file.

#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace beckon::config {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads the leading decimal digits of `s` into `out`; false if none or on overflow.
bool take_number(std::string_view& s, uint64_t& out) {
  size_t n = 0;
  while (n < s.size() && is_digit(s[n])) ++n;
  if (n == 0) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + n, out);
  if (ec != std::errc() || ptr != s.data() + n) return false;
  s.remove_prefix(n);
  return true;
}

bool mul_add(uint64_t& acc, uint64_t value, uint64_t unit, uint64_t limit) {
  if (unit != 0 && value > limit / unit) return false;
  const uint64_t product = value * unit;
  if (acc > limit - product) return false;
  acc += product;
  return true;
}

}  // namespace

std::optional<Millis> parse_duration(std::string_view text) {
  std::string_view s = trim(text);
  if (s == "0") return Millis(0);
  if (s.empty()) return std::nullopt;
  constexpr uint64_t kLimit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  uint64_t total = 0;
  // Units must appear in decreasing order, each at most once ("1h30m", not "30m1h").
  int last_rank = 100;
  while (!s.empty()) {
    uint64_t value = 0;
    if (!take_number(s, value)) return std::nullopt;
    size_t n = 0;
    while (n < s.size() && !is_digit(s[n])) ++n;
    const std::string_view unit = s.substr(0, n);
    s.remove_prefix(n);
    uint64_t ms = 0;
    int rank = 0;
    if (unit == "ms") { ms = 1; rank = 0; }
    else if (unit == "s") { ms = 1000; rank = 1; }
    else if (unit == "m") { ms = 60'000; rank = 2; }
    else if (unit == "h") { ms = 3'600'000; rank = 3; }
    else if (unit == "d") { ms = 86'400'000; rank = 4; }
    else if (unit == "w") { ms = 604'800'000; rank = 5; }
    else return std::nullopt;
    if (rank >= last_rank) return std::nullopt;
    last_rank = rank;
    if (!mul_add(total, value, ms, kLimit)) return std::nullopt;
  }
  return Millis(static_cast<int64_t>(total));
}

std::optional<uint64_t> parse_size(std::string_view text) {
  std::string_view s = trim(text);
  uint64_t value = 0;
  if (!take_number(s, value)) return std::nullopt;
  s = trim(s);
  uint64_t unit = 0;
  if (s.empty() || s == "B") unit = 1;
  else if (s == "KiB") unit = uint64_t{1} << 10;
  else if (s == "MiB") unit = uint64_t{1} << 20;
  else if (s == "GiB") unit = uint64_t{1} << 30;
  else if (s == "TiB") unit = uint64_t{1} << 40;
  else if (s == "KB" || s == "kB") unit = 1'000;
  else if (s == "MB") unit = 1'000'000;
  else if (s == "GB") unit = 1'000'000'000;
  else if (s == "TB") unit = 1'000'000'000'000;
  else return std::nullopt;
  uint64_t total = 0;
  if (!mul_add(total, value, unit, std::numeric_limits<uint64_t>::max())) return std::nullopt;
  return total;
}

std::string format_duration(Millis d) {
  int64_t ms = d.count();
  if (ms == 0) return "0";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  struct Unit { int64_t ms; const char* name; };
  constexpr Unit kUnits[] = {{604'800'000, "w"}, {86'400'000, "d"}, {3'600'000, "h"},
                             {60'000, "m"},      {1000, "s"},       {1, "ms"}};
  for (const Unit& u : kUnits) {
    if (ms >= u.ms) {
      out += std::to_string(ms / u.ms);
      out += u.name;
      ms %= u.ms;
    }
  }
  return out;
}

}  // namespace beckon::config
