#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace beckon {

// A value of type T that does not convert implicitly to or from other StrongTypes, so a
// partition cannot be passed where an offset is expected, nor event time where wall time is.
// Trivially copyable; as thread-safe as T.
template <typename T, typename Tag>
class StrongType {
 public:
  using ValueType = T;
  constexpr StrongType() = default;
  constexpr explicit StrongType(T v) : value_(v) {}
  constexpr T value() const { return value_; }
  constexpr auto operator<=>(const StrongType&) const = default;

 private:
  T value_{};
};

}  // namespace beckon

template <typename T, typename Tag>
struct std::hash<beckon::StrongType<T, Tag>> {
  size_t operator()(const beckon::StrongType<T, Tag>& v) const noexcept { return std::hash<T>{}(v.value()); }
};
