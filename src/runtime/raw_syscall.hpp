// System calls for code that shares skiff's memory and thread-local storage
// while skiff runs on (a thread of the container's child, the helper that
// makes namespaces ahead): they return -errno and touch nothing else, errno
// included. SKIFF_RAW_SYSCALLS is defined where skiff has them.
#pragma once

#include <linux/futex.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

namespace skiff::runtime {

#if defined(__x86_64__)
#define SKIFF_RAW_SYSCALLS 1
inline long raw_syscall(long n, long a = 0, long b = 0, long c = 0) {
  long r;
  asm volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}
inline long raw_syscall5(long n, long a, long b, long c, long d, long e) {
  long r;
  register long r10 asm("r10") = d;
  register long r8 asm("r8") = e;
  asm volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8) : "rcx", "r11", "memory");
  return r;
}
#elif defined(__aarch64__)
#define SKIFF_RAW_SYSCALLS 1
inline long raw_syscall(long n, long a = 0, long b = 0, long c = 0) {
  register long x8 asm("x8") = n;
  register long x0 asm("x0") = a;
  register long x1 asm("x1") = b;
  register long x2 asm("x2") = c;
  asm volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
  return x0;
}
inline long raw_syscall5(long n, long a, long b, long c, long d, long e) {
  register long x8 asm("x8") = n;
  register long x0 asm("x0") = a;
  register long x1 asm("x1") = b;
  register long x2 asm("x2") = c;
  register long x3 asm("x3") = d;
  register long x4 asm("x4") = e;
  asm volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4) : "memory");
  return x0;
}
#endif

// Brings lo up through the datagram socket s (in the namespace to set up),
// with io(fd, request, ifreq*) returning 0 or -errno. Returns 0 or -errno.
template <typename Ioctl>
long loopback_up(int s, Ioctl&& io) {
  struct ifreq ifr {};
  memcpy(ifr.ifr_name, "lo", 3);
  if (long r = io(s, SIOCGIFFLAGS, &ifr); r < 0) return r;
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
  return io(s, SIOCSIFFLAGS, &ifr);
}

// "/proc/self/fd/FD" into buf (at least 32 bytes): the path of what fd
// refers to, for calls that take paths. No snprintf, so raw code may use it.
inline const char* fd_path(char* buf, size_t size, long fd) {
  char digits[20];
  int n = 0;
  do digits[n++] = static_cast<char>('0' + fd % 10);
  while ((fd /= 10) > 0 && n < 20);
  static constexpr char kPrefix[] = "/proc/self/fd/";
  size_t i = sizeof kPrefix - 1;
  if (size < i + static_cast<size_t>(n) + 1) return buf[0] = '\0', buf;
  memcpy(buf, kPrefix, i);
  while (n > 0) buf[i++] = digits[--n];
  buf[i] = '\0';
  return buf;
}

// Waits until the kernel has zeroed tid, as it does (and wakes its futex)
// when a task cloned with CLONE_CHILD_CLEARTID is gone.
inline void wait_until_gone(const volatile pid_t& tid) {
  for (pid_t t; (t = tid) != 0;) syscall(SYS_futex, &tid, FUTEX_WAIT, t, nullptr, nullptr, 0);
}

// A task made to work beside its creator starts on the creator's CPU, and
// either waits there until the creator sleeps or takes the CPU over at once:
// so the creator moves it to the other CPUs (idle while skiff is busy) right
// after the clone, and the task moves itself first thing, whichever runs
// first. other_cpus() fills the set, if there are others.
inline bool other_cpus(cpu_set_t* cpus) {
  int here = sched_getcpu();
  if (here < 0 || sched_getaffinity(0, sizeof *cpus, cpus) != 0 || CPU_COUNT(cpus) < 2) return false;
  CPU_CLR(here, cpus);
  return true;
}

// The task's own move (a raw call), with tid 0, or its creator's.
inline void move_to(pid_t tid, const cpu_set_t* cpus) {
#ifdef SKIFF_RAW_SYSCALLS
  raw_syscall(SYS_sched_setaffinity, tid, sizeof *cpus, reinterpret_cast<long>(cpus));
#else
  sched_setaffinity(tid, sizeof *cpus, cpus);
#endif
}

}  // namespace skiff::runtime
