#include "shared/common/envelope.hpp"

#include "shared/common/json.hpp"

namespace offers {
namespace {

bool read_offer(const rapidjson::Value& v, std::string_view where, Offer& out, std::string& error) {
  if (!v.IsObject()) {
    error = std::string(where) + " is not an object";
    return false;
  }
  const auto id = v.FindMember("id");
  if (id == v.MemberEnd() || !id->value.IsInt64()) {
    error = std::string(where) + ".id is missing or not an integer";
    return false;
  }
  const auto desc = v.FindMember("description");
  if (desc == v.MemberEnd() || !desc->value.IsString()) {
    error = std::string(where) + ".description is missing or not a string";
    return false;
  }
  out.id = id->value.GetInt64();
  out.description.assign(desc->value.GetString(), desc->value.GetStringLength());
  out.json = to_json(v);
  return true;
}

EventKind kind_of(std::string_view name) {
  if (name == kOfferCreated) return EventKind::Created;
  if (name == kOfferUpdated) return EventKind::Updated;
  if (name == kOfferRemoved) return EventKind::Removed;
  return EventKind::Unknown;
}

}  // namespace

EventParse parse_event(std::string_view body) {
  EventParse r;
  if (body.size() > kMaxEventBytes) {
    r.error = "message body is larger than " + std::to_string(kMaxEventBytes / 1024) + " KiB";
    return r;
  }
  char buffer[8192];  // a typical event's values fit: no heap allocation for the parse
  rapidjson::MemoryPoolAllocator<> pool(buffer, sizeof buffer);
  rapidjson::Document doc(&pool);
  if (!parse_json(body, doc, r.error)) return r;
  if (!doc.IsObject()) {
    r.error = "body is not a JSON object";
    return r;
  }
  Event e;
  const auto seq = doc.FindMember("sequenceNumber");
  if (seq == doc.MemberEnd() || !seq->value.IsInt64() || seq->value.GetInt64() < 1) {
    r.error = "sequenceNumber is missing or not a positive integer";
    return r;
  }
  e.sequence_number = seq->value.GetInt64();
  const auto at = doc.FindMember("occurredAt");
  if (at == doc.MemberEnd() || !at->value.IsString()) {
    r.error = "occurredAt is missing or not a string";
    return r;
  }
  e.occurred_at = at->value.GetString();
  const auto name = doc.FindMember("name");
  if (name == doc.MemberEnd() || !name->value.IsString()) {
    r.error = "name is missing or not a string";
    return r;
  }
  e.name = name->value.GetString();
  const auto content = doc.FindMember("content");
  if (content == doc.MemberEnd()) {
    r.error = "content is missing";
    return r;
  }
  e.kind = kind_of(e.name);
  const rapidjson::Value& c = content->value;
  switch (e.kind) {
    case EventKind::Created:
      if (!read_offer(c, "content", e.offer, r.error)) return r;
      break;
    case EventKind::Updated: {
      if (!c.IsObject() || !c.HasMember("oldOffer") || !c.HasMember("newOffer")) {
        r.error = "content needs oldOffer and newOffer";
        return r;
      }
      Offer old_offer;
      if (!read_offer(c["oldOffer"], "content.oldOffer", old_offer, r.error)) return r;
      if (!read_offer(c["newOffer"], "content.newOffer", e.offer, r.error)) return r;
      if (old_offer.id != e.offer.id) {
        r.error = "content.oldOffer.id and content.newOffer.id differ";
        return r;
      }
      e.old_offer = std::move(old_offer);
      break;
    }
    case EventKind::Removed:
      if (!c.IsObject() || !c.HasMember("offer")) {
        r.error = "content needs offer";
        return r;
      }
      if (!read_offer(c["offer"], "content.offer", e.offer, r.error)) return r;
      break;
    case EventKind::Unknown:
      break;
  }
  r.event = std::move(e);
  return r;
}

std::string build_offer_json(int64_t id, std::string_view description) {
  return "{\"id\":" + std::to_string(id) + ",\"description\":" + json_quote(description) + "}";
}

std::string build_event_json(int64_t sequence_number, std::string_view occurred_at,
                             std::string_view name, std::string_view content_json) {
  std::string out = "{\"sequenceNumber\":" + std::to_string(sequence_number) +
                    ",\"occurredAt\":" + json_quote(occurred_at) + ",\"name\":" + json_quote(name) +
                    ",\"content\":";
  out.append(content_json);
  out.push_back('}');
  return out;
}

std::string message_id_for(int64_t sequence_number) {
  return "special-offers-" + std::to_string(sequence_number);
}

}  // namespace offers
