#ifndef CIPFS_PIN_H
#define CIPFS_PIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block.h"
#include "bs.h"
#include "cid.h"
#include "kv.h"

/*
 * Pins and garbage collection, with kubo's semantics.
 *
 * A recursive pin keeps a block and everything below it; a direct pin keeps
 * one block; blocks below a recursive pin are "indirect". Pins live in the
 * repo's kv under "p/" + multihash (value: type byte + the CID as pinned),
 * so a CIDv0 and a CIDv1 of one DAG are one pin, and one batch can change
 * pins and blocks together. GC keeps what pins reach plus the tree of the
 * mount's published root (binary CID at kv key "f/root") and deletes every
 * other block.
 *
 * Every call here reads or writes LevelDB and may walk large DAGs: run it
 * on a worker thread, never on the event loop.
 */

#define PIN_DIRECT 1
#define PIN_RECURSIVE 2
#define PIN_INDIRECT 4
#define PIN_ALL (PIN_DIRECT | PIN_RECURSIVE | PIN_INDIRECT)

/* The kv key of the published tree's root (binary CID). */
#define PIN_FS_ROOT_KEY "f/root"

/* "direct", "recursive", "indirect". */
const char *pin_type_name(int type);
/* "direct" | "recursive" | "indirect" | "all" into a PIN_* mask;
 * CIPFS_EUSAGE otherwise. */
int pin_types_from_name(const char *name, int *types);

/* Pin cid. Recursive (kubo's default) walks the whole DAG through g (which
 * may fetch from the network) with dag_walk, stores every block not yet in
 * bs, and writes the pin only when the walk completed: a missing or bad
 * block fails the call (the getter's error, e.g. CIPFS_ENOTFOUND,
 * CIPFS_ETIMEOUT, CIPFS_ECORRUPT) and leaves no pin. Direct needs only the
 * root block. Pinning recursively what is pinned directly makes the pin
 * recursive; pinning directly what is pinned recursively is CIPFS_EPINNED
 * (as kubo: "already pinned recursively"). Re-pinning is a no-op. */
int pin_add(kv_t *kv, bs_t *bs, const block_getter_t *g, const cid_t *cid,
            bool recursive);
/* Addition: record a pin without walking the DAG, for a caller that has
 * just stored every block of it (an import, as kubo's adder pins its
 * root): walking back a fresh 1 GiB import re-reads and re-hashes every
 * leaf, doubling the cost of "add". Same results as pin_add otherwise. */
int pin_add_stored(kv_t *kv, const cid_t *cid, bool recursive);

/* Unpin. CIPFS_ENOTPINNED when cid has no direct or recursive pin (also when
 * it is only pinned indirectly); CIPFS_EPINNED when it is pinned
 * recursively and recursive is false. */
int pin_rm(kv_t *kv, const cid_t *cid, bool recursive);

/* How cid is pinned: *type is PIN_RECURSIVE, PIN_DIRECT, PIN_INDIRECT or 0.
 * For PIN_INDIRECT, *via (if not NULL) is a recursive pin that reaches it
 * (kubo's "indirect through <cid>"). Looking for indirect pins walks the
 * local DAGs of the recursive pins; pass check_indirect=false to skip it. */
int pin_check(kv_t *kv, bs_t *bs, const cid_t *cid, bool check_indirect,
              int *type, cid_t *via);

/* List pins whose type is in the types mask. Direct and recursive pins come
 * with the CID they were pinned as, in multihash order; indirect ones
 * (descendants present locally, each once, not themselves pinned) follow
 * as found. cb returns 0 to go on; anything else stops and is returned. */
typedef int (*pin_ls_cb)(void *arg, const cid_t *cid, int type);
int pin_ls(kv_t *kv, bs_t *bs, int types, pin_ls_cb cb, void *arg);

/* ---- garbage collection ---- */

typedef struct gc_stats_s {
  uint64_t kept;          /* blocks kept (reachable and present) */
  uint64_t removed;       /* blocks deleted */
  uint64_t removed_bytes; /* their total size */
} gc_stats_t;

/* Called after each deleted block is gone, with the CIDv1 raw of its
 * multihash (the store does not know the codec; kubo prints the same).
 * Return non-zero to stop GC early (blocks deleted so far stay deleted);
 * gc_run then returns that value. */
typedef int (*gc_removed_cb)(void *arg, const cid_t *cid, size_t size);

/*
 * Mark everything reachable from recursive pins (whole DAG), direct pins
 * (the block alone) and the published root at "f/root" (whole tree), then
 * delete every other block in atomic batches. Marking walks only blocks
 * present locally: a missing block (a lazily fetched tree) is skipped, but
 * any other failure to read or decode a reachable block (CIPFS_ECORRUPT,
 * CIPFS_EDAGPB, CIPFS_EDB) aborts GC before anything is deleted, since its
 * descendants could not be known. cb may be NULL; stats may be NULL.
 *
 * Not safe against concurrent writers that reference blocks that already
 * exist (an import deduplicating against an unpinned block, a new f/root):
 * the caller keeps those out while GC runs. Blocks written after gc_run
 * started are never deleted by it.
 */
int gc_run(kv_t *kv, bs_t *bs, gc_removed_cb cb, void *arg, gc_stats_t *stats);
/* Addition: gc_run keeping the DAGs below roots[0..nroots) too (imports
 * still running, whose blocks nothing else references yet). */
int gc_run_roots(kv_t *kv, bs_t *bs, const cid_t *roots, size_t nroots,
                 gc_removed_cb cb, void *arg, gc_stats_t *stats);

#endif
