#pragma once

#include <vector>

#include "codec/event_builder.h"

namespace beckon::codec::testing {

// One valid EventSpec for each of the 14 body types, with every field of the type set.
std::vector<EventSpec> one_event_of_each_type();

// A valid CartUpdated with two items.
EventSpec cart_event();

}  // namespace beckon::codec::testing
