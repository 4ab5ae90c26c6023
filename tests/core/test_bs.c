#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "bs.h"
#include "cid.h"
#include "err.h"
#include "kv.h"
#include "mh.h"

#include "core/store_tmp.h"
#include "pin.h"

typedef struct fixture_s {
  char *dir;
  kv_t *kv;
  bs_t *bs;
} fixture_t;

static int setup(void **state)
{
  fixture_t *f = calloc(1, sizeof(*f));

  if (f == NULL)
    return -1;
  if (store_tmp_open(&f->dir, &f->kv, &f->bs) != 0) {
    free(f);
    return -1;
  }
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  fixture_t *f = *state;

  store_tmp_close(f->dir, f->kv, f->bs);
  free(f);
  return 0;
}

static void make_block(cid_t *cid, int version, uint64_t codec,
                       const char *text)
{
  assert_int_equal(cid_sum(cid, version, codec, MH_SHA2_256,
                           (const uint8_t *)text, strlen(text)),
                   0);
}

static void assert_block(bs_t *bs, const cid_t *cid, const char *want)
{
  uint8_t *data = NULL;
  size_t len = 0;

  assert_int_equal(bs_get(bs, cid, &data, &len), 0);
  assert_int_equal(len, strlen(want));
  assert_memory_equal(data, want, len);
  free(data);
}

static void test_put_get_has_delete(void **state)
{
  fixture_t *f = *state;
  uint8_t *data = (uint8_t *)"x";
  size_t len = 7;
  cid_t c;

  make_block(&c, 1, CID_CODEC_RAW, "hello");
  assert_int_equal(bs_has(f->bs, &c), 0);
  assert_int_equal(bs_get(f->bs, &c, &data, &len), CIPFS_ENOTFOUND);
  assert_null(data);
  assert_int_equal(bs_size(f->bs, &c, &len), CIPFS_ENOTFOUND);

  assert_int_equal(bs_put(f->bs, &c, (const uint8_t *)"hello", 5), 0);
  assert_int_equal(bs_has(f->bs, &c), 1);
  assert_block(f->bs, &c, "hello");
  assert_int_equal(bs_size(f->bs, &c, &len), 0);
  assert_int_equal(len, 5);

  assert_int_equal(bs_delete(f->bs, &c), 0);
  assert_int_equal(bs_has(f->bs, &c), 0);
}

static void test_keyed_by_multihash(void **state)
{
  fixture_t *f = *state;
  const char *text = "same bytes";
  cid_t v0, v1pb, v1raw;

  /* v0, v1 dag-pb and v1 raw of one byte string share a block. */
  make_block(&v0, 0, CID_CODEC_DAG_PB, text);
  make_block(&v1pb, 1, CID_CODEC_DAG_PB, text);
  make_block(&v1raw, 1, CID_CODEC_RAW, text);
  assert_int_equal(bs_put(f->bs, &v0, (const uint8_t *)text, strlen(text)), 0);
  assert_int_equal(bs_has(f->bs, &v1pb), 1);
  assert_int_equal(bs_has(f->bs, &v1raw), 1);
  assert_block(f->bs, &v1raw, text);
  assert_int_equal(bs_delete(f->bs, &v1raw), 0);
  assert_int_equal(bs_has(f->bs, &v0), 0);
}

static void test_corruption_detected(void **state)
{
  fixture_t *f = *state;
  uint8_t key[2 + MH_MAX_LEN];
  uint8_t *data = (uint8_t *)"x";
  const uint8_t *mh;
  size_t mhlen, len = 3;
  cid_t c;

  make_block(&c, 1, CID_CODEC_RAW, "original");
  assert_int_equal(bs_put(f->bs, &c, (const uint8_t *)"original", 8), 0);
  /* Overwrite the stored bytes behind the blockstore's back. */
  mh = cid_mh(&c, &mhlen);
  memcpy(key, "b/", 2);
  memcpy(key + 2, mh, mhlen);
  assert_int_equal(kv_put(f->kv, key, 2 + mhlen, "0riginal", 8, false), 0);
  assert_int_equal(bs_get(f->bs, &c, &data, &len), CIPFS_ECORRUPT);
  assert_null(data);
  assert_int_equal(len, 0);
  /* has() does not read the data; it still says present. */
  assert_int_equal(bs_has(f->bs, &c), 1);

  /* bs_put does not re-hash (the importer computed the CID); what it
   * stores wrongly is caught on the way out. */
  make_block(&c, 1, CID_CODEC_RAW, "claimed");
  assert_int_equal(bs_put(f->bs, &c, (const uint8_t *)"actual", 6), 0);
  assert_int_equal(bs_get(f->bs, &c, &data, &len), CIPFS_ECORRUPT);

  /* Putting the right bytes again repairs a corrupt block. */
  make_block(&c, 1, CID_CODEC_RAW, "original");
  assert_int_equal(bs_put(f->bs, &c, (const uint8_t *)"original", 8), 0);
  assert_int_equal(bs_get(f->bs, &c, &data, &len), 0);
  assert_int_equal(len, 8);
  free(data);
}

