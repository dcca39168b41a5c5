#pragma once

#include <string_view>

namespace beckon::schemas {

// The text of schemas/events.fbs and schemas/actions.fbs, for flatbuffers::Parser (JSON codec).
// actions.fbs includes "events.fbs"; parse events first or register it as an include.
std::string_view events_fbs();
std::string_view actions_fbs();

}  // namespace beckon::schemas
