/* timeit - interleaved wall-clock / peak-RSS benchmark of whole commands.
 *
 * Runs every case once per round, in an order shuffled afresh each round
 * (a fixed seed, so runs are repeatable): asynchronous work a run leaves to
 * the kernel (a network namespace torn down by a kworker, say) then lands
 * on every other case alike, not always on the one that comes next. Each
 * run is fork + execvp with stdin, stdout and stderr on /dev/null, and takes
 * the wall time with clock_gettime(CLOCK_MONOTONIC) from just before fork()
 * to just after wait4() returns, plus ru_maxrss from wait4's rusage.
 *
 * It is meant to be run as ONE process of the user being measured, so that
 * no runuser/sudo/shell start-up lands inside (or between) the samples.
 *
 * Usage:
 *   timeit [options] -- LABEL 'CMD ARGS' [LABEL 'CMD ARGS' ...]
 *   timeit [options] -c LABEL CMD ARGS... ';' [-c LABEL CMD ARGS... ';' ...]
 * The first form splits each command string on blanks (no quoting, no shell);
 * the second takes the argv verbatim up to a lone ";" argument (quote it
 * from a shell: \; or ';').  Both forms may be mixed; -c cases come first.
 *
 * Options:
 *   -n RUNS       measured rounds (default 30)
 *   -w WARMUP     unmeasured rounds run first (default 3)
 *   -t SECONDS    per-run time limit; a run over it is SIGKILLed and the case
 *                 FAILS (default 120, 0 = none)
 *   -r, --ref LABEL    reference case for the ratio column
 *   -f, --floor LABEL  a floor case (repeatable); without any --floor every
 *                 label beginning with "floor" is a floor
 *   -o FILE       also write every sample as TSV: label run ms maxrss_kb
 *   -q            no progress dots on stderr
 *
 * Output: a table (median, p10, p90, min in ms; median peak RSS in MB; ratio
 * to the reference), the ratio of every case to every floor, and one summary
 * line.  Ratios: for an ordinary case X the ratio is X/REF ("podman/skiff =
 * 63x"); for a floor F it is REF/F ("skiff/floor-1id = 1.27x").
 * Exit status: 0 if every case passed, 2 if any case FAILED, 64 on bad usage.
 *
 * Note on ru_maxrss: wait4() reports the maximum RSS of the child and of the
 * descendants the child itself (transitively) waited for; it is a maximum,
 * not a sum, and processes reaped by someone else (double-forked daemons such
 * as podman's conmon, or anything reparented to a subreaper/init) are not in
 * it.  Treat it as "peak RSS of the front-end process tree", not total cost.
 *
 * Build: cc -O2 -Wall -o timeit bench/timeit.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

struct kase {
  const char* label;
  char** argv;
  int is_floor;
  double* ms; /* measured samples */
  long* rss_kb;
  int n;             /* number of measured samples */
  int failed;        /* set on first failing run */
  int fail_status;   /* wait status of that run (or -1 timeout, -2 exec) */
  int fail_round;    /* round index (negative = warm-up) */
  char* fail_stderr; /* stderr captured on the re-run */
  int rerun_status;
  double med, p10, p90, min, rss_med_mb;
};

static int devnull = -1;
static int timeout_s = 120;
static int quiet = 0;

static void die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("timeit: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(64);
}

static void* xcalloc(size_t n, size_t sz) {
  void* p = calloc(n ? n : 1, sz);
  if (!p) die("out of memory");
  return p;
}

static void usage(void) {
  fputs(
      "usage: timeit [-n RUNS] [-w WARMUP] [-t SECONDS] [--ref LABEL] "
      "[--floor LABEL]... [-o FILE] [-q]\n"
      "              [-c LABEL CMD ARG... ';']... [-- LABEL 'CMD ARG...' ...]\n",
      stderr);
  exit(64);
}

