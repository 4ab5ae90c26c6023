#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "dht_int.h"
#include "err.h"
#include "ma.h"

#include "core/store_tmp.h"

/*
 * k-buckets (XOR distance over SHA-256, capacity, ordering, persistence)
 * and the LevelDB provider store (TTL expiry, sweep, limits), on a real
 * LevelDB in a temp directory.
 */

static void peer_n(peerid_t *id, uint32_t n)
{
  uint8_t mh[38] = {0x00, 0x24, 0x08, 0x01, 0x12, 0x20};
  memcpy(mh + 6, &n, sizeof(n));
  assert_int_equal(peerid_from_bytes(id, mh, sizeof(mh)), 0);
}

static void test_distance(void **state)
{
  uint8_t a[DHT_ID_LEN] = {0}, b[DHT_ID_LEN] = {0}, t[DHT_ID_LEN] = {0};

  assert_int_equal(dht_cpl(a, b), 256);
  b[0] = 0x80;
  assert_int_equal(dht_cpl(a, b), 0);
  b[0] = 0x01;
  assert_int_equal(dht_cpl(a, b), 7);
  b[0] = 0;
  b[31] = 1;
  assert_int_equal(dht_cpl(a, b), 255);
  /* a = 0..0, b = 0..01: a is closer to 0, b closer to 0..01 */
  assert_true(dht_dist_cmp(t, a, b) < 0);
  t[31] = 1;
  assert_true(dht_dist_cmp(t, a, b) > 0);
  assert_int_equal(dht_dist_cmp(t, b, b), 0);
  /* kad IDs are SHA-256 of the key bytes */
  uint8_t k[DHT_ID_LEN];
  dht_kid((const uint8_t *)"", 0, k);
  assert_int_equal(k[0], 0xe3);
  assert_int_equal(k[31], 0x55);
}

static void test_buckets(void **state)
{
  dht_table_t t;
  peerid_t self, p;
  dht_entry_t *out[20];
  size_t full = 0, added = 0;

  peer_n(&self, 0xffffffff);
  dht_table_init(&t, &self, 20);
  assert_int_equal(dht_table_add(&t, &self, NULL, 0, 1), CIPFS_EUSAGE);
  /* Half of all IDs fall in bucket 0: it fills at 20, others keep
   * taking peers. */
  for (uint32_t i = 0; i < 2000; i++) {
    peer_n(&p, i);
    int rc = dht_table_add(&t, &p, NULL, 0, 1);
    if (rc == CIPFS_ELIMIT)
      full++;
    else if (rc == 1)
      added++;
    else
      fail_msg("add: %d", rc);
  }
  assert_int_equal(t.count, added);
  assert_int_equal(t.b[0].n, 20);
  assert_int_equal(t.b[1].n, 20);
  assert_true(full > 1000);
  for (size_t i = 0; i < sizeof(t.b) / sizeof(t.b[0]); i++)
    assert_true(t.b[i].n <= 20);
  /* Known peer: refreshed, not added twice. */
  peer_n(&p, 5);
  if (dht_table_find(&t, &p) != NULL) {
    assert_int_equal(dht_table_add(&t, &p, NULL, 0, 9), 0);
    assert_int_equal(dht_table_find(&t, &p)->seen_ms, 9);
  }
  /* closest: sorted by distance to the target, and truly the closest */
  uint8_t target[DHT_ID_LEN];
  dht_kid((const uint8_t *)"target", 6, target);
  size_t n = dht_table_closest(&t, target, out, 20);
  assert_int_equal(n, 20);
  for (size_t i = 1; i < n; i++)
    assert_true(dht_dist_cmp(target, out[i - 1]->kid, out[i]->kid) < 0);
  for (size_t b = 0; b < sizeof(t.b) / sizeof(t.b[0]); b++)
    for (size_t j = 0; j < t.b[b].n; j++) {
      bool in = false;
      for (size_t i = 0; i < n; i++)
        in = in || out[i] == t.b[b].e[j];
      if (!in)
        assert_true(dht_dist_cmp(target, out[19]->kid, t.b[b].e[j]->kid) < 0);
    }
  /* remove */
  peer_n(&p, 0);
  bool had = dht_table_find(&t, &p) != NULL;
  assert_int_equal(dht_table_remove(&t, &p), had ? 1 : 0);
  assert_null(dht_table_find(&t, &p));
  assert_int_equal(dht_table_remove(&t, &p), 0);
  /* refresh keys land in the bucket asked for */
  for (unsigned cpl = 0; cpl < 8; cpl++) {
    uint8_t key[DHT_ID_LEN], kid[DHT_ID_LEN];
    dht_table_rand_key(&t, cpl, key);
    dht_kid(key, sizeof(key), kid);
    assert_int_equal(dht_cpl(kid, t.self_kid), cpl);
  }
  dht_table_cleanup(&t);
}

typedef struct loaded_s {
  dht_table_t *t;
  size_t n;
  bool with_addr;
} loaded_t;

static void on_loaded(void *arg, const dht_peer_t *p)
{
  loaded_t *l = arg;
  l->n++;
  l->with_addr = l->with_addr || p->naddrs == 1;
  dht_table_add(l->t, &p->id, p->addrs, p->naddrs, 2);
}

