#pragma once

// Reads every byte a decoded event points at, so AddressSanitizer checks that each view stays
// inside the input or the decoder's buffers.

#include <cstdint>
#include <string_view>

#include "journey/types.h"

namespace beckon::fuzz {

inline uint64_t touch(std::string_view s) {
  uint64_t h = s.size();
  for (char c : s) h = h * 31 + static_cast<uint8_t>(c);
  return h;
}

inline uint64_t touch(const journey::Event& e) {
  uint64_t h = touch(e.event_id) + touch(e.customer_id) + touch(e.url) + touch(e.session_id) +
               touch(e.sku) + touch(e.category) + touch(e.currency) + touch(e.order_id) +
               touch(e.carrier) + touch(e.reason) + touch(e.timezone) + touch(e.locale);
  for (const auto& it : e.items) h += touch(it.sku) + touch(it.category) + static_cast<uint64_t>(it.quantity);
  return h;
}

}  // namespace beckon::fuzz
