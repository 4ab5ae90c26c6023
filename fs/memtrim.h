#ifndef CIPFS_MEMTRIM_H
#define CIPFS_MEMTRIM_H

#include <stdint.h>

/*
 * Giving memory back while the node is idle. After a large read or import
 * the process holds freed malloc arenas and resident pages of LevelDB's
 * memory-mapped tables; neither is needed by an idle node.
 */
typedef struct memtrim_s {
  uint64_t last_cpu_ns;
  unsigned quiet_ticks;
  int trimmed; /* nothing happened since the last trim */
} memtrim_t;

/* Once, early in a long-running process: fixed malloc thresholds and a
 * single arena. glibc otherwise raises its trim threshold after large
 * frees and never gives the free top of a thread's arena back, even to
 * malloc_trim. */
void memtrim_setup(void);
/* Call on every tick of a periodic thread. Returns 1 once after idle_ticks
 * consecutive ticks with almost no CPU used by the process: the caller
 * then drops its caches and calls memtrim_now(), then memtrim_done(). */
int memtrim_tick(memtrim_t *m, unsigned idle_ticks);
/* The trim's own CPU is not activity. */
void memtrim_done(memtrim_t *m);
/* Trim now: malloc_trim, and ask the kernel to reclaim the pages of
 * read-only shared file mappings (LevelDB's tables). */
void memtrim_now(void);

#endif