static void test_persist(void **state)
{
  char *dir;
  kv_t *kv;
  dht_table_t t;
  peerid_t self, p;
  buf_t a;
  dht_bytes_t addr;
  loaded_t l = {0};

  assert_int_equal(store_tmp_open(&dir, &kv, NULL), 0);
  buf_init(&a);
  assert_int_equal(ma_parse("/ip4/127.0.0.1/tcp/4001", &a), 0);
  addr.data = a.data;
  addr.len = a.len;
  peer_n(&self, 99999);
  dht_table_init(&t, &self, 20);
  for (uint32_t i = 0; i < 30; i++) {
    peer_n(&p, i);
    dht_table_add(&t, &p, &addr, 1, 1);
  }
  assert_int_equal(dht_table_save(&t, kv), 0);
  /* Saving again replaces, not duplicates. */
  peer_n(&p, 0);
  dht_table_remove(&t, &p);
  assert_int_equal(dht_table_save(&t, kv), 0);
  size_t saved = t.count;
  dht_table_cleanup(&t);
  dht_table_init(&t, &self, 20);
  l.t = &t;
  assert_int_equal(dht_table_load(kv, on_loaded, &l), 0);
  assert_int_equal(l.n, saved);
  assert_true(l.with_addr);
  assert_int_equal(t.count, saved);
  assert_null(dht_table_find(&t, &p));
  peer_n(&p, 1);
  dht_entry_t *e = dht_table_find(&t, &p);
  assert_non_null(e);
  assert_int_equal(e->naddrs, 1);
  assert_memory_equal(e->addr[0], a.data, a.len);
  dht_table_cleanup(&t);
  buf_cleanup(&a);
  store_tmp_close(dir, kv, NULL);
}

static void test_providers(void **state)
{
  char *dir;
  kv_t *kv;
  buf_t a;
  dht_bytes_t addr;
  dht_peer_t p = {0}, *got;
  size_t n;
  uint8_t mh[34] = {0x12, 0x20, 1, 2, 3}, mh2[34] = {0x12, 0x20, 9};
  const uint64_t ttl = 48ULL * 3600 * 1000, t0 = 1700000000000ULL;

  assert_int_equal(store_tmp_open(&dir, &kv, NULL), 0);
  buf_init(&a);
  assert_int_equal(ma_parse("/ip4/127.0.0.1/tcp/4001", &a), 0);
  addr.data = a.data;
  addr.len = a.len;
  p.addrs = &addr;
  p.naddrs = 1;
  for (uint32_t i = 0; i < 5; i++) {
    peer_n(&p.id, i);
    assert_int_equal(dht_prov_add(kv, mh, sizeof(mh), &p, t0 + i * 1000), 0);
  }
  peer_n(&p.id, 77);
  assert_int_equal(dht_prov_add(kv, mh2, sizeof(mh2), &p, t0), 0);
  /* Re-adding refreshes, no duplicate. */
  peer_n(&p.id, 0);
  assert_int_equal(dht_prov_add(kv, mh, sizeof(mh), &p, t0 + 10000), 0);
  assert_int_equal(dht_prov_get(kv, mh, sizeof(mh), t0, ttl, 100, &got, &n), 0);
  assert_int_equal(n, 5);
  assert_int_equal(got[0].naddrs, 1);
  assert_memory_equal(got[0].addrs[0].data, a.data, a.len);
  dht_prov_free(got, n);
  /* max */
  assert_int_equal(dht_prov_get(kv, mh, sizeof(mh), t0, ttl, 2, &got, &n), 0);
  assert_int_equal(n, 2);
  dht_prov_free(got, n);
  /* A prefix of mh is another key. */
  assert_int_equal(dht_prov_get(kv, mh, 33, t0, ttl, 100, &got, &n), 0);
  assert_int_equal(n, 0);
  dht_prov_free(got, n);
  /* Expiry: at t0 + ttl + 2.5 s, records from t0+0..2 s are gone (the
   * refreshed one at +10 s stays), and reading deleted them. */
  assert_int_equal(
      dht_prov_get(kv, mh, sizeof(mh), t0 + ttl + 2500, ttl, 100, &got, &n), 0);
  assert_int_equal(n, 3);
  dht_prov_free(got, n);
  assert_int_equal(dht_prov_count(kv, &n), 0);
  assert_int_equal(n, 4);
  /* Sweep removes the rest once old. */
  assert_int_equal(dht_prov_sweep(kv, t0 + ttl + 60000, ttl), 4);
  assert_int_equal(dht_prov_count(kv, &n), 0);
  assert_int_equal(n, 0);
  /* Keys beyond 80 bytes are refused, as kubo does. */
  uint8_t longkey[81] = {0};
  assert_int_equal(dht_prov_add(kv, longkey, sizeof(longkey), &p, t0),
                   CIPFS_EUSAGE);
  /* Values */
  uint8_t *v;
  size_t vlen;
  assert_int_equal(dht_value_put(kv, (const uint8_t *)"/ipns/x", 7,
                                 (const uint8_t *)"val", 3),
                   0);
  assert_int_equal(dht_value_get(kv, (const uint8_t *)"/ipns/x", 7, &v, &vlen),
                   0);
  assert_int_equal(vlen, 3);
  free(v);
  buf_cleanup(&a);
  store_tmp_close(dir, kv, NULL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_distance),
      cmocka_unit_test(test_buckets),
      cmocka_unit_test(test_persist),
      cmocka_unit_test(test_providers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
