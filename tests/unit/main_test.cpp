// Catch2's main, compiled once for every unit test, with the TAP reporter
// that meson's test protocol reads.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#include <catch2/catch_reporter_tap.hpp>
