#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "webhook/http_request.h"

namespace {

using bgpcomm::webhook::HttpRequest;
using bgpcomm::webhook::RequestReader;

struct Framing {
  std::vector<std::string> requests;  // method, target and body of each complete one
  int rejected = 0;                   // the refusal's status, 0 when none
};

// Frames `input` as a connection would deliver it, `piece` bytes at a time.
Framing Frame(std::string_view input, std::size_t piece) {
  RequestReader reader({.max_body_bytes = 4096, .max_headers = 20});
  Framing framing;
  for (std::size_t at = 0; at < input.size(); at += piece) {
    auto status = reader.Feed(input.substr(at, piece));
    while (status == RequestReader::Status::kComplete) {
      HttpRequest request = reader.TakeRequest();
      // The path is the target's start; the body is within the limit.
      if (request.target.compare(0, request.path.size(), request.path) != 0 ||
          request.body.size() > 4096) {
        __builtin_trap();
      }
      framing.requests.push_back(request.method + " " + request.target + " " + request.body);
      status = reader.Feed({});
    }
    if (status == RequestReader::Status::kRejected) {
      framing.rejected = reader.rejection().status;
      if (framing.rejected < 400 || reader.rejection().message.empty()) __builtin_trap();
      break;
    }
  }
  return framing;
}

}  // namespace

// Any bytes a client sends are framed into requests or refused with a 4xx or 5xx and a
// message, never a crash; and the same bytes give the same requests and the same refusal
// however the network splits them (the first byte chooses the piece size).
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  Framing whole = Frame(input, input.size() + 1);
  Framing pieces = Frame(input, data[0] % 64 + 1);
  if (whole.requests != pieces.requests || whole.rejected != pieces.rejected) __builtin_trap();
  return 0;
}
