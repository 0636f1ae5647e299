// top's use of the host's ps: the arguments docker gives it, and its output
// narrowed to a container's processes.
#pragma once

#include <sys/types.h>

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace skiff::cli {

// ps's arguments as docker makes them: OPTIONS joined with spaces, then
// split at spaces (so "-o pid,comm" as one word is two); -ef when none.
// Throws when an option titles a column other than pid's PID (docker's
// rule: top tells the rows apart by the column titled PID).
std::vector<std::string> ps_arguments(const std::vector<std::string>& options);

// ps's output narrowed to the processes of pids (ascending).
struct PsTable {
  std::vector<std::string> titles;
  std::vector<std::vector<std::string>> rows;  // each as many cells as titles
};

// The header, and the rows whose PID column is in pids; a row whose PID is
// "-" (a thread, with -L or m) goes with the process row above it. Cells are
// split at ASCII blanks; what a row has past the last title (a command's
// arguments) is joined into the last cell with single spaces, as docker
// does. Throws when there is no PID column or a PID is not a number.
PsTable filter_ps_output(std::string_view output, std::span<const pid_t> pids);

}  // namespace skiff::cli
