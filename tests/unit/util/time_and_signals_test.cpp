// util/time and util/signals: the text forms docker users type.
#include <signal.h>

#include <catch2/catch.hpp>

#include "skiff/util/signals.hpp"
#include "skiff/util/time.hpp"

using skiff::parse_rfc3339_ns;
using skiff::parse_signal;
using skiff::parse_time_point_ns;
using skiff::rfc3339_nano;
using skiff::signal_name;

constexpr int64_t kSecond = 1'000'000'000;

TEST_CASE("rfc3339_nano writes UTC with nine digits, and parse_rfc3339_ns reads it back") {
  CHECK(rfc3339_nano(0) == "1970-01-01T00:00:00.000000000Z");
  int64_t t = 1796670000 * kSecond + 123456789;
  CHECK(rfc3339_nano(t) == "2026-12-07T19:00:00.123456789Z");
  CHECK(parse_rfc3339_ns(rfc3339_nano(t)) == t);
}

TEST_CASE("parse_rfc3339_ns: fractions, zones, a date alone; anything else is nullopt") {
  CHECK(parse_rfc3339_ns("2026-12-07T19:00:00Z") == 1796670000 * kSecond);
  CHECK(parse_rfc3339_ns("2026-12-07T20:00:00+01:00") == 1796670000 * kSecond);
  CHECK(parse_rfc3339_ns("2026-12-07T18:30:00-00:30") == 1796670000 * kSecond);
  CHECK(parse_rfc3339_ns("2026-12-07T19:00:00.5Z") == 1796670000 * kSecond + kSecond / 2);
  CHECK(parse_rfc3339_ns("2026-12-07") == 1796601600 * kSecond);
  for (const char* bad : {"", "yesterday", "2026-13-07T19:00:00Z", "2026-12-07T25:00:00Z", "2026-12-07T19:00Z",
                          "2026-12-07T19:00:00.Z", "2026-12-07T19:00:00Zjunk", "2026-12-07T19:00:00+1"})
    CHECK_FALSE(parse_rfc3339_ns(bad));
}

TEST_CASE("parse_time_point_ns: RFC 3339, a Unix time, or a duration before now") {
  int64_t now = 1796670000 * kSecond;
  CHECK(parse_time_point_ns("2026-12-07T19:00:00Z", now) == now);
  CHECK(parse_time_point_ns("1796670000", now) == now);
  CHECK(parse_time_point_ns("1796670000.25", now) == now + kSecond / 4);
  CHECK(parse_time_point_ns("10m", now) == now - 600 * kSecond);
  CHECK(parse_time_point_ns("1h30m", now) == now - 5400 * kSecond);
  CHECK(parse_time_point_ns("1.5h", now) == now - 5400 * kSecond);
  CHECK(parse_time_point_ns("250ms", now) == now - kSecond / 4);
  for (const char* bad : {"", "10", "m", "10x", "-5m", "1h-", "ten minutes"}) {
    INFO(bad);
    if (std::string_view(bad) == "10") continue;  // a Unix time: ten seconds after the epoch
    CHECK_FALSE(parse_time_point_ns(bad, now));
  }
  CHECK(parse_time_point_ns("10", now) == 10 * kSecond);
}

TEST_CASE("parse_signal: names with or without SIG, any case, numbers, real-time ones") {
  CHECK(parse_signal("KILL") == SIGKILL);
  CHECK(parse_signal("SIGTERM") == SIGTERM);
  CHECK(parse_signal("sigusr1") == SIGUSR1);
  CHECK(parse_signal("hup") == SIGHUP);
  CHECK(parse_signal("9") == 9);
  CHECK(parse_signal("SIGRTMIN") == SIGRTMIN);
  CHECK(parse_signal("RTMIN+3") == SIGRTMIN + 3);
  CHECK(parse_signal("SIGRTMAX-1") == SIGRTMAX - 1);
  for (const char* bad : {"", "0", "65", "-1", "NOPE", "SIG", "RTMIN-1", "RTMAX+1", "RTMIN+99", "9x"}) {
    INFO(bad);
    CHECK_FALSE(parse_signal(bad));
  }
}

TEST_CASE("signal_name is the canonical SIG name") {
  CHECK(signal_name(SIGTERM) == "SIGTERM");
  CHECK(signal_name(SIGABRT) == "SIGABRT");
  CHECK(signal_name(SIGCHLD) == "SIGCHLD");
  CHECK(signal_name(SIGRTMIN + 2) == "SIGRTMIN+2");
  CHECK(parse_signal(signal_name(SIGWINCH)) == SIGWINCH);
}