/* Split a command string on blanks; no quoting, no globbing, no shell. */
static char** split_words(const char* s) {
  char* copy = strdup(s);
  size_t cap = 8, n = 0;
  char** v = xcalloc(cap, sizeof *v);
  char* save = NULL;
  if (!copy) die("out of memory");
  for (char* w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
    if (n + 2 > cap) {
      cap *= 2;
      v = realloc(v, cap * sizeof *v);
      if (!v) die("out of memory");
    }
    v[n++] = w;
  }
  v[n] = NULL;
  if (n == 0) die("empty command string");
  return v;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Child side: stdio redirection and exec.  Exit 127 if exec fails, after
 * writing the reason to the (possibly captured) stderr. */
static void child_exec(char** argv, int errfd) {
  if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(errfd, 2) < 0) _exit(126);
  /* Restore default signal disposition / mask for the measured program. */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  execvp(argv[0], argv);
  dprintf(2, "timeit: exec %s: %s\n", argv[0], strerror(errno));
  _exit(127);
}

/* Run argv once.  Returns the wait status (>= 0), or -1 on timeout.
 * *ms gets the wall time of fork..wait4, *rss the child's ru_maxrss (KB). */
static int run_once(char** argv, int errfd, double* ms, long* rss) {
  struct rusage ru;
  int status = 0;
  double t0 = now_ms();
  pid_t pid = fork();
  if (pid < 0) {
    perror("timeit: fork");
    exit(1);
  }
  if (pid == 0) child_exec(argv, errfd);

  int timed_out = 0;
  if (timeout_s > 0) {
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pfd >= 0) {
      struct pollfd p = {.fd = pfd, .events = POLLIN};
      int r;
      do r = poll(&p, 1, timeout_s * 1000);
      while (r < 0 && errno == EINTR);
      if (r == 0) {
        timed_out = 1;
        kill(pid, SIGKILL); /* only the child we forked */
      }
      close(pfd);
    }
    /* No pidfd support: fall back to an unbounded wait. */
  }
  pid_t w;
  do w = wait4(pid, &status, 0, &ru);
  while (w < 0 && errno == EINTR);
  double t1 = now_ms();
  if (w < 0) {
    perror("timeit: wait4");
    exit(1);
  }
  *ms = t1 - t0;
  *rss = ru.ru_maxrss;
  return timed_out ? -1 : status;
}

