#include "memtrim.h"

#include <limits.h>
#include <stdbool.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

/* CPU per tick below which the process counts as idle. */
#define QUIET_CPU_NS (5 * 1000000ull)

static bool ends_with(const char *s, const char *suffix)
{
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

void memtrim_setup(void)
{
  /* One arena: malloc_trim() gives back the free top of the main arena
   * only, so with more arenas their tops stayed resident when idle (tcache
   * keeps small allocations off the arena lock). */
  mallopt(M_ARENA_MAX, 1);
  /* Blocks (256 KiB to 2 MiB) are allocated and freed by the thousand per
   * second while data flows: a low trim threshold gave the top back after
   * every few frees and every new block buffer page-faulted and was zeroed
   * again (a third of a bitswap sender's CPU). Idle trimming still gives it
   * all back. Below the mmap threshold, so blocks never cost an mmap. */
  mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
  mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
}

void memtrim_now(void)
{
  char line[PATH_MAX + 128], perms[8], path[PATH_MAX];
  unsigned long lo, hi;
  FILE *f;

  malloc_trim(0);
  f = fopen("/proc/self/maps", "r");
  if (f == NULL)
    return;
  while (fgets(line, sizeof(line), f)) {
    path[0] = '\0';
    if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %4095s", &lo, &hi, perms, path) <
        3)
      continue;
    /* MADV_PAGEOUT is only a hint: should the mapping have gone (LevelDB
     * closed the table) it fails or hits other memory harmlessly, which
     * MADV_DONTNEED would not. */
    if (strcmp(perms, "r--s") == 0 && ends_with(path, ".ldb"))
      madvise((void *)lo, hi - lo, MADV_PAGEOUT);
  }
  fclose(f);
}

static uint64_t cpu_ns(void)
{
  struct timespec ts;
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) < 0)
    return 0;
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int memtrim_tick(memtrim_t *m, unsigned idle_ticks)
{
  uint64_t now = cpu_ns();
  bool quiet = now - m->last_cpu_ns < QUIET_CPU_NS;

  m->last_cpu_ns = now;
  if (!quiet) {
    m->quiet_ticks = 0;
    m->trimmed = 0;
    return 0;
  }
  if (m->trimmed || ++m->quiet_ticks < idle_ticks)
    return 0;
  m->trimmed = 1;
  return 1;
}

void memtrim_done(memtrim_t *m)
{
  m->last_cpu_ns = cpu_ns();
}