static void test_identity_inline(void **state)
{
  fixture_t *f = *state;
  uint8_t *data = NULL;
  size_t len = 9;
  cid_t c;

  /* bafkqaaa: the empty identity CID, never stored, always there. */
  assert_int_equal(cid_parse(&c, "bafkqaaa"), 0);
  assert_int_equal(bs_has(f->bs, &c), 1);
  assert_int_equal(bs_get(f->bs, &c, &data, &len), 0);
  assert_int_equal(len, 0);
  free(data);

  assert_int_equal(
      cid_sum(&c, 1, CID_CODEC_RAW, MH_IDENTITY, (const uint8_t *)"inline", 6),
      0);
  assert_int_equal(bs_put(f->bs, &c, (const uint8_t *)"inline", 6), 0);
  assert_block(f->bs, &c, "inline");
  assert_int_equal(bs_size(f->bs, &c, &len), 0);
  assert_int_equal(len, 6);
  /* Not in the store itself. */
  assert_int_equal(kv_has(f->kv, "b/", 2), 0);
}

static void test_large_blocks(void **state)
{
  fixture_t *f = *state;
  size_t len = BLOCK_MAX_SIZE;
  uint8_t *big = malloc(len + 1);
  uint8_t *data;
  size_t got;
  cid_t c;

  assert_non_null(big);
  for (size_t i = 0; i <= len; i++)
    big[i] = (uint8_t)(i * 7 + (i >> 11));
  assert_int_equal(cid_sum(&c, 1, CID_CODEC_RAW, MH_SHA2_256, big, len), 0);
  assert_int_equal(bs_put(f->bs, &c, big, len), 0);
  assert_int_equal(bs_get(f->bs, &c, &data, &got), 0);
  assert_int_equal(got, len);
  assert_memory_equal(data, big, len);
  free(data);

  assert_int_equal(cid_sum(&c, 1, CID_CODEC_RAW, MH_SHA2_256, big, len + 1), 0);
  assert_int_equal(bs_put(f->bs, &c, big, len + 1), CIPFS_ETOOBIG);
  assert_int_equal(bs_has(f->bs, &c), 0);
  free(big);
}

static void test_batch_atomic(void **state)
{
  fixture_t *f = *state;
  bs_batch_t *b;
  cid_t a, c, d;

  make_block(&a, 1, CID_CODEC_RAW, "a");
  make_block(&c, 1, CID_CODEC_RAW, "c");
  make_block(&d, 0, CID_CODEC_DAG_PB, "d");
  assert_int_equal(bs_put(f->bs, &a, (const uint8_t *)"a", 1), 0);

  b = bs_batch_new(f->bs);
  assert_non_null(b);
  assert_int_equal(bs_batch_put(b, &c, (const uint8_t *)"c", 1), 0);
  assert_int_equal(bs_batch_put(b, &d, (const uint8_t *)"d", 1), 0);
  assert_int_equal(bs_batch_delete(b, &a), 0);
  assert_int_equal(bs_batch_put(b, &d, NULL, BLOCK_MAX_SIZE + 1),
                   CIPFS_ETOOBIG);
  /* None of it is visible before the commit. */
  assert_int_equal(bs_has(f->bs, &c), 0);
  assert_int_equal(bs_has(f->bs, &a), 1);
  assert_int_equal(bs_batch_commit(b), 0);
  assert_int_equal(bs_has(f->bs, &c), 1);
  assert_int_equal(bs_has(f->bs, &d), 1);
  assert_int_equal(bs_has(f->bs, &a), 0);
  bs_batch_free(b);

  /* An uncommitted batch leaves nothing. */
  b = bs_batch_new(f->bs);
  assert_non_null(b);
  assert_int_equal(bs_batch_put(b, &a, (const uint8_t *)"a", 1), 0);
  assert_int_equal(bs_batch_delete(b, &c), 0);
  bs_batch_free(b);
  assert_int_equal(bs_has(f->bs, &a), 0);
  assert_int_equal(bs_has(f->bs, &c), 1);
  bs_batch_free(NULL);
}

