#pragma once

#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <string>

#include "shared/common/json.hpp"

namespace offers::test {

// Parses a reply body; a body that is not JSON fails the test there and then.
inline rapidjson::Document json(const std::string& text) {
  rapidjson::Document d;
  std::string error;
  if (!parse_json(text, d, error)) FAIL("not JSON: " << error << " in " << text);
  return d;
}

}  // namespace offers::test