static int status_ok(int st) {
  return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void describe_status(int st, char* buf, size_t len) {
  if (st == -1)
    snprintf(buf, len, "timed out after %d s (killed)", timeout_s);
  else if (WIFEXITED(st))
    snprintf(buf, len, "exit status %d%s", WEXITSTATUS(st),
             WEXITSTATUS(st) == 127 ? " (command not found / exec failed)" : "");
  else if (WIFSIGNALED(st))
    snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
  else
    snprintf(buf, len, "wait status 0x%x", st);
}

/* Re-run a failed case once with stderr captured into a memfd. */
static void capture_failure(struct kase* c) {
  int fd = memfd_create("timeit-stderr", MFD_CLOEXEC);
  if (fd < 0) {
    c->fail_stderr = strdup("(could not capture stderr: memfd_create failed)");
    c->rerun_status = c->fail_status;
    return;
  }
  double ms;
  long rss;
  c->rerun_status = run_once(c->argv, fd, &ms, &rss);
  off_t len = lseek(fd, 0, SEEK_END);
  const off_t maxlen = 8192;
  off_t start = len > maxlen ? len - maxlen : 0; /* keep the tail */
  char* buf = xcalloc((size_t)(len - start) + 1, 1);
  ssize_t got = pread(fd, buf, (size_t)(len - start), start);
  buf[got > 0 ? got : 0] = '\0';
  close(fd);
  c->fail_stderr = buf;
}

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

/* Percentile with linear interpolation between closest ranks. */
static double pct(const double* sorted, int n, double p) {
  if (n <= 0) return 0;
  double pos = p / 100.0 * (n - 1);
  int lo = (int)pos;
  int hi = lo + 1 < n ? lo + 1 : lo;
  double frac = pos - lo;
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

static void compute_stats(struct kase* c) {
  if (c->n == 0) return;
  double* s = xcalloc(c->n, sizeof *s);
  memcpy(s, c->ms, c->n * sizeof *s);
  qsort(s, c->n, sizeof *s, cmp_double);
  c->med = pct(s, c->n, 50);
  c->p10 = pct(s, c->n, 10);
  c->p90 = pct(s, c->n, 90);
  c->min = s[0];
  for (int i = 0; i < c->n; i++) s[i] = c->rss_kb[i] / 1024.0;
  qsort(s, c->n, sizeof *s, cmp_double);
  c->rss_med_mb = pct(s, c->n, 50);
  free(s);
}

static const char* fmt_ms(double v, char* buf, size_t len) {
  if (v < 10)
    snprintf(buf, len, "%.2f", v);
  else if (v < 100)
    snprintf(buf, len, "%.1f", v);
  else
    snprintf(buf, len, "%.0f", v);
  return buf;
}

static const char* fmt_ratio(double r, char* buf, size_t len) {
  if (r < 10)
    snprintf(buf, len, "%.2fx", r);
  else
    snprintf(buf, len, "%.1fx", r);
  return buf;
}

static char* join_argv(char** argv) {
  size_t len = 1;
  for (char** a = argv; *a; a++) len += strlen(*a) + 1;
  char* s = xcalloc(len, 1);
  for (char** a = argv; *a; a++) {
    if (a != argv) strcat(s, " ");
    strcat(s, *a);
  }
  return s;
}

int main(int argc, char** argv) {
  int runs = 30, warmup = 3;
  const char *ref = NULL, *rawpath = NULL;
  const char** floors = xcalloc(argc, sizeof *floors);
  int nfloors = 0;
  struct kase* cases = xcalloc(argc, sizeof *cases);
  int ncases = 0;

  int i = 1;
  for (; i < argc; i++) {
    const char* a = argv[i];
#define NEEDARG()                                             \
  do {                                                        \
    if (i + 1 >= argc) die("option %s needs an argument", a); \
  } while (0)
    if (!strcmp(a, "--")) {
      i++;
      break;
    } else if (!strcmp(a, "-n")) {
      NEEDARG();
      runs = atoi(argv[++i]);
    } else if (!strcmp(a, "-w")) {
      NEEDARG();
      warmup = atoi(argv[++i]);
    } else if (!strcmp(a, "-t")) {
      NEEDARG();
      timeout_s = atoi(argv[++i]);
    } else if (!strcmp(a, "-r") || !strcmp(a, "--ref")) {
      NEEDARG();
      ref = argv[++i];
    } else if (!strcmp(a, "-f") || !strcmp(a, "--floor")) {
      NEEDARG();
      floors[nfloors++] = argv[++i];
    } else if (!strcmp(a, "-o")) {
      NEEDARG();
      rawpath = argv[++i];
    } else if (!strcmp(a, "-q")) {
      quiet = 1;
    } else if (!strcmp(a, "-c") || !strcmp(a, "--case")) {
      NEEDARG();
      struct kase* c = &cases[ncases++];
      c->label = argv[++i];
      int start = i + 1, end = start;
      while (end < argc && strcmp(argv[end], ";")) end++;
      if (end == start) die("case %s has no command", c->label);
      c->argv = xcalloc(end - start + 1, sizeof *c->argv);
      for (int k = start; k < end; k++) c->argv[k - start] = argv[k];
      i = end; /* skip the ";" (or stop at argc) */
    } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage();
    } else {
      die("unknown option %s (use -- before LABEL 'CMD' pairs)", a);
    }
  }
  if (i > argc) i = argc;
  if ((argc - i) % 2 != 0) die("after --, arguments must be LABEL 'CMD ARGS' pairs");
  for (; i + 1 < argc; i += 2) {
    struct kase* c = &cases[ncases++];
    c->label = argv[i];
    c->argv = split_words(argv[i + 1]);
  }
  if (ncases == 0) usage();
  if (runs < 1 || warmup < 0) die("bad -n/-w");

  int refidx = -1;
  for (int k = 0; k < ncases; k++) {
    struct kase* c = &cases[k];
    for (int j = 0; j < k; j++)
      if (!strcmp(cases[j].label, c->label)) die("duplicate label %s", c->label);
    if (ref && !strcmp(ref, c->label)) refidx = k;
    if (nfloors == 0) c->is_floor = !strncmp(c->label, "floor", 5);
    for (int f = 0; f < nfloors; f++)
      if (!strcmp(floors[f], c->label)) c->is_floor = 1;
    c->ms = xcalloc(runs, sizeof *c->ms);
    c->rss_kb = xcalloc(runs, sizeof *c->rss_kb);
  }
  if (ref && refidx < 0) die("--ref %s names no case", ref);
  for (int f = 0; f < nfloors; f++) {
    int found = 0;
    for (int k = 0; k < ncases; k++) found |= !strcmp(floors[f], cases[k].label);
    if (!found) die("--floor %s names no case", floors[f]);
  }

  devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0) {
    perror("timeit: /dev/null");
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);

  if (!quiet)
    fprintf(stderr, "timeit: %d case(s), %d warm-up + %d measured rounds, interleaved\n", ncases, warmup, runs);
  int perm[ncases];
  for (int k = 0; k < ncases; k++) perm[k] = k;
  unsigned long long seed = 0x9e3779b97f4a7c15ull;
  for (int round = -warmup; round < runs; round++) {
    for (int k = ncases - 1; k > 0; k--) { /* Fisher-Yates, xorshift64 */
      seed ^= seed << 13;
      seed ^= seed >> 7;
      seed ^= seed << 17;
      int j = (int)(seed % (unsigned long long)(k + 1));
      int t = perm[k];
      perm[k] = perm[j];
      perm[j] = t;
    }
    for (int i = 0; i < ncases; i++) {
      struct kase* c = &cases[perm[i]];
      if (c->failed) continue;
      double ms;
      long rss;
      int st = run_once(c->argv, devnull, &ms, &rss);
      if (!status_ok(st)) {
        c->failed = 1;
        c->fail_status = st;
        c->fail_round = round;
        capture_failure(c);
        if (!quiet) fprintf(stderr, "\ntimeit: case %s FAILED\n", c->label);
        continue;
      }
      if (round >= 0) {
        c->ms[c->n] = ms;
        c->rss_kb[c->n] = rss;
        c->n++;
      }
    }
    if (!quiet) {
      fputc(round == -1 || round == runs - 1 ? '|' : '.', stderr);
      fflush(stderr);
    }
  }
  if (!quiet) fputc('\n', stderr);

  if (rawpath) {
    FILE* f = fopen(rawpath, "w");
    if (!f) {
      perror(rawpath);
    } else {
      fprintf(f, "label\trun\tms\tmaxrss_kb\n");
      for (int k = 0; k < ncases; k++)
        for (int j = 0; j < cases[k].n; j++)
          fprintf(f, "%s\t%d\t%.4f\t%ld\n", cases[k].label, j, cases[k].ms[j], cases[k].rss_kb[j]);
      fclose(f);
    }
  }

  for (int k = 0; k < ncases; k++) compute_stats(&cases[k]);

  struct kase* R = refidx >= 0 && !cases[refidx].failed ? &cases[refidx] : NULL;
  int w = 4;
  for (int k = 0; k < ncases; k++)
    if ((int)strlen(cases[k].label) > w) w = (int)strlen(cases[k].label);

  char b1[32], b2[32], b3[32], b4[32], b5[32], rb[32];
  printf("\n%-*s %5s %9s %9s %9s %9s %8s  %s\n", w, "case", "runs", "median", "p10", "p90", "min", "rss(MB)",
         ref ? "ratio" : "");
  printf("%-*s %5s %9s %9s %9s %9s %8s\n", w, "", "", "ms", "ms", "ms", "ms", "median");
  for (int k = 0; k < ncases; k++) {
    struct kase* c = &cases[k];
    if (c->failed) {
      char sb[96];
      describe_status(c->fail_status, sb, sizeof sb);
      printf("%-*s FAILED (%s, %s %d)\n", w, c->label, sb, c->fail_round < 0 ? "warm-up round" : "round",
             c->fail_round < 0 ? c->fail_round + warmup + 1 : c->fail_round + 1);
      continue;
    }
    char ratio[96] = "";
    if (R && c != R) {
      if (c->is_floor)
        snprintf(ratio, sizeof ratio, "%s/%s = %s", R->label, c->label, fmt_ratio(R->med / c->med, rb, sizeof rb));
      else
        snprintf(ratio, sizeof ratio, "%s/%s = %s", c->label, R->label, fmt_ratio(c->med / R->med, rb, sizeof rb));
    } else if (R && c == R) {
      snprintf(ratio, sizeof ratio, "(reference)");
    }
    printf("%-*s %5d %9s %9s %9s %9s %8.1f  %s\n", w, c->label, c->n, fmt_ms(c->med, b1, sizeof b1),
           fmt_ms(c->p10, b2, sizeof b2), fmt_ms(c->p90, b3, sizeof b3), fmt_ms(c->min, b4, sizeof b4), c->rss_med_mb,
           ratio);
  }

  /* Every case relative to every floor. */
  int anyfloor = 0;
  for (int k = 0; k < ncases; k++) anyfloor |= cases[k].is_floor && !cases[k].failed;
  if (anyfloor) {
    printf("\nratio of median to each floor (case/floor):\n");
    for (int f = 0; f < ncases; f++) {
      struct kase* F = &cases[f];
      if (!F->is_floor || F->failed) continue;
      printf("  vs %-*s:", w, F->label);
      for (int k = 0; k < ncases; k++) {
        struct kase* c = &cases[k];
        if (c == F || c->failed) continue;
        printf("  %s %s", c->label, fmt_ratio(c->med / F->med, rb, sizeof rb));
      }
      printf("\n");
    }
  }

  /* One-line summary: REF first, others as X/REF, floors as REF/F. */
  printf("\nsummary:");
  int first = 1;
  int order[ncases];
  int no = 0;
  if (refidx >= 0) order[no++] = refidx;
  for (int k = 0; k < ncases; k++)
    if (k != refidx && !cases[k].is_floor) order[no++] = k;
  for (int k = 0; k < ncases; k++)
    if (k != refidx && cases[k].is_floor) order[no++] = k;
  for (int j = 0; j < no; j++) {
    struct kase* c = &cases[order[j]];
    printf("%s %s ", first ? "" : " |", c->label);
    first = 0;
    if (c->failed) {
      printf("FAILED");
      continue;
    }
    printf("%s ms", fmt_ms(c->med, b5, sizeof b5));
    if (R && c != R) {
      double r = c->is_floor ? R->med / c->med : c->med / R->med;
      printf(" (%s)", fmt_ratio(r, rb, sizeof rb));
    }
  }
  printf("\n");
  if (R) printf("(medians; in parentheses: case/%s for other cases, %s/floor for floors)\n", R->label, R->label);

  /* Failure details last so the table stays readable. */
  int anyfail = 0;
  for (int k = 0; k < ncases; k++) {
    struct kase* c = &cases[k];
    if (!c->failed) continue;
    anyfail = 1;
    char sb[96], rsb[96];
    describe_status(c->fail_status, sb, sizeof sb);
    describe_status(c->rerun_status, rsb, sizeof rsb);
    char* cmd = join_argv(c->argv);
    printf("\nFAILED %s: %s\n  command: %s\n  re-run with stderr captured: %s%s\n", c->label, sb, cmd, rsb,
           status_ok(c->rerun_status) ? " (passed this time: flaky)" : "");
    free(cmd);
    printf("  stderr of the re-run%s:\n", strlen(c->fail_stderr) >= 8192 ? " (last 8 KB)" : "");
    if (!*c->fail_stderr) printf("    (empty)\n");
    for (char *line = c->fail_stderr, *nl; line && *line; line = nl ? nl + 1 : NULL) {
      nl = strchr(line, '\n');
      if (nl) *nl = '\0';
      printf("    %s\n", line);
    }
  }
  fflush(stdout);
  return anyfail ? 2 : 0;
}