typedef struct listed_s {
  int n;
  char names[8][CID_MAX_STR];
  size_t sizes[8];
  int stop_after;
} listed_t;

static int list_cb(void *arg, const cid_t *cid, size_t size)
{
  listed_t *l = arg;

  assert_true(l->n < 8);
  assert_int_equal(cid->version, 1);
  assert_int_equal(cid->codec, CID_CODEC_RAW);
  assert_true(cid_format(cid, 0, l->names[l->n], CID_MAX_STR) > 0);
  l->sizes[l->n] = size;
  l->n++;
  return l->n == l->stop_after ? 42 : 0;
}

static void test_list(void **state)
{
  fixture_t *f = *state;
  listed_t l = {0};
  char want[CID_MAX_STR];
  cid_t v0, raw, v1;
  bool seen = false;

  make_block(&v0, 0, CID_CODEC_DAG_PB, "dir-ish");
  make_block(&raw, 1, CID_CODEC_RAW, "leaf");
  assert_int_equal(bs_put(f->bs, &v0, (const uint8_t *)"dir-ish", 7), 0);
  assert_int_equal(bs_put(f->bs, &raw, (const uint8_t *)"leaf", 4), 0);
  /* Keys outside "b/" are not blocks. */
  assert_int_equal(kv_put(f->kv, "p/x", 3, "y", 1, false), 0);

  assert_int_equal(bs_list(f->bs, list_cb, &l), 0);
  assert_int_equal(l.n, 2);
  /* The v0 block comes back as CIDv1 raw of its multihash. */
  assert_int_equal(cid_to_v1(&v1, &v0), 0);
  {
    size_t mhlen;
    const uint8_t *mh = cid_mh(&v0, &mhlen);
    assert_int_equal(cid_make(&v1, 1, CID_CODEC_RAW, mh, mhlen), 0);
  }
  assert_true(cid_format(&v1, 0, want, sizeof(want)) > 0);
  for (int i = 0; i < l.n; i++) {
    if (strcmp(l.names[i], want) == 0) {
      seen = true;
      assert_int_equal(l.sizes[i], 7);
    }
  }
  assert_true(seen);

  /* A non-zero return stops the listing and comes back. */
  memset(&l, 0, sizeof(l));
  l.stop_after = 1;
  assert_int_equal(bs_list(f->bs, list_cb, &l), 42);
  assert_int_equal(l.n, 1);
}

static void test_getter_putter(void **state)
{
  fixture_t *f = *state;
  block_getter_t g;
  block_putter_t p;
  uint8_t *data;
  size_t len;
  cid_t c;

  bs_getter(f->bs, &g);
  bs_putter(f->bs, &p);
  make_block(&c, 1, CID_CODEC_RAW, "via adapters");
  assert_int_equal(block_put(&p, &c, (const uint8_t *)"via adapters", 12), 0);
  assert_int_equal(block_get(&g, &c, &data, &len), 0);
  assert_int_equal(len, 12);
  assert_memory_equal(data, "via adapters", 12);
  free(data);
  make_block(&c, 1, CID_CODEC_RAW, "absent");
  assert_int_equal(block_get(&g, &c, &data, &len), CIPFS_ENOTFOUND);
}

/* ---- packed blocks (bs_new_dir) ---- */

typedef struct pfix_s {
  char *dir;
  char blocks[4096];
  kv_t *kv;
  bs_t *bs;
} pfix_t;

static int psetup(void **state)
{
  pfix_t *f = calloc(1, sizeof(*f));

  if (f == NULL)
    return -1;
  f->dir = store_tmp_new();
  if (f->dir == NULL)
    goto fail;
  snprintf(f->blocks, sizeof(f->blocks), "%s/blocks", f->dir);
  if (kv_open(&f->kv, f->dir) != 0 || bs_new_dir(&f->bs, f->kv, f->blocks))
    goto fail;
  *state = f;
  return 0;
fail:
  kv_close(f->kv);
  store_tmp_free(f->dir);
  free(f);
  return -1;
}

