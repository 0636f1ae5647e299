// skiff's default seccomp profile, in the format docker and podman read
// (moby's seccomp.json): an allow-list. Calls that change the host or escape
// a namespace are denied unless the container holds the capability that
// would make them legitimate; calls not listed fail with EPERM. Its rules
// follow the default profiles of docker and podman, so that an image that
// runs there runs here, and what is refused there is refused here.
#include "skiff/engine/seccomp_profile.hpp"

namespace skiff::engine {

std::string_view default_seccomp_profile() {
  return R"json({
  "defaultAction": "SCMP_ACT_ERRNO",
  "defaultErrnoRet": 1,
  "archMap": [
    {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
    {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
    {"architecture": "SCMP_ARCH_PPC64LE", "subArchitectures": []},
    {"architecture": "SCMP_ARCH_S390X", "subArchitectures": ["SCMP_ARCH_S390"]},
    {"architecture": "SCMP_ARCH_RISCV64", "subArchitectures": []}
  ],
  "syscalls": [
    {
      "comment": "files, descriptors and directories",
      "names": ["access", "chdir", "chmod", "chown", "chown32", "close", "close_range", "copy_file_range", "creat",
        "dup", "dup2", "dup3", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fchdir",
        "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync",
        "fgetxattr", "flistxattr", "flock", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64",
        "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futimesat", "getcwd", "getdents",
        "getdents64", "getxattr", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listxattr",
        "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "mkdir", "mkdirat",
        "mknod", "mknodat", "newfstatat", "open", "openat", "openat2", "pipe", "pipe2", "pread64", "preadv",
        "preadv2", "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv",
        "removexattr", "rename", "renameat", "renameat2", "rmdir", "sendfile", "sendfile64", "setxattr",
        "splice", "stat", "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync",
        "sync_file_range", "syncfs", "tee", "truncate", "truncate64", "umask", "unlink", "unlinkat", "utime",
        "utimensat", "utimensat_time64", "utimes", "vmsplice", "write", "writev"],
      "action": "SCMP_ACT_ALLOW"
    },
    {
      "comment": "waiting and events",
      "names": ["epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2",
        "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "fanotify_mark", "futex", "futex_requeue",
        "futex_time64", "futex_wait", "futex_waitv", "futex_wake", "inotify_add_watch", "inotify_init",
        "inotify_init1", "inotify_rm_watch", "io_cancel", "io_destroy", "io_getevents", "io_pgetevents",
        "io_pgetevents_time64", "io_setup", "io_submit", "ioctl", "pause", "poll", "ppoll", "ppoll_time64",
        "pselect6", "pselect6_time64", "select", "_newselect", "signalfd", "signalfd4", "timerfd_create",
        "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64"],
      "action": "SCMP_ACT_ALLOW"
    },
    {
      "comment": "memory",
      "names": ["brk", "cachestat", "madvise", "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret",
        "mincore", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mremap", "msync", "munlock",
        "munlockall", "munmap", "pkey_alloc", "pkey_free", "pkey_mprotect", "remap_file_pages"],
      "action": "SCMP_ACT_ALLOW"
    },
    {
      "comment": "processes, threads, signals, ids and limits",
      "names": ["capget", "capset", "execve", "execveat", "exit", "exit_group", "fork", "getcpu", "getegid",
        "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer",
        "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid", "getresgid32",
        "getresuid", "getresuid32", "getrlimit", "get_robust_list", "getrusage", "getsid", "get_thread_area",
        "gettid", "getuid", "getuid32", "ioprio_get", "ioprio_set", "kill", "pidfd_open", "pidfd_send_signal",
        "prctl", "prlimit64", "process_mrelease", "restart_syscall", "rseq", "rt_sigaction", "rt_sigpending",
        "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
        "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr", "sched_getparam",
        "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval",
        "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr", "sched_setparam",
        "sched_setscheduler", "sched_yield", "seccomp", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32",
        "setgid", "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority", "setregid",
        "setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32",
        "setrlimit", "set_robust_list", "setsid", "set_thread_area", "set_tid_address", "setuid", "setuid32",
        "sigaltstack", "sigprocmask", "sigreturn", "tgkill", "tkill", "ugetrlimit", "vfork", "wait4", "waitid",
        "waitpid"],
      "action": "SCMP_ACT_ALLOW"
    },
    {
      "comment": "time",
      "names": ["alarm", "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64",
        "clock_nanosleep", "clock_nanosleep_time64", "gettimeofday", "nanosleep", "time", "timer_create",
        "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
        "timer_settime64", "times", "adjtimex", "clock_adjtime", "clock_adjtime64"],
      "action": "SCMP_ACT_ALLOW"
    },
    {
      "comment": "sockets and System V and POSIX ipc (in the container's own namespaces)",
      "names": ["accept", "accept4", "bind", "connect", "getpeername", "getsockname", "getsockopt", "ipc",
        "listen", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
        "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "msgctl", "msgget", "msgrcv", "msgsnd", "recv",
        "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "semctl", "semget", "semop", "semtimedop",
        "semtimedop_time64", "send", "sendmmsg", "sendmsg", "sendto", "setsockopt", "shmat", "shmctl", "shmdt",
        "shmget", "shutdown", "socket", "socketcall", "socketpair"],
      "action": "SCMP_ACT_ALLOW"
    },
    {
      "comment": "the system, read only; landlock, a process restricting itself",
      "names": ["landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "sysinfo", "uname"],
      "action": "SCMP_ACT_ALLOW"
    },
    {
      "comment": "personality: only the harmless personas (linux, 32-bit, and asking)",
      "names": ["personality"],
      "action": "SCMP_ACT_ALLOW",
      "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]
    },
    {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
    {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
      "args": [{"index": 0, "value": 131072, "op": "SCMP_CMP_EQ"}]},
    {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
      "args": [{"index": 0, "value": 131080, "op": "SCMP_CMP_EQ"}]},
    {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
      "args": [{"index": 0, "value": 4294967295, "op": "SCMP_CMP_EQ"}]},
    {
      "comment": "x86's own calls",
      "names": ["arch_prctl", "modify_ldt"],
      "action": "SCMP_ACT_ALLOW",
      "includes": {"arches": ["amd64", "x32", "x86"]}
    },
    {
      "comment": "arm's own calls",
      "names": ["arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush",
        "set_tls"],
      "action": "SCMP_ACT_ALLOW",
      "includes": {"arches": ["arm", "arm64"]}
    },
    {
      "comment": "s390's own calls",
      "names": ["s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"],
      "action": "SCMP_ACT_ALLOW",
      "includes": {"arches": ["s390", "s390x"]}
    },
    {
      "comment": "riscv's own call",
      "names": ["riscv_flush_icache"],
      "action": "SCMP_ACT_ALLOW",
      "includes": {"arches": ["riscv64"]}
    },
    {
      "comment": "clone without new namespaces; with CAP_SYS_ADMIN any clone (below)",
      "names": ["clone"],
      "action": "SCMP_ACT_ALLOW",
      "args": [{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}],
      "excludes": {"caps": ["CAP_SYS_ADMIN"], "arches": ["s390", "s390x"]}
    },
    {
      "comment": "s390 passes clone's flags second",
      "names": ["clone"],
      "action": "SCMP_ACT_ALLOW",
      "args": [{"index": 1, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}],
      "includes": {"arches": ["s390", "s390x"]},
      "excludes": {"caps": ["CAP_SYS_ADMIN"]}
    },
    {
      "comment": "clone3's flags sit in memory a filter cannot read: ENOSYS, so that libc falls back to clone",
      "names": ["clone3"],
      "action": "SCMP_ACT_ERRNO",
      "errnoRet": 38,
      "excludes": {"caps": ["CAP_SYS_ADMIN"]}
    },
    {
      "comment": "tracing and reading other processes' memory (kernels before 4.8 let seccomp be bypassed)",
      "names": ["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"],
      "action": "SCMP_ACT_ALLOW",
      "includes": {"minKernel": "4.8"}
    },
    {
      "comment": "what CAP_SYS_ADMIN stands for: mounts, namespaces, host names",
      "names": ["bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
        "lookup_dcookie", "mount", "mount_setattr", "move_mount", "name_to_handle_at", "open_tree",
        "perf_event_open", "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog",
        "umount", "umount2", "unshare"],
      "action": "SCMP_ACT_ALLOW",
      "includes": {"caps": ["CAP_SYS_ADMIN"]}
    },
    {"names": ["reboot"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_BOOT"]}},
    {"names": ["chroot"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_CHROOT"]}},
    {"names": ["delete_module", "init_module", "finit_module"], "action": "SCMP_ACT_ALLOW",
      "includes": {"caps": ["CAP_SYS_MODULE"]}},
    {"names": ["acct"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_PACCT"]}},
    {"names": ["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"],
      "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_PTRACE"]}},
    {"names": ["iopl", "ioperm"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_RAWIO"]}},
    {"names": ["settimeofday", "stime", "clock_settime", "clock_settime64"], "action": "SCMP_ACT_ALLOW",
      "includes": {"caps": ["CAP_SYS_TIME"]}},
    {"names": ["vhangup"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_TTY_CONFIG"]}},
    {"names": ["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"], "action": "SCMP_ACT_ALLOW",
      "includes": {"caps": ["CAP_SYS_NICE"]}},
    {"names": ["syslog"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYSLOG"]}},
    {"names": ["bpf"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_BPF"]}},
    {"names": ["perf_event_open"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_PERFMON"]}}
  ]
})json";
}

}  // namespace skiff::engine
