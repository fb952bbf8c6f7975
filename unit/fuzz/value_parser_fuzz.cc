#include <cstddef>
#include <cstdint>
#include <string_view>

#include "community/value.h"

// Any byte string given to the value parser must yield a value or a message, never a
// crash; a parsed value must format to text that parses back to the same value.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = bgpcomm::community::ParseValue(text);
  if (parsed) {
    auto again = bgpcomm::community::ParseValue(bgpcomm::community::Format(parsed->value));
    if (!again || again->value != parsed->value || !again->canonical) __builtin_trap();
  } else if (parsed.error().empty()) {
    __builtin_trap();
  }
  return 0;
}