static int pteardown(void **state)
{
  pfix_t *f = *state;

  store_tmp_close(f->dir, f->kv, f->bs);
  free(f);
  return 0;
}

static size_t count_packs(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  size_t n = 0;

  assert_non_null(d);
  while ((e = readdir(d)) != NULL)
    n += strstr(e->d_name, ".pack") != NULL;
  closedir(d);
  return n;
}

/* A block of n bytes of pattern seed, and its raw CIDv1. */
static uint8_t *big_block(size_t n, unsigned seed, cid_t *cid)
{
  uint8_t *b = malloc(n);

  assert_non_null(b);
  for (size_t i = 0; i < n; i++)
    b[i] = (uint8_t)(i * 31 + seed * 7 + (i >> 9));
  assert_int_equal(cid_sum(cid, 1, CID_CODEC_RAW, MH_SHA2_256, b, n), 0);
  return b;
}

static void assert_bytes(bs_t *bs, const cid_t *cid, const uint8_t *want,
                         size_t n)
{
  uint8_t *data = NULL;
  size_t len = 0, sz = 0;

  assert_int_equal(bs_get(bs, cid, &data, &len), 0);
  assert_int_equal(len, n);
  assert_memory_equal(data, want, n);
  free(data);
  assert_int_equal(bs_has(bs, cid), 1);
  assert_int_equal(bs_size(bs, cid, &sz), 0);
  assert_int_equal(sz, n);
}

static void test_packed_roundtrip(void **state)
{
  pfix_t *f = *state;
  size_t n = 300000;
  cid_t a, b, small;
  uint8_t *x = big_block(n, 1, &a), *y = big_block(n, 2, &b);
  bs_batch_t *batch;

  /* Small blocks stay inline, large ones go to packs. */
  make_block(&small, 1, CID_CODEC_RAW, "small");
  assert_int_equal(bs_put(f->bs, &small, (const uint8_t *)"small", 5), 0);
  assert_int_equal(count_packs(f->blocks), 0);
  assert_int_equal(bs_put(f->bs, &a, x, n), 0);
  assert_int_equal(count_packs(f->blocks), 1);
  assert_bytes(f->bs, &a, x, n);
  assert_block(f->bs, &small, "small");

  batch = bs_batch_new(f->bs);
  assert_non_null(batch);
  assert_int_equal(bs_batch_put(batch, &b, y, n), 0);
  /* Not visible before the commit; the index costs little memory. */
  assert_int_equal(bs_has(f->bs, &b), 0);
  assert_true(bs_batch_mem(batch) < 100);
  assert_int_equal(bs_batch_commit(batch), 0);
  bs_batch_free(batch);
  assert_bytes(f->bs, &b, y, n);
  assert_int_equal(count_packs(f->blocks), 2);

  /* A new handle on the same store finds everything. */
  bs_free(f->bs);
  assert_int_equal(bs_new_dir(&f->bs, f->kv, f->blocks), 0);
  assert_bytes(f->bs, &a, x, n);
  assert_bytes(f->bs, &b, y, n);
  free(x);
  free(y);
}

/* bs_put_many: large blocks of one call share one pack, all readable,
 * small and identity ones are stored (or skipped) as bs_put does. */
static void test_put_many(void **state)
{
  pfix_t *f = *state;
  size_t n = 300000;
  cid_t c[3], small;
  uint8_t *x[3];
  bs_put_item_t it[4];

  for (int i = 0; i < 3; i++) {
    x[i] = big_block(n, 10 + i, &c[i]);
    it[i] = (bs_put_item_t){&c[i], x[i], n};
  }
  make_block(&small, 1, CID_CODEC_RAW, "tiny");
  it[3] = (bs_put_item_t){&small, (const uint8_t *)"tiny", 4};
  assert_int_equal(bs_put_many(f->bs, it, 4), 0);
  assert_int_equal(count_packs(f->blocks), 1);
  for (int i = 0; i < 3; i++)
    assert_bytes(f->bs, &c[i], x[i], n);
  assert_block(f->bs, &small, "tiny");
  for (int i = 0; i < 3; i++)
    free(x[i]);
}

