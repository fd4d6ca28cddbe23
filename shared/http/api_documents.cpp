#include "shared/http/api_documents.hpp"

namespace offers {

void add_openapi_route(HttpService& http, std::string_view document) {
  http.route(Pistache::Http::Method::Get, "/openapi.yaml", [document](HttpCall& c) {
    c.response.headers().add<Pistache::Http::Header::ContentType>(Pistache::Http::Mime::MediaType(
        "application/yaml", Pistache::Http::Mime::MediaType::DoParse));
    send_reply(c.response, Pistache::Http::Code::Ok, std::string(document));
  });
}

}  // namespace offers
