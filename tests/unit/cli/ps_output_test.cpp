// top's handling of ps: the arguments docker would give it, and its output
// narrowed to a container's processes.
#include "cli/ps_output.hpp"

#include <catch2/catch.hpp>

#include "skiff/util/error.hpp"

using skiff::cli::filter_ps_output;
using skiff::cli::ps_arguments;
using Strings = std::vector<std::string>;

TEST_CASE("ps output: -ef when no option is given; options are words split at spaces") {
  CHECK(ps_arguments({}) == Strings{"-ef"});
  CHECK(ps_arguments({"-o", "pid,comm"}) == Strings{"-o", "pid,comm"});
  CHECK(ps_arguments({"-o pid,comm"}) == Strings{"-o", "pid,comm"});
  CHECK(ps_arguments({"aux"}) == Strings{"aux"});
  CHECK(ps_arguments({"  "}) == Strings{"-ef"});
}

TEST_CASE("ps output: only pid's column may be titled PID") {
  CHECK(ps_arguments({"-o", "pid=PID,comm"}) == Strings{"-o", "pid=PID,comm"});
  CHECK(ps_arguments({"-o", "comm,pid=PID"}) == Strings{"-o", "comm,pid=PID"});
  CHECK(ps_arguments({"-o", "pid,comm=NAME"}) == Strings{"-o", "pid,comm=NAME"});
  CHECK_THROWS_WITH(ps_arguments({"-o", "pid,comm=PID"}),
                    "specifying \"pid,comm=PID\" is not allowed: top finds a container's processes by the column "
                    "titled PID");
  CHECK_THROWS_WITH(ps_arguments({"-o", "comm=", "PIDS"}), Catch::StartsWith("specifying \"comm=PIDS\""));
}

TEST_CASE("ps output: the header and the rows of the container's pids, in ps's order") {
  std::string out =
      "UID          PID    PPID  C STIME TTY          TIME CMD\n"
      "root           1       0  0 10:00 ?        00:00:01 /sbin/init splash\n"
      "1000        4242    4200  0 10:01 ?        00:00:00 sleep 999\n"
      "1000        4250    4242  0 10:01 ?        00:00:00 sleep   1000\n"
      "1000        5000       1  0 10:02 pts/0    00:00:00 bash\n";
  std::vector<pid_t> pids{4242, 4250};
  auto t = filter_ps_output(out, pids);
  CHECK(t.titles == Strings{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"});
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[0] == Strings{"1000", "4242", "4200", "0", "10:01", "?", "00:00:00", "sleep 999"});
  // The command's words are joined with single spaces, as docker does.
  CHECK(t.rows[1].back() == "sleep 1000");
}

TEST_CASE("ps output: a thread row (PID -) goes with the process above it") {
  std::string out =
      "  PID   LWP CMD\n"
      "    7     - a\n"
      "    -     7 -\n"
      "    8     - b\n"
      "    -     8 -\n"
      "    -     9 -\n";
  std::vector<pid_t> pids{8};
  auto t = filter_ps_output(out, pids);
  REQUIRE(t.rows.size() == 3);
  CHECK(t.rows[0] == Strings{"8", "-", "b"});
  CHECK(t.rows[2] == Strings{"-", "9", "-"});
}

TEST_CASE("ps output: a short row gets empty cells; no PID column, or a PID that is no number, is an error") {
  std::vector<pid_t> pids{3};
  auto t = filter_ps_output("PID TTY CMD\n3 ?\n", pids);
  REQUIRE(t.rows.size() == 1);
  CHECK(t.rows[0] == Strings{"3", "?", ""});
  CHECK(filter_ps_output("PID CMD\n", pids).rows.empty());
  CHECK_THROWS_WITH(filter_ps_output("COMMAND\nsh\n", pids),
                    "ps printed no PID column: top needs it to find the container's processes");
  CHECK_THROWS_WITH(filter_ps_output("PID CMD\nabc sh\n", pids), "ps printed \"abc\" where a PID was expected");
}
