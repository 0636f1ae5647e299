// Pull and push progress: bars redrawn in place on a terminal (as docker
// draws them), one plain line per event otherwise (CI logs).
#pragma once

#include <cstdio>
#include <memory>

#include "skiff/engine/transfer_events.hpp"

namespace skiff::cli {

// Events written to out: bars when out is a terminal, else plain lines.
std::unique_ptr<engine::TransferEvents> make_transfer_progress(FILE* out);

}  // namespace skiff::cli
