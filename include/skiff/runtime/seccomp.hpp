// Compiling linux.seccomp of a spec into the BPF program the kernel runs.
#pragma once

#include <linux/filter.h>

#include <vector>

#include "skiff/runtime/spec.hpp"

namespace skiff::runtime {

// The program for s, made with libseccomp. Throws Error naming what it does
// not know (an action, an architecture, an operator); a syscall name this
// libseccomp or architecture does not know is left out, as runc does.
std::vector<sock_filter> compile_seccomp(const Seccomp& s);

}  // namespace skiff::runtime
