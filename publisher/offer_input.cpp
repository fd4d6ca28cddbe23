#include "publisher/offer_input.hpp"

#include "shared/common/envelope.hpp"
#include "shared/common/json.hpp"

namespace offers {

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

OfferInputCheck check_offer_body(std::string_view body) {
  OfferInputCheck r;
  rapidjson::Document doc;
  if (body.empty()) {
    r.error = "body is empty; expected a JSON object with a description";
    return r;
  }
  if (!parse_json_object(body, doc, r.error)) return r;
  const auto desc = doc.FindMember("description");
  if (desc == doc.MemberEnd()) {
    r.error = "description is required";
    return r;
  }
  if (!desc->value.IsString()) {
    r.error = "description must be a string";
    return r;
  }
  std::string_view d(desc->value.GetString(), desc->value.GetStringLength());
  if (d.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    r.error = "description must not be empty";
    return r;
  }
  if (utf8_length(d) > kMaxDescriptionLength) {
    r.error = "description must be at most 1000 characters";
    return r;
  }
  if (const auto id = doc.FindMember("id"); id != doc.MemberEnd() && !id->value.IsInt64()) {
    r.error = "id must be an integer";
    return r;
  }
  r.input = OfferInput{std::string(d)};
  return r;
}

}  // namespace offers