static void test_packed_abort(void **state)
{
  pfix_t *f = *state;
  size_t n = 100000;
  cid_t a;
  uint8_t *x = big_block(n, 3, &a);
  bs_batch_t *batch = bs_batch_new(f->bs);

  assert_non_null(batch);
  assert_int_equal(bs_batch_put(batch, &a, x, n), 0);
  assert_int_equal(count_packs(f->blocks), 1);
  /* Freed uncommitted: the pack goes, nothing is indexed. */
  bs_batch_free(batch);
  assert_int_equal(count_packs(f->blocks), 0);
  assert_int_equal(bs_has(f->bs, &a), 0);
  free(x);
}

static void test_packed_corrupt(void **state)
{
  pfix_t *f = *state;
  size_t n = 100000, len;
  char name[64], path[4200];
  uint64_t off;
  uint8_t *x, *data;
  FILE *fp;
  cid_t a;

  x = big_block(n, 4, &a);
  assert_int_equal(bs_put(f->bs, &a, x, n), 0);
  assert_int_equal(bs_locate(f->bs, &a, name, sizeof(name), &off, &len), 0);
  assert_int_equal(len, n);
  snprintf(path, sizeof(path), "%s/%s", f->blocks, name);
  fp = fopen(path, "r+b");
  assert_non_null(fp);
  assert_int_equal(fseek(fp, (long)(off + 10), SEEK_SET), 0);
  assert_int_not_equal(fputc(x[10] ^ 0xff, fp), EOF);
  assert_int_equal(fclose(fp), 0);
  assert_int_equal(bs_get(f->bs, &a, &data, &len), CIPFS_ECORRUPT);
  /* Putting the right bytes again repairs it. */
  assert_int_equal(bs_put(f->bs, &a, x, n), 0);
  assert_bytes(f->bs, &a, x, n);
  /* A pack that vanished is damage, not absence. */
  assert_int_equal(bs_locate(f->bs, &a, name, sizeof(name), &off, &len), 0);
  snprintf(path, sizeof(path), "%s/%s", f->blocks, name);
  assert_int_equal(unlink(path), 0);
  assert_int_equal(bs_get(f->bs, &a, &data, &len), CIPFS_ECORRUPT);
  free(x);
}

static void test_packed_gc(void **state)
{
  pfix_t *f = *state;
  size_t n = 200000;
  cid_t a, b;
  uint8_t *x = big_block(n, 5, &a), *y = big_block(n, 6, &b);
  gc_stats_t st;

  assert_int_equal(bs_put(f->bs, &a, x, n), 0);
  assert_int_equal(bs_put(f->bs, &b, y, n), 0);
  assert_int_equal(pin_add_stored(f->kv, &a, false), 0);
  /* Single puts append to one shared pack. */
  assert_int_equal(count_packs(f->blocks), 1);
  /* b is unpinned: its index entry goes; the pack stays, a lives in it. */
  assert_int_equal(gc_run(f->kv, f->bs, NULL, NULL, &st), 0);
  assert_int_equal(st.removed, 1);
  assert_int_equal(st.removed_bytes, n);
  assert_int_equal(bs_has(f->bs, &b), 0);
  assert_int_equal(count_packs(f->blocks), 1);
  assert_bytes(f->bs, &a, x, n);
  /* Deleting a directly frees its pack at the next sweep. */
  assert_int_equal(pin_rm(f->kv, &a, false), 0);
  assert_int_equal(bs_delete(f->bs, &a), 0);
  assert_int_equal(bs_gc_packs(f->bs), 1);
  assert_int_equal(count_packs(f->blocks), 0);
  /* Puts after that start a new pack. */
  assert_int_equal(bs_put(f->bs, &b, y, n), 0);
  assert_bytes(f->bs, &b, y, n);
  assert_int_equal(count_packs(f->blocks), 1);
  free(x);
  free(y);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(test_put_get_has_delete),
      T(test_keyed_by_multihash),
      T(test_corruption_detected),
      T(test_identity_inline),
      T(test_large_blocks),
      T(test_batch_atomic),
      T(test_list),
      T(test_getter_putter),
      cmocka_unit_test_setup_teardown(test_packed_roundtrip, psetup, pteardown),
      cmocka_unit_test_setup_teardown(test_put_many, psetup, pteardown),
      cmocka_unit_test_setup_teardown(test_packed_abort, psetup, pteardown),
      cmocka_unit_test_setup_teardown(test_packed_corrupt, psetup, pteardown),
      cmocka_unit_test_setup_teardown(test_packed_gc, psetup, pteardown),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
