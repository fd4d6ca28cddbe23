// The framing of requests before Pistache parses them: every input is framed, waits or is
// rejected with a status of the contract.
#include <cstdlib>
#include <string_view>

#include "shared/http/http_framing.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using State = offers::RequestFrame::State;
  const offers::HttpLimits limits;
  const auto f = offers::frame_request({reinterpret_cast<const char*>(data), size}, limits);
  switch (f.state) {
    case State::Complete:
      if (!f.head_complete || f.total() > size || f.head_bytes < 16 ||
          f.head_bytes > limits.max_head_bytes || f.body_bytes > limits.max_body_bytes)
        std::abort();
      break;
    case State::Reject:
      if (f.error.empty() || (f.status != 400 && f.status != 411 && f.status != 413 &&
                              f.status != 431 && f.status != 505))
        std::abort();
      break;
    case State::NeedMore:
      if (size > limits.max_head_bytes + limits.max_body_bytes) std::abort();
      break;
  }
  return 0;
}
