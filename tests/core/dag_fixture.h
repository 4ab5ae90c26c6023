#ifndef CIPFS_TESTS_DAG_FIXTURE_H
#define CIPFS_TESTS_DAG_FIXTURE_H

/*
 * A real blockstore (LevelDB in a temp dir) plus helpers that build UnixFS
 * DAGs by hand with the dagpb/unixfs encoders, for the exporter, dag and
 * CAR tests. The getter counts fetches and records prefetch hints so tests
 * can check what was read.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "bs.h"
#include "buf.h"
#include "cid.h"
#include "dagpb.h"
#include "err.h"
#include "kv.h"
#include "mh.h"
#include "unixfs.h"

#include "core/store_tmp.h"

#define DFX_MAX_HINTS 4096

typedef struct dfx_s {
  char *dir;
  kv_t *kv;
  bs_t *bs;
  block_getter_t inner; /* the blockstore's own getter */
  block_getter_t g;     /* counting wrapper */
  size_t gets;
  size_t nhints;
  cid_t hints[DFX_MAX_HINTS];
} dfx_t;

static int dfx_get(void *arg, const cid_t *cid, uint8_t **data, size_t *len)
{
  dfx_t *f = arg;

  f->gets++;
  return block_get(&f->inner, cid, data, len);
}

static void dfx_prefetch(void *arg, const cid_t *cids, size_t n)
{
  dfx_t *f = arg;
  size_t i;

  for (i = 0; i < n && f->nhints < DFX_MAX_HINTS; i++)
    f->hints[f->nhints++] = cids[i];
}

static inline int dfx_setup(void **state)
{
  dfx_t *f = calloc(1, sizeof(*f));

  if (f == NULL)
    return -1;
  if (store_tmp_open(&f->dir, &f->kv, &f->bs) != 0) {
    free(f);
    return -1;
  }
  bs_getter(f->bs, &f->inner);
  f->g.get = dfx_get;
  f->g.prefetch = dfx_prefetch;
  f->g.arg = f;
  *state = f;
  return 0;
}

static inline int dfx_teardown(void **state)
{
  dfx_t *f = *state;

  store_tmp_close(f->dir, f->kv, f->bs);
  free(f);
  return 0;
}

/* Store a block under its sha2-256 CID. */
static inline void dfx_put(dfx_t *f, int version, uint64_t codec,
                           const uint8_t *data, size_t len, cid_t *out)
{
  assert_int_equal(cid_sum(out, version, codec, MH_SHA2_256, data, len), 0);
  assert_int_equal(bs_put(f->bs, out, data, len), 0);
}

/* Encode and store a dag-pb node with UnixFS data u (NULL: no Data). */
static inline void dfx_node(dfx_t *f, int version, dagpb_link_t *links,
                            size_t n, const unixfs_t *u, cid_t *out)
{
  dagpb_node_t node;
  buf_t data, blk;

  buf_init(&data);
  buf_init(&blk);
  memset(&node, 0, sizeof(node));
  if (u) {
    assert_int_equal(unixfs_encode(u, &data), 0);
    node.data = data.data;
    node.data_len = data.len;
    node.has_data = true;
  }
  node.links = links;
  node.nlinks = n;
  assert_int_equal(dagpb_encode(&node, &blk), 0);
  dfx_put(f, version, CID_CODEC_DAG_PB, blk.data, blk.len, out);
  buf_cleanup(&data);
  buf_cleanup(&blk);
}

static inline void dfx_link(dagpb_link_t *l, const cid_t *cid, const char *name,
                            uint64_t tsize)
{
  memset(l, 0, sizeof(*l));
  l->cid = *cid;
  l->name = (const uint8_t *)(name ? name : "");
  l->name_len = name ? strlen(name) : 0;
  l->has_name = true;
  l->tsize = tsize;
  l->has_tsize = true;
}

/* A kubo-style leaf: raw block, or dag-pb {Type=File, Data, filesize}. */
static inline void dfx_leaf(dfx_t *f, bool raw, int version,
                            const uint8_t *data, size_t len, cid_t *out)
{
  unixfs_t u;

  if (raw) {
    dfx_put(f, 1, CID_CODEC_RAW, data, len, out);
    return;
  }
  unixfs_init(&u);
  u.type = UNIXFS_FILE;
  u.data = data;
  u.data_len = len;
  u.has_data = len > 0;
  u.filesize = len;
  u.has_filesize = true;
  dfx_node(f, version, NULL, 0, &u, out);
}

/*
 * A balanced file DAG over content, as kubo lays it out: chunk-sized
 * leaves, at most fanout links per inner node. Returns the root.
 */
static inline void dfx_file(dfx_t *f, const uint8_t *content, size_t len,
                            size_t chunk, size_t fanout, bool raw, int version,
                            cid_t *out)
{
  size_t n = len ? (len + chunk - 1) / chunk : 1, i, j, k;
  cid_t *cids = calloc(n, sizeof(*cids));
  uint64_t *sizes = calloc(n, sizeof(*sizes));

  assert_non_null(cids);
  assert_non_null(sizes);
  for (i = 0; i < n; i++) {
    size_t off = i * chunk, l = len - off < chunk ? len - off : chunk;
    dfx_leaf(f, raw, version, content + off, len ? l : 0, &cids[i]);
    sizes[i] = len ? l : 0;
  }
  while (n > 1) {
    size_t m = 0;
    for (i = 0; i < n; i += fanout, m++) {
      size_t cnt = n - i < fanout ? n - i : fanout;
      dagpb_link_t *links = calloc(cnt, sizeof(*links));
      uint64_t *bs = calloc(cnt, sizeof(*bs)), total = 0;
      unixfs_t u;

      assert_non_null(links);
      assert_non_null(bs);
      for (j = 0; j < cnt; j++) {
        k = i + j;
        dfx_link(&links[j], &cids[k], "", sizes[k]);
        bs[j] = sizes[k];
        total += sizes[k];
      }
      unixfs_init(&u);
      u.type = UNIXFS_FILE;
      u.filesize = total;
      u.has_filesize = true;
      u.blocksizes = bs;
      u.nblocksizes = cnt;
      dfx_node(f, version, links, cnt, &u, &cids[m]);
      sizes[m] = total;
      free(links);
      free(bs);
    }
    n = m;
  }
  *out = cids[0];
  free(cids);
  free(sizes);
}

/* A plain directory from parallel arrays of names and CIDs. */
static inline void dfx_dir(dfx_t *f, int version, const char **names,
                           const cid_t *cids, size_t n, cid_t *out)
{
  dagpb_link_t *links = calloc(n ? n : 1, sizeof(*links));
  unixfs_t u;
  size_t i;

  assert_non_null(links);
  for (i = 0; i < n; i++)
    dfx_link(&links[i], &cids[i], names[i], 1);
  dagpb_sort_links(links, n);
  unixfs_init(&u);
  u.type = UNIXFS_DIRECTORY;
  dfx_node(f, version, links, n, &u, out);
  free(links);
}

/* Deterministic pseudo-random bytes. */
static inline void dfx_fill(uint8_t *p, size_t len, uint32_t seed)
{
  uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
  size_t i;

  for (i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    p[i] = (uint8_t)x;
  }
}

#endif
