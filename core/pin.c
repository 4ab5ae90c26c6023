#include "pin.h"

#include <stdlib.h>
#include <string.h>

#include "dag.h"
#include "err.h"
#include "mh.h"

#define PIN_PREFIX "p/"
#define PIN_PREFIX_LEN 2
#define PIN_KEY_MAX (PIN_PREFIX_LEN + MH_MAX_LEN)
#define PIN_TAG_DIRECT 'd'
#define PIN_TAG_RECURSIVE 'r'

/* Blocks deleted per batch during the sweep: small enough that a stop
 * request is honoured soon, large enough to amortise the write. */
#define GC_BATCH 256

/* A stop code private to this file (callbacks never return it). */
#define PIN_FOUND 1

/* ---- a set of multihashes (open addressing, linear probing) ---- */

typedef struct mhset_s {
  uint8_t **slots; /* each: length byte + multihash bytes */
  size_t cap;      /* power of two */
  size_t n;
} mhset_t;

static void mhset_init(mhset_t *s)
{
  memset(s, 0, sizeof(*s));
}

static void mhset_cleanup(mhset_t *s)
{
  for (size_t i = 0; i < s->cap; i++)
    free(s->slots[i]);
  free(s->slots);
  mhset_init(s);
}

static uint64_t mhset_hash(const uint8_t *mh, size_t len)
{
  uint64_t h = 0xcbf29ce484222325ull;

  for (size_t i = 0; i < len; i++) {
    h ^= mh[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

static size_t mhset_find(const mhset_t *s, const uint8_t *mh, size_t len)
{
  size_t i = (size_t)mhset_hash(mh, len) & (s->cap - 1);

  while (s->slots[i] != NULL) {
    if (s->slots[i][0] == len && memcmp(s->slots[i] + 1, mh, len) == 0)
      return i;
    i = (i + 1) & (s->cap - 1);
  }
  return i;
}

static bool mhset_has(const mhset_t *s, const uint8_t *mh, size_t len)
{
  return s->cap > 0 && s->slots[mhset_find(s, mh, len)] != NULL;
}

static int mhset_grow(mhset_t *s)
{
  size_t ncap = s->cap > 0 ? s->cap * 2 : 1024;
  uint8_t **old = s->slots;
  size_t ocap = s->cap;

  s->slots = calloc(ncap, sizeof(*s->slots));
  if (s->slots == NULL) {
    s->slots = old;
    return -ENOMEM;
  }
  s->cap = ncap;
  for (size_t i = 0; i < ocap; i++)
    if (old[i] != NULL)
      s->slots[mhset_find(s, old[i] + 1, old[i][0])] = old[i];
  free(old);
  return 0;
}

/* 1 if added, 0 if it was there, negative on error. */
static int mhset_add(mhset_t *s, const uint8_t *mh, size_t len)
{
  uint8_t *e;
  size_t i;

  if (len > 255)
    return CIPFS_EMH;
  if ((s->n + 1) * 4 > s->cap * 3 && mhset_grow(s) != 0)
    return -ENOMEM;
  i = mhset_find(s, mh, len);
  if (s->slots[i] != NULL)
    return 0;
  e = malloc(len + 1);
  if (e == NULL)
    return -ENOMEM;
  e[0] = (uint8_t)len;
  memcpy(e + 1, mh, len);
  s->slots[i] = e;
  s->n++;
  return 1;
}

static int mhset_add_cid(mhset_t *s, const cid_t *cid)
{
  size_t len;
  const uint8_t *mh = cid_mh(cid, &len);

  return mhset_add(s, mh, len);
}

/* ---- walking local DAGs, tolerant of missing blocks ---- */

/* Visit of one reachable block; is_root for the walk's start. Non-zero
 * stops the walk and is returned. */
typedef int (*pin_visit_cb)(void *arg, const cid_t *cid, bool is_root);

/*
 * Depth-first over the blocks reachable from root that are present in bs,
 * each block once across all walks sharing seen. Missing blocks are marked
 * and skipped; any other read or decode error is returned. Raw blocks have
 * no links, so they are marked without being read.
 */
static int pin_walk_local(bs_t *bs, const cid_t *root, mhset_t *seen,
                          pin_visit_cb cb, void *arg)
{
  cid_list_t st = {0};
  uint8_t *data;
  size_t len;
  cid_t cur;
  int rc;

  rc = cid_list_push(&st, root);
  while (rc == 0 && st.n > 0) {
    cur = st.v[--st.n];
    rc = mhset_add_cid(seen, &cur);
    if (rc <= 0)
      continue; /* seen already (0) or an error (< 0) ends the loop */
    rc = cb != NULL ? cb(arg, &cur, cid_equal(&cur, root)) : 0;
    if (rc != 0 || cur.codec == CID_CODEC_RAW)
      continue;
    rc = bs_get(bs, &cur, &data, &len);
    if (rc == CIPFS_ENOTFOUND) {
      rc = 0;
      continue;
    }
    if (rc != 0)
      break;
    rc = dag_links(&cur, data, len, cid_list_push, &st);
    free(data);
    /* A codec whose links we cannot read (pin_add refuses to pin one, but
     * a dag-pb directory may link to it): keep the block itself rather
     * than make GC impossible for as long as it is reachable. */
    if (rc == CIPFS_EUNSUPPORTED)
      rc = 0;
  }
  free(st.v);
  return rc;
}

/* ---- pin records ---- */

static void pin_key(const cid_t *cid, uint8_t key[PIN_KEY_MAX], size_t *klen)
{
  size_t mhlen;
  const uint8_t *mh = cid_mh(cid, &mhlen);

  memcpy(key, PIN_PREFIX, PIN_PREFIX_LEN);
  memcpy(key + PIN_PREFIX_LEN, mh, mhlen);
  *klen = PIN_PREFIX_LEN + mhlen;
}

/* Decode a pin value: type tag + the CID as pinned. */
static int pin_decode(const uint8_t *val, size_t vlen, int *type, cid_t *cid)
{
  if (vlen < 2)
    return CIPFS_EDB;
  if (val[0] == PIN_TAG_RECURSIVE)
    *type = PIN_RECURSIVE;
  else if (val[0] == PIN_TAG_DIRECT)
    *type = PIN_DIRECT;
  else
    return CIPFS_EDB;
  return cid_decode(cid, val + 1, vlen - 1) == 0 ? 0 : CIPFS_EDB;
}

/* The explicit pin of cid's multihash: *type 0 when there is none. */
static int pin_get(kv_t *kv, const cid_t *cid, int *type, cid_t *pinned)
{
  uint8_t key[PIN_KEY_MAX];
  uint8_t *val;
  size_t klen, vlen;
  int rc;

  *type = 0;
  pin_key(cid, key, &klen);
  rc = kv_get(kv, key, klen, &val, &vlen);
  if (rc == CIPFS_ENOTFOUND)
    return 0;
  if (rc != 0)
    return rc;
  rc = pin_decode(val, vlen, type, pinned);
  free(val);
  return rc;
}

static int pin_put(kv_t *kv, const cid_t *cid, int type)
{
  uint8_t key[PIN_KEY_MAX], val[1 + CID_MAX_LEN];
  size_t klen;

  pin_key(cid, key, &klen);
  val[0] = type == PIN_RECURSIVE ? PIN_TAG_RECURSIVE : PIN_TAG_DIRECT;
  memcpy(val + 1, cid->bytes, cid->len);
  /* Synced: it also makes the blocks written before it durable, since
   * LevelDB's log is written in order. */
  return kv_put(kv, key, klen, val, 1 + cid->len, true);
}

const char *pin_type_name(int type)
{
  switch (type) {
  case PIN_DIRECT:
    return "direct";
  case PIN_RECURSIVE:
    return "recursive";
  case PIN_INDIRECT:
    return "indirect";
  default:
    return "unknown";
  }
}

int pin_types_from_name(const char *name, int *types)
{
  static const struct {
    const char *name;
    int types;
  } names[] = {{"direct", PIN_DIRECT},
               {"recursive", PIN_RECURSIVE},
               {"indirect", PIN_INDIRECT},
               {"all", PIN_ALL}};

  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    if (strcmp(name, names[i].name) == 0) {
      *types = names[i].types;
      return 0;
    }
  }
  return CIPFS_EUSAGE;
}

typedef struct pin_fetch_s {
  bs_t *bs;
} pin_fetch_t;

/* dag_walk visit: keep each block of the DAG locally. */
static int pin_fetch_visit(void *arg, const cid_t *cid, const uint8_t *data,
                           size_t len)
{
  pin_fetch_t *pf = arg;
  int rc = bs_has(pf->bs, cid);

  if (rc < 0)
    return rc;
  return rc == 1 ? 0 : bs_put(pf->bs, cid, data, len);
}

int pin_add(kv_t *kv, bs_t *bs, const block_getter_t *g, const cid_t *cid,
            bool recursive)
{
  pin_fetch_t pf = {bs};
  uint8_t *data;
  size_t len;
  cid_t pinned;
  int type, rc;

  rc = pin_get(kv, cid, &type, &pinned);
  if (rc != 0)
    return rc;
  if (type == PIN_RECURSIVE)
    return recursive ? 0 : CIPFS_EPINNED;
  if (type == PIN_DIRECT && !recursive)
    return 0;
  if (recursive) {
    rc = dag_walk(g, cid, pin_fetch_visit, &pf);
  } else {
    rc = block_get(g, cid, &data, &len);
    if (rc == 0) {
      rc = pin_fetch_visit(&pf, cid, data, len);
      free(data);
    }
  }
  if (rc != 0)
    return rc;
  return pin_put(kv, cid, recursive ? PIN_RECURSIVE : PIN_DIRECT);
}

int pin_add_stored(kv_t *kv, const cid_t *cid, bool recursive)
{
  cid_t pinned;
  int type, rc;

  rc = pin_get(kv, cid, &type, &pinned);
  if (rc != 0)
    return rc;
  if (type == PIN_RECURSIVE)
    return recursive ? 0 : CIPFS_EPINNED;
  if (type == PIN_DIRECT && !recursive)
    return 0;
  return pin_put(kv, cid, recursive ? PIN_RECURSIVE : PIN_DIRECT);
}

int pin_rm(kv_t *kv, const cid_t *cid, bool recursive)
{
  uint8_t key[PIN_KEY_MAX];
  cid_t pinned;
  size_t klen;
  int type, rc;

  rc = pin_get(kv, cid, &type, &pinned);
  if (rc != 0)
    return rc;
  if (type == 0)
    return CIPFS_ENOTPINNED;
  if (type == PIN_RECURSIVE && !recursive)
    return CIPFS_EPINNED;
  pin_key(cid, key, &klen);
  return kv_delete(kv, key, klen, true);
}

/* Each recursive pin in turn: cb(arg, root CID). */
typedef int (*pin_each_cb)(void *arg, const cid_t *cid, int type);

static int pin_each(kv_t *kv, int types, pin_each_cb cb, void *arg)
{
  const uint8_t *key, *val;
  size_t klen, vlen;
  kv_iter_t *it;
  cid_t cid;
  int type, rc;

  rc = kv_iter_new(&it, kv, PIN_PREFIX, PIN_PREFIX_LEN);
  if (rc != 0)
    return rc;
  while ((rc = kv_iter_next(it, &key, &klen, &val, &vlen)) == 1) {
    rc = pin_decode(val, vlen, &type, &cid);
    if (rc == 0 && (type & types))
      rc = cb(arg, &cid, type);
    if (rc != 0)
      break;
  }
  kv_iter_free(it);
  return rc;
}

typedef struct pin_search_s {
  bs_t *bs;
  mhset_t seen;
  const uint8_t *target; /* multihash looked for */
  size_t target_len;
  cid_t via;
} pin_search_t;

static int pin_search_visit(void *arg, const cid_t *cid, bool is_root)
{
  pin_search_t *ps = arg;
  size_t len;
  const uint8_t *mh = cid_mh(cid, &len);

  return !is_root && len == ps->target_len && memcmp(mh, ps->target, len) == 0
             ? PIN_FOUND
             : 0;
}

static int pin_search_root(void *arg, const cid_t *root, int type)
{
  pin_search_t *ps = arg;
  int rc = pin_walk_local(ps->bs, root, &ps->seen, pin_search_visit, ps);

  if (rc == PIN_FOUND)
    ps->via = *root;
  return rc;
}

int pin_check(kv_t *kv, bs_t *bs, const cid_t *cid, bool check_indirect,
              int *type, cid_t *via)
{
  pin_search_t ps;
  cid_t pinned;
  int rc;

  *type = 0;
  rc = pin_get(kv, cid, type, &pinned);
  if (rc != 0 || *type != 0 || !check_indirect)
    return rc;
  memset(&ps, 0, sizeof(ps));
  ps.bs = bs;
  mhset_init(&ps.seen);
  ps.target = cid_mh(cid, &ps.target_len);
  rc = pin_each(kv, PIN_RECURSIVE, pin_search_root, &ps);
  mhset_cleanup(&ps.seen);
  if (rc == PIN_FOUND) {
    *type = PIN_INDIRECT;
    if (via != NULL)
      *via = ps.via;
    return 0;
  }
  return rc;
}

typedef struct pin_list_s {
  kv_t *kv;
  bs_t *bs;
  mhset_t seen;
  mhset_t explicit_pins;
  pin_ls_cb cb;
  void *arg;
} pin_list_t;

static int pin_list_explicit(void *arg, const cid_t *cid, int type)
{
  pin_list_t *pl = arg;
  int rc = mhset_add_cid(&pl->explicit_pins, cid);

  return rc < 0 ? rc : 0;
}

static int pin_list_visit(void *arg, const cid_t *cid, bool is_root)
{
  pin_list_t *pl = arg;
  size_t len;
  const uint8_t *mh = cid_mh(cid, &len);

  if (is_root || mhset_has(&pl->explicit_pins, mh, len))
    return 0;
  return pl->cb(pl->arg, cid, PIN_INDIRECT);
}

static int pin_list_walk(void *arg, const cid_t *root, int type)
{
  pin_list_t *pl = arg;

  return pin_walk_local(pl->bs, root, &pl->seen, pin_list_visit, pl);
}

int pin_ls(kv_t *kv, bs_t *bs, int types, pin_ls_cb cb, void *arg)
{
  pin_list_t pl;
  int rc;

  if (types & (PIN_DIRECT | PIN_RECURSIVE)) {
    rc = pin_each(kv, types & (PIN_DIRECT | PIN_RECURSIVE), cb, arg);
    if (rc != 0 || !(types & PIN_INDIRECT))
      return rc;
  }
  if (!(types & PIN_INDIRECT))
    return 0;
  memset(&pl, 0, sizeof(pl));
  pl.kv = kv;
  pl.bs = bs;
  pl.cb = cb;
  pl.arg = arg;
  mhset_init(&pl.seen);
  mhset_init(&pl.explicit_pins);
  rc = pin_each(kv, PIN_DIRECT | PIN_RECURSIVE, pin_list_explicit, &pl);
  if (rc == 0)
    rc = pin_each(kv, PIN_RECURSIVE, pin_list_walk, &pl);
  mhset_cleanup(&pl.seen);
  mhset_cleanup(&pl.explicit_pins);
  return rc;
}

/* ---- garbage collection ---- */

typedef struct gc_mark_s {
  bs_t *bs;
  mhset_t *marked;
} gc_mark_t;

static int gc_mark_pin(void *arg, const cid_t *cid, int type)
{
  gc_mark_t *m = arg;
  int rc;

  if (type == PIN_DIRECT) {
    rc = mhset_add_cid(m->marked, cid);
    return rc < 0 ? rc : 0;
  }
  return pin_walk_local(m->bs, cid, m->marked, NULL, NULL);
}

/* The published tree: the whole DAG below "f/root", if there is one. */
static int gc_mark_fs_root(kv_t *kv, bs_t *bs, mhset_t *marked)
{
  uint8_t *val;
  size_t vlen;
  cid_t root;
  int rc;

  rc = kv_get(kv, PIN_FS_ROOT_KEY, strlen(PIN_FS_ROOT_KEY), &val, &vlen);
  if (rc == CIPFS_ENOTFOUND)
    return 0;
  if (rc != 0)
    return rc;
  rc = cid_decode(&root, val, vlen);
  free(val);
  /* A bad root record would otherwise let GC delete the whole published
   * tree: refuse to collect instead. */
  if (rc != 0)
    return CIPFS_EDB;
  return pin_walk_local(bs, &root, marked, NULL, NULL);
}

/*
 * Whole DAGs first, single blocks last. A walk stops at blocks already
 * marked, which is right only if whoever marked them also walked below
 * them: a direct pin marked first would hide the descendants it shares
 * with a recursive pin or the published tree, and GC would delete them.
 */
static int gc_mark(kv_t *kv, bs_t *bs, const cid_t *roots, size_t nroots,
                   mhset_t *marked)
{
  gc_mark_t m = {bs, marked};
  int rc;

  rc = pin_each(kv, PIN_RECURSIVE, gc_mark_pin, &m);
  if (rc == 0)
    rc = gc_mark_fs_root(kv, bs, marked);
  for (size_t i = 0; rc == 0 && i < nroots; i++)
    rc = pin_walk_local(bs, &roots[i], marked, NULL, NULL);
  if (rc == 0)
    rc = pin_each(kv, PIN_DIRECT, gc_mark_pin, &m);
  return rc;
}

typedef struct gc_sweep_s {
  bs_batch_t *batch; /* removes block files too, after the commit */
  cid_t pending[GC_BATCH];
  size_t sizes[GC_BATCH];
  size_t npending;
  gc_removed_cb cb;
  void *arg;
  gc_stats_t *stats;
} gc_sweep_t;

/* Commit the deletions so far, then report them. */
static int gc_flush(gc_sweep_t *s)
{
  int rc;

  if (s->npending == 0)
    return 0;
  rc = bs_batch_commit(s->batch);
  if (rc != 0)
    return rc;
  /* All of them are gone now, reported or not. */
  for (size_t i = 0; i < s->npending; i++) {
    s->stats->removed++;
    s->stats->removed_bytes += s->sizes[i];
  }
  for (size_t i = 0; i < s->npending && s->cb != NULL; i++) {
    rc = s->cb(s->arg, &s->pending[i], s->sizes[i]);
    if (rc != 0)
      break;
  }
  s->npending = 0;
  return rc;
}

static int gc_sweep(kv_iter_t *it, gc_sweep_t *s, const mhset_t *marked,
                    bool files)
{
  const uint8_t *key, *val;
  size_t klen, vlen;
  int rc;

  while ((rc = kv_iter_next(it, &key, &klen, &val, &vlen)) == 1) {
    /* Keys are "b/" or "B/" + multihash (the blockstore's layout). */
    const uint8_t *mh = key + 2;
    size_t mhlen = klen - 2;

    if (mhset_has(marked, mh, mhlen)) {
      s->stats->kept++;
      continue;
    }
    /* A key that is not a multihash is not ours to judge: keep it. */
    if (cid_make(&s->pending[s->npending], 1, CID_CODEC_RAW, mh, mhlen) != 0)
      continue;
    if (files)
      vlen = bs_index_size(val, vlen);
    rc = bs_batch_delete(s->batch, &s->pending[s->npending]);
    if (rc != 0)
      return rc;
    s->sizes[s->npending++] = vlen;
    if (s->npending == GC_BATCH) {
      rc = gc_flush(s);
      if (rc != 0)
        return rc;
    }
  }
  if (rc != 0)
    return rc;
  return gc_flush(s);
}

int gc_run(kv_t *kv, bs_t *bs, gc_removed_cb cb, void *arg, gc_stats_t *stats)
{
  return gc_run_roots(kv, bs, NULL, 0, cb, arg, stats);
}

int gc_run_roots(kv_t *kv, bs_t *bs, const cid_t *roots, size_t nroots,
                 gc_removed_cb cb, void *arg, gc_stats_t *stats)
{
  gc_stats_t local = {0};
  gc_sweep_t *s = NULL;
  kv_iter_t *it = NULL, *fit = NULL;
  mhset_t marked;
  int rc;

  if (stats == NULL)
    stats = &local;
  memset(stats, 0, sizeof(*stats));
  mhset_init(&marked);
  /* The sweep's iterator is made first: it reads a snapshot, so blocks
   * written from here on are never candidates, and roots read after it
   * (pins, f/root) cover every block in it they reference. */
  rc = kv_iter_new(&it, kv, BS_KEY_INLINE, 2);
  if (rc != 0)
    return rc;
  rc = kv_iter_new(&fit, kv, BS_KEY_FILE, 2);
  if (rc != 0)
    goto out;
  rc = gc_mark(kv, bs, roots, nroots, &marked);
  if (rc != 0)
    goto out;
  s = calloc(1, sizeof(*s));
  if (s == NULL) {
    rc = -ENOMEM;
    goto out;
  }
  s->batch = bs_batch_new(bs);
  s->cb = cb;
  s->arg = arg;
  s->stats = stats;
  if (s->batch == NULL) {
    rc = -ENOMEM;
    goto out;
  }
  rc = gc_sweep(it, s, &marked, false);
  if (rc == 0)
    rc = gc_sweep(fit, s, &marked, true);
  /* Packs whose every block is gone now give their space back. */
  if (rc == 0) {
    rc = bs_gc_packs(bs);
    rc = rc < 0 ? rc : 0;
  }

out:
  if (s != NULL)
    bs_batch_free(s->batch);
  free(s);
  kv_iter_free(it);
  kv_iter_free(fit);
  mhset_cleanup(&marked);
  return rc;
}
