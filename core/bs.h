#ifndef CIPFS_BS_H
#define CIPFS_BS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block.h"
#include "cid.h"
#include "kv.h"

/*
 * The blockstore: blocks keyed by multihash (as kubo does, so a CIDv0 and a
 * CIDv1 of the same bytes share one block) under the "b/" prefix of the
 * repo's kv. Reads re-hash the bytes and report CIPFS_ECORRUPT instead of
 * serving a block that no longer matches its CID.
 */
typedef struct bs_s bs_t;

/* bs does not own kv; kv must outlive it. Every block lives in kv. */
int bs_new(bs_t **out, kv_t *kv);
void bs_free(bs_t *bs);
/* Addition: blocks larger than BS_INLINE_MAX are appended to pack files
 * under dir (created if missing), with an index entry "B/" + multihash in
 * kv saying where; smaller ones stay in kv. LevelDB would write every large
 * block at least twice (log, then tables) and again on each compaction, and
 * map the tables into memory while it compacts: importing a few GiB was ten
 * times slower than hashing, its RSS growing with the file. One file per
 * block (kubo's flatfs) costs an inode each, which ext4 allocates slowly
 * once many files were recently deleted. Errors: -errno, kv's. */
int bs_new_dir(bs_t **out, kv_t *kv, const char *dir);
#define BS_INLINE_MAX (32 * 1024)
/* Key prefixes in kv, for GC's snapshot sweep: inline blocks under "b/"
 * (value: the block), packed blocks' index under "B/" (value: see
 * bs_index_size). Both are followed by the multihash. */
#define BS_KEY_INLINE "b/"
#define BS_KEY_FILE "B/"
/* Addition: the block size an index value ("B/" key) records. */
size_t bs_index_size(const uint8_t *val, size_t vlen);
/* Addition: where a packed block lives: the pack's name relative to the
 * block directory, the offset and length in it. CIPFS_ENOTFOUND when the
 * block is not packed. For tests and repair tools. */
int bs_locate(bs_t *bs, const cid_t *cid, char *name, size_t cap, uint64_t *off,
              size_t *len);
/* Addition: remove pack files no index entry points to any more (GC calls
 * it after deleting blocks; space inside a pack that still holds a live
 * block is not reclaimed). Packs being written by an open batch are kept.
 * Returns the number of packs removed or a negative code. */
int bs_gc_packs(bs_t *bs);

/* Refuses blocks over BLOCK_MAX_SIZE (CIPFS_ETOOBIG). Not synced. Always
 * writes, which repairs a corrupt copy. Does not re-hash:
 * the importer has just computed cid from these bytes, and hashing twice
 * would halve import speed. Bytes from outside (CAR, bitswap, block put)
 * go through cid_verify() first. */
int bs_put(bs_t *bs, const cid_t *cid, const uint8_t *data, size_t len);
/* *data malloc'd; CIPFS_ENOTFOUND, CIPFS_ECORRUPT. */
int bs_get(bs_t *bs, const cid_t *cid, uint8_t **data, size_t *len);
/* Addition: bs_get without hashing the bytes (kubo's HashOnRead=false),
 * for readers whose consumer hashes them anyway: the bitswap server, whose
 * peer derives the CID of every block it receives from its bytes. */
int bs_get_unchecked(bs_t *bs, const cid_t *cid, uint8_t **data, size_t *len);
/* 1, 0 or negative. */
int bs_has(bs_t *bs, const cid_t *cid);
int bs_size(bs_t *bs, const cid_t *cid, size_t *len);
int bs_delete(bs_t *bs, const cid_t *cid);

/* Addition: puts n blocks as bs_put() does (not synced to disk; a put over
 * a corrupt copy repairs it) in one index commit. Large blocks of every
 * bs_put/bs_put_many call append to one shared pack that rolls over at
 * 64 MiB, not a new file each (a fetch stores blocks a few at a time as
 * they arrive). Thread-safe. On error none of them is guaranteed stored. */
typedef struct bs_put_item_s {
  const cid_t *cid;
  const uint8_t *data;
  size_t len;
} bs_put_item_t;
int bs_put_many(bs_t *bs, const bs_put_item_t *items, size_t n);

/* Atomic groups of puts/deletes (an import commits in a few batches).
 * Large blocks of a batch are appended to packs of its own at once but
 * only become visible (indexed) at commit, after an fdatasync() of those
 * packs, so a crash never leaves an index entry whose bytes did not reach
 * the disk; an uncommitted batch's packs are removed by bs_batch_free.
 * A batch skips large blocks that are already stored. */
typedef struct bs_batch_s bs_batch_t;
bs_batch_t *bs_batch_new(bs_t *bs);
int bs_batch_put(bs_batch_t *b, const cid_t *cid, const uint8_t *data,
                 size_t len);
int bs_batch_delete(bs_batch_t *b, const cid_t *cid);
int bs_batch_commit(bs_batch_t *b);
/* Addition: bytes the batch holds in memory (inline blocks and index
 * entries; block files are already on disk), to decide when to commit. */
size_t bs_batch_mem(const bs_batch_t *b);
void bs_batch_free(bs_batch_t *b);

/* Every block, as a CIDv1 raw of its multihash (what kubo's "refs local"
 * prints). cb returns 0 to go on, anything else stops and is returned. */
typedef int (*bs_list_cb)(void *arg, const cid_t *cid, size_t size);
int bs_list(bs_t *bs, bs_list_cb cb, void *arg);

/* Getter/putter views of this store for the exporter and importer. */
void bs_getter(bs_t *bs, block_getter_t *g);
void bs_putter(bs_t *bs, block_putter_t *p);

#endif
