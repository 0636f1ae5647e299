#include "skiff/image/config_change.hpp"

#include <catch2/catch.hpp>

#include "skiff/util/error.hpp"

using nlohmann::json;
using skiff::image::apply_change;

TEST_CASE("CMD and ENTRYPOINT in exec and shell form") {
  json c;
  apply_change(R"(CMD ["echo", "hi"])", c);
  CHECK(c["Cmd"] == json::array({"echo", "hi"}));
  apply_change("entrypoint /bin/run --fast", c);
  CHECK(c["Entrypoint"] == json::array({"/bin/sh", "-c", "/bin/run --fast"}));
}

TEST_CASE("ENV forms replace earlier values") {
  json c;
  apply_change("ENV A=1 B=\"two words\"", c);
  apply_change("ENV A 3", c);
  CHECK(c["Env"] == json::array({"A=3", "B=two words"}));
}

TEST_CASE("WORKDIR, USER, EXPOSE, LABEL, VOLUME, STOPSIGNAL") {
  json c;
  apply_change("WORKDIR /srv", c);
  apply_change("USER app:staff", c);
  apply_change("EXPOSE 80 53/udp", c);
  apply_change("LABEL a=b", c);
  apply_change("VOLUME /data /logs", c);
  apply_change("STOPSIGNAL SIGINT", c);
  CHECK(c["WorkingDir"] == "/srv");
  CHECK(c["User"] == "app:staff");
  CHECK(c["ExposedPorts"].contains("80/tcp"));
  CHECK(c["ExposedPorts"].contains("53/udp"));
  CHECK(c["Labels"]["a"] == "b");
  CHECK(c["Volumes"].contains("/logs"));
  CHECK(c["StopSignal"] == "SIGINT");
}

TEST_CASE("unknown or malformed instructions are refused") {
  json c;
  CHECK_THROWS_WITH(apply_change("RUN true", c), Catch::Contains("cannot be used here"));
  CHECK_THROWS_AS(apply_change("ENV", c), skiff::Error);
  CHECK_THROWS_AS(apply_change("ENV A=\"open", c), skiff::Error);
}
