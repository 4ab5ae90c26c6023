#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bitswap.h"
#include "bs.h"
#include "core/store_tmp.h"
#include "net/host_fixture.h"
#include "err.h"
#include "key.h"
#include "kv.h"
#include "mh.h"
#include "p2p.h"
#include "varint.h"

/*
 * Bitswap between hosts in one process, each with its own loop thread,
 * LevelDB blockstore and real sockets on 127.0.0.1. "Evil" peers are
 * bare hosts that speak the bitswap protocol by hand.
 */
typedef struct node_s {
  struct key_s *key;
  p2p_host_t *h;
  char addr[256];
  char *dir;
  kv_t *kv;
  bs_t *bs;
  bitswap_t *bsw;
} node_t;

#define NNODES 3

typedef struct world_s {
  node_t n[NNODES];
  void *evil; /* outlive the hosts: their loops may still call them */
  void *old;
  void *flood;
} world_t;

static void node_start(node_t *n, bool with_bitswap)
{
  bitswap_config_t bc;

  hfx_up(&n->key, &n->h, n->addr, sizeof(n->addr));
  assert_int_equal(store_tmp_open(&n->dir, &n->kv, &n->bs), 0);
  if (with_bitswap) {
    bitswap_config_init(&bc);
    bc.want_timeout_ms = 400;
    bc.rebroadcast_ms = 300;
    assert_int_equal(bitswap_new(&n->bsw, n->h, n->bs, &bc), 0);
  }
}

static void node_stop(node_t *n)
{
  bitswap_free(n->bsw);
  hfx_down(n->h, n->key);
  store_tmp_close(n->dir, n->kv, n->bs);
}

static int setup(void **state)
{
  world_t *w = calloc(1, sizeof(*w));
  for (int i = 0; i < NNODES; i++)
    node_start(&w->n[i], true);
  *state = w;
  return 0;
}

static void evil_free(void *e);
static void old_free(void *o);

static int teardown(void **state)
{
  world_t *w = *state;
  for (int i = 0; i < NNODES; i++)
    node_stop(&w->n[i]);
  if (w->evil != NULL)
    evil_free(w->evil);
  if (w->old != NULL)
    old_free(w->old);
  free(w->flood);
  free(w);
  return 0;
}

static void link_nodes(node_t *a, node_t *b)
{
  assert_int_equal(p2p_sync_connect(a->h, b->addr, NULL), 0);
}

/* ---- waiting for a want ---- */

typedef struct got_s {
  uv_mutex_t mu;
  uv_cond_t cond;
  bool done;
  int status;
  uint8_t *data;
  size_t len;
} got_t;

static void got_init(got_t *g)
{
  memset(g, 0, sizeof(*g));
  uv_mutex_init(&g->mu);
  uv_cond_init(&g->cond);
}

static void got_cleanup(got_t *g)
{
  free(g->data);
  uv_cond_destroy(&g->cond);
  uv_mutex_destroy(&g->mu);
}

static void got_cb(void *arg, int status, const uint8_t *data, size_t len)
{
  got_t *g = arg;
  uv_mutex_lock(&g->mu);
  assert_false(g->done); /* exactly once */
  g->done = true;
  g->status = status;
  if (status == 0) {
    g->data = malloc(len ? len : 1);
    memcpy(g->data, data, len);
    g->len = len;
  }
  uv_cond_signal(&g->cond);
  uv_mutex_unlock(&g->mu);
}

/* 0 with the status, or CIPFS_ETIMEOUT when the callback did not run. */
static int got_wait(got_t *g, int ms)
{
  uint64_t deadline = uv_hrtime() + (uint64_t)ms * 1000000u;
  int rc = 0;
  uv_mutex_lock(&g->mu);
  while (!g->done) {
    uint64_t now = uv_hrtime();
    if (now >= deadline ||
        uv_cond_timedwait(&g->cond, &g->mu, deadline - now) != 0) {
      if (!g->done)
        rc = CIPFS_ETIMEOUT;
      break;
    }
  }
  if (rc == 0)
    rc = g->status;
  uv_mutex_unlock(&g->mu);
  return rc;
}

static void make_block(cid_t *cid, uint8_t **data, size_t len, unsigned seed)
{
  *data = malloc(len);
  for (size_t i = 0; i < len; i++)
    (*data)[i] = (uint8_t)(i * 31 + seed * 7 + (i >> 10));
  assert_int_equal(cid_sum(cid, 1, CID_CODEC_RAW, MH_SHA2_256, *data, len), 0);
}

static void put_block(node_t *n, size_t len, unsigned seed, cid_t *cid,
                      uint8_t **data)
{
  make_block(cid, data, len, seed);
  assert_int_equal(bs_put(n->bs, cid, *data, len), 0);
}

static void test_fetch_one(void **state)
{
  world_t *w = *state;
  node_t *a = &w->n[0], *b = &w->n[1];
  cid_t cid;
  uint8_t *data;
  got_t g;
  bitswap_stat_t st;
  bitswap_ledger_t led;

  put_block(a, 200000, 1, &cid, &data);
  link_nodes(b, a);
  got_init(&g);
  assert_int_equal(bitswap_want(b->bsw, &cid, got_cb, &g), 0);
  assert_int_equal(got_wait(&g, 5000), 0);
  assert_int_equal(g.len, 200000);
  assert_memory_equal(g.data, data, g.len);
  got_cleanup(&g);
  assert_int_equal(bitswap_stat(b->bsw, &st), 0);
  assert_int_equal(st.blocks_received, 1);
  assert_int_equal(st.data_received, 200000);
  assert_int_equal(st.npartners, 1);
  assert_true(peerid_equal(&st.partners[0], p2p_host_id(a->h)));
  assert_int_equal(st.wantlist_len, 0);
  bitswap_stat_cleanup(&st);
  assert_int_equal(bitswap_stat(a->bsw, &st), 0);
  assert_int_equal(st.blocks_sent, 1);
  bitswap_stat_cleanup(&st);
  assert_int_equal(bitswap_ledger(a->bsw, p2p_host_id(b->h), &led), 0);
  assert_int_equal(led.bytes_sent, 200000);
  assert_int_equal(bitswap_ledger(b->bsw, p2p_host_id(a->h), &led), 0);
  assert_int_equal(led.bytes_recv, 200000);
  free(data);
}

/* Many wants at once, from two peers that both hold the blocks; two
 * wants of the same CID share one request. */
static void test_fetch_many_shared(void **state)
{
  world_t *w = *state;
  node_t *a = &w->n[0], *b = &w->n[1], *c = &w->n[2];
  enum { N = 64 };
  cid_t cids[N];
  uint8_t *data[N];
  got_t g[N], dup;
  bitswap_stat_t st;

  for (int i = 0; i < N; i++) {
    put_block(a, 100000 + (size_t)i * 1000, 100 + (unsigned)i, &cids[i],
              &data[i]);
    assert_int_equal(
        bs_put(c->bs, &cids[i], data[i], 100000 + (size_t)i * 1000), 0);
  }
  link_nodes(b, a);
  link_nodes(b, c);
  for (int i = 0; i < N; i++) {
    got_init(&g[i]);
    assert_int_equal(bitswap_want(b->bsw, &cids[i], got_cb, &g[i]), 0);
  }
  got_init(&dup);
  assert_int_equal(bitswap_want(b->bsw, &cids[5], got_cb, &dup), 0);
  for (int i = 0; i < N; i++) {
    assert_int_equal(got_wait(&g[i], 10000), 0);
    assert_memory_equal(g[i].data, data[i], g[i].len);
    got_cleanup(&g[i]);
    free(data[i]);
  }
  assert_int_equal(got_wait(&dup, 5000), 0);
  got_cleanup(&dup);
  assert_int_equal(bitswap_stat(b->bsw, &st), 0);
  assert_int_equal(st.blocks_received, N);
  assert_int_equal(st.bad_blocks_received, 0);
  bitswap_stat_cleanup(&st);
}

/* Many large blocks from one peer: the answers spread over several
 * streams; every block arrives, none twice. */
static void test_fetch_big_blocks(void **state)
{
  world_t *w = *state;
  node_t *a = &w->n[0], *b = &w->n[1];
  enum { N = 24 };
  cid_t cids[N];
  uint8_t *data[N];
  got_t g[N];
  bitswap_stat_t st;

  for (int i = 0; i < N; i++)
    put_block(a, 1048576, 900 + (unsigned)i, &cids[i], &data[i]);
  link_nodes(b, a);
  for (int i = 0; i < N; i++) {
    got_init(&g[i]);
    assert_int_equal(bitswap_want(b->bsw, &cids[i], got_cb, &g[i]), 0);
  }
  for (int i = 0; i < N; i++) {
    assert_int_equal(got_wait(&g[i], 30000), 0);
    assert_int_equal(g[i].len, 1048576);
    assert_memory_equal(g[i].data, data[i], g[i].len);
    got_cleanup(&g[i]);
    free(data[i]);
  }
  assert_int_equal(bitswap_stat(b->bsw, &st), 0);
  assert_int_equal(st.blocks_received, N);
  assert_int_equal(st.dup_blocks_received, 0);
  bitswap_stat_cleanup(&st);
}

/* Wanted before anybody has it: found once a peer that has it connects;
 * a want nobody can answer is cancelled cleanly. */
static void test_want_then_connect_and_cancel(void **state)
{
  world_t *w = *state;
  node_t *a = &w->n[0], *b = &w->n[1];
  cid_t cid, missing;
  uint8_t *data, *d2;
  got_t g, gm;
  cid_t *wl;
  size_t nwl;

  put_block(a, 5000, 7, &cid, &data);
  make_block(&missing, &d2, 5000, 8);
  got_init(&g);
  got_init(&gm);
  assert_int_equal(bitswap_want(b->bsw, &cid, got_cb, &g), 0);
  assert_int_equal(bitswap_want(b->bsw, &missing, got_cb, &gm), 0);
  usleep(100000);
  assert_int_equal(bitswap_wantlist(b->bsw, NULL, &wl, &nwl), 0);
  assert_int_equal(nwl, 2);
  free(wl);
  link_nodes(b, a);
  assert_int_equal(got_wait(&g, 5000), 0);
  assert_memory_equal(g.data, data, g.len);
  /* a asked for missing: it is in b's wantlist with a until cancelled */
  assert_int_equal(got_wait(&gm, 300), CIPFS_ETIMEOUT);
  bitswap_cancel(b->bsw, &missing, &gm);
  assert_int_equal(got_wait(&gm, 2000), CIPFS_ECANCELED);
  assert_int_equal(bitswap_wantlist(b->bsw, NULL, &wl, &nwl), 0);
  assert_int_equal(nwl, 0);
  free(wl);
  got_cleanup(&g);
  got_cleanup(&gm);
  free(data);
  free(d2);
}

/* b told c DONT_HAVE; once b gets the block (from a, for its own reader)
 * c gets it from b at once, long before c would ask again. */
static void test_relay_arrived(void **state)
{
  world_t *w = *state;
  node_t *a = &w->n[0], *b = &w->n[1], *c = &w->n[2];
  bitswap_config_t bc;
  cid_t cid;
  uint8_t *data;
  got_t gb, gc;
  uint64_t t0;

  bitswap_free(c->bsw);
  bitswap_config_init(&bc);
  bc.want_timeout_ms = 60000;
  bc.rebroadcast_ms = 60000;
  assert_int_equal(bitswap_new(&c->bsw, c->h, c->bs, &bc), 0);
  put_block(a, 150000, 77, &cid, &data);
  link_nodes(c, b);
  got_init(&gc);
  assert_int_equal(bitswap_want(c->bsw, &cid, got_cb, &gc), 0);
  assert_int_equal(got_wait(&gc, 500), CIPFS_ETIMEOUT); /* b lacks it */
  link_nodes(b, a);
  got_init(&gb);
  t0 = uv_hrtime();
  assert_int_equal(bitswap_want(b->bsw, &cid, got_cb, &gb), 0);
  assert_int_equal(got_wait(&gb, 5000), 0);
  assert_int_equal(got_wait(&gc, 5000), 0);
  assert_true(uv_hrtime() - t0 < 5000000000ull);
  assert_int_equal(gc.len, 150000);
  assert_memory_equal(gc.data, data, gc.len);
  got_cleanup(&gb);
  got_cleanup(&gc);
  free(data);
}

/* ---- a hand-driven peer ---- */

typedef struct evil_s {
  p2p_host_t *h;
  int mode; /* what to do with wants */
  uv_mutex_t mu;
  size_t wants_seen;
  buf_t rx;
} evil_t;

enum { EVIL_WRONG_BLOCK, EVIL_MALFORMED, EVIL_SILENT, EVIL_OVERSIZED };

typedef struct reply_s {
  evil_t *e;
  buf_t msg;
} reply_t;

static void rep_read(p2p_stream_t *s, const uint8_t *d, size_t n, void *arg)
{
  (void)s, (void)d, (void)n, (void)arg;
}
static void rep_eof(p2p_stream_t *s, void *arg)
{
  (void)arg;
  p2p_stream_close(s);
}
static void rep_drain(p2p_stream_t *s, void *arg)
{
  (void)s, (void)arg;
}
static void rep_closed(p2p_stream_t *s, int err, void *arg)
{
  (void)s, (void)err, (void)arg;
}
static const p2p_stream_cbs_t rep_cbs = {rep_read, rep_eof, rep_drain,
                                         rep_closed};

static void rep_opened(p2p_stream_t *s, int err, void *arg)
{
  reply_t *r = arg;
  if (err == 0) {
    p2p_stream_set_cbs(s, &rep_cbs, NULL);
    p2p_stream_write(s, r->msg.data, r->msg.len);
    p2p_stream_close(s);
  }
  buf_cleanup(&r->msg);
  free(r);
}

/* Answer every want the way the mode says, on a new stream. */
static void evil_answer(evil_t *e, const peerid_t *peer, const cid_t *cid)
{
  static const char *const pr[] = {BITSWAP_PROTO_120};
  reply_t *r = calloc(1, sizeof(*r));
  bitswap_enc_t enc;
  uint8_t junk[300];

  buf_init(&r->msg);
  r->e = e;
  memset(junk, 0x5a, sizeof(junk));
  if (e->mode == EVIL_WRONG_BLOCK) {
    bitswap_enc_init(&enc, BITSWAP_V120);
    bitswap_enc_block(&enc, cid, junk, sizeof(junk)); /* wrong bytes */
    bitswap_enc_finish(&enc, &r->msg);
    bitswap_enc_cleanup(&enc);
  } else if (e->mode == EVIL_MALFORMED) {
    const uint8_t bad[] = {0x04, 0x0a, 0x05, 0x0a, 0x01};
    buf_append(&r->msg, bad, sizeof(bad));
  } else { /* oversized: a 5 MiB frame header and a little data */
    buf_append_varint(&r->msg, 5u * 1024 * 1024);
    buf_append(&r->msg, junk, sizeof(junk));
  }
  if (p2p_new_stream(e->h, peer, pr, 1, rep_opened, r) < 0) {
    buf_cleanup(&r->msg);
    free(r);
  }
}

static void evil_read(p2p_stream_t *s, const uint8_t *d, size_t n, void *arg)
{
  evil_t *e = arg;
  uint64_t len;
  ssize_t k;
  bitswap_msg_t m;

  buf_append(&e->rx, d, n);
  while ((k = varint_decode(e->rx.data, e->rx.len, &len)) > 0 &&
         e->rx.len >= (size_t)k + len) {
    if (bitswap_msg_decode(&m, e->rx.data + k, (size_t)len) == 0) {
      for (size_t i = 0; i < m.nentries; i++) {
        if (m.entries[i].cancel)
          continue;
        uv_mutex_lock(&e->mu);
        e->wants_seen++;
        uv_mutex_unlock(&e->mu);
        if (e->mode != EVIL_SILENT)
          evil_answer(e, p2p_stream_peer(s), &m.entries[i].cid);
      }
      bitswap_msg_cleanup(&m);
    }
    memmove(e->rx.data, e->rx.data + k + len, e->rx.len - (size_t)k - len);
    e->rx.len -= (size_t)k + len;
  }
}

static const p2p_stream_cbs_t evil_cbs = {rep_read, rep_eof, rep_drain,
                                          rep_closed};

static void evil_stream(p2p_stream_t *s, void *arg)
{
  p2p_stream_cbs_t cbs = evil_cbs;
  cbs.read = evil_read;
  p2p_stream_set_cbs(s, &cbs, arg);
}

typedef struct reg_s {
  evil_t *e;
  uv_mutex_t mu;
  uv_cond_t cond;
  bool done;
} reg_t;

static void evil_reg(p2p_host_t *h, void *arg)
{
  reg_t *r = arg;
  p2p_handle(h, BITSWAP_PROTO_120, evil_stream, r->e);
  p2p_identify_push(h);
  uv_mutex_lock(&r->mu);
  r->done = true;
  uv_cond_signal(&r->cond);
  uv_mutex_unlock(&r->mu);
}

static void evil_start(node_t *n, evil_t *e, int mode)
{
  reg_t r;
  memset(e, 0, sizeof(*e));
  e->h = n->h;
  e->mode = mode;
  uv_mutex_init(&e->mu);
  buf_init(&e->rx);
  memset(&r, 0, sizeof(r));
  r.e = e;
  uv_mutex_init(&r.mu);
  uv_cond_init(&r.cond);
  assert_int_equal(p2p_host_call(n->h, evil_reg, &r), 0);
  uv_mutex_lock(&r.mu);
  while (!r.done)
    uv_cond_wait(&r.cond, &r.mu);
  uv_mutex_unlock(&r.mu);
  uv_cond_destroy(&r.cond);
  uv_mutex_destroy(&r.mu);
}

static size_t evil_wants(evil_t *e)
{
  uv_mutex_lock(&e->mu);
  size_t n = e->wants_seen;
  uv_mutex_unlock(&e->mu);
  return n;
}

/* A peer that lies (wrong bytes), breaks the format, sends oversized
 * frames or never answers: the block still comes from the honest peer,
 * and only verified bytes are delivered. */
static void run_evil(world_t *w, int mode)
{
  node_t *a = &w->n[0], *b = &w->n[1], *c = &w->n[2];
  evil_t *ep = calloc(1, sizeof(*ep));
  enum { N = 8 };
  cid_t cids[N];
  uint8_t *data[N];
  got_t g[N];
  bitswap_stat_t st;

  /* c drops its engine and plays the evil peer */
  bitswap_free(c->bsw);
  c->bsw = NULL;
  w->evil = ep;
  evil_start(c, ep, mode);
  link_nodes(b, c);
  for (int i = 0; i < N; i++) {
    put_block(a, 3000, 300 + (unsigned)i + 10 * (unsigned)mode, &cids[i],
              &data[i]);
    got_init(&g[i]);
    assert_int_equal(bitswap_want(b->bsw, &cids[i], got_cb, &g[i]), 0);
  }
  /* Only the evil peer is there: it sees the wants, nothing arrives. */
  for (int i = 0; i < 100 && evil_wants(ep) == 0; i++)
    usleep(20000);
  assert_true(evil_wants(ep) > 0);
  assert_int_equal(got_wait(&g[0], 300), CIPFS_ETIMEOUT);
  link_nodes(b, a);
  for (int i = 0; i < N; i++) {
    assert_int_equal(got_wait(&g[i], 10000), 0);
    assert_int_equal(g[i].len, 3000);
    assert_memory_equal(g[i].data, data[i], 3000);
    got_cleanup(&g[i]);
    free(data[i]);
  }
  assert_int_equal(bitswap_stat(b->bsw, &st), 0);
  if (mode == EVIL_WRONG_BLOCK)
    assert_true(st.bad_blocks_received > 0);
  for (size_t i = 0; i < st.npartners; i++)
    assert_false(peerid_equal(&st.partners[i], p2p_host_id(c->h)));
  bitswap_stat_cleanup(&st);
  if (mode == EVIL_MALFORMED || mode == EVIL_OVERSIZED) {
    /* dropped at once */
    bool gone = false;
    for (int i = 0; i < 100 && !gone; i++) {
      peerid_t *ids;
      size_t n;
      assert_int_equal(p2p_sync_peers(b->h, &ids, &n), 0);
      gone = true;
      for (size_t k = 0; k < n; k++)
        if (peerid_equal(&ids[k], p2p_host_id(c->h)))
          gone = false;
      free(ids);
      if (!gone)
        usleep(20000);
    }
    assert_true(gone);
  }
}

static void evil_free(void *arg)
{
  evil_t *e = arg;
  buf_cleanup(&e->rx);
  uv_mutex_destroy(&e->mu);
  free(e);
}

static void test_evil_wrong_block(void **state)
{
  run_evil(*state, EVIL_WRONG_BLOCK);
}

static void test_evil_malformed(void **state)
{
  run_evil(*state, EVIL_MALFORMED);
}

static void test_evil_oversized(void **state)
{
  run_evil(*state, EVIL_OVERSIZED);
}

static void test_evil_silent(void **state)
{
  run_evil(*state, EVIL_SILENT);
}

/* ---- a hand-driven peer speaking one bitswap version ---- */

typedef struct old_s {
  p2p_host_t *h;
  const char *use; /* the protocol it speaks */
  uv_mutex_t mu;
  buf_t rx;
  size_t nblocks;
  cid_t got;
  cid_t order[8]; /* the first blocks, as they came */
  char proto[64];
  buf_t out; /* the want to send */
  peerid_t to;
} old_t;

static void old_read(p2p_stream_t *s, const uint8_t *d, size_t n, void *arg)
{
  old_t *o = arg;
  uint64_t len;
  ssize_t k;
  bitswap_msg_t m;

  uv_mutex_lock(&o->mu);
  snprintf(o->proto, sizeof(o->proto), "%s", p2p_stream_protocol(s));
  buf_append(&o->rx, d, n);
  while ((k = varint_decode(o->rx.data, o->rx.len, &len)) > 0 &&
         o->rx.len >= (size_t)k + len) {
    if (bitswap_msg_decode(&m, o->rx.data + k, (size_t)len) == 0) {
      for (size_t i = 0; i < m.nblocks; i++)
        if (bitswap_block_cid(&m.blocks[i], &o->got) == 0) {
          if (o->nblocks < 8)
            o->order[o->nblocks] = o->got;
          o->nblocks++;
        }
      bitswap_msg_cleanup(&m);
    }
    memmove(o->rx.data, o->rx.data + k + len, o->rx.len - (size_t)k - len);
    o->rx.len -= (size_t)k + len;
  }
  uv_mutex_unlock(&o->mu);
}

static void old_stream(p2p_stream_t *s, void *arg)
{
  p2p_stream_cbs_t cbs = rep_cbs;
  cbs.read = old_read;
  p2p_stream_set_cbs(s, &cbs, arg);
}

static void old_opened(p2p_stream_t *s, int err, void *arg)
{
  old_t *o = arg;
  if (err == 0) {
    p2p_stream_set_cbs(s, &rep_cbs, NULL);
    p2p_stream_write(s, o->out.data, o->out.len);
    p2p_stream_close(s);
  }
}

static void old_go(p2p_host_t *h, void *arg)
{
  old_t *o = arg;
  const char *pr[] = {o->use};
  p2p_handle(h, o->use, old_stream, o);
  p2p_new_stream(h, &o->to, pr, 1, old_opened, o);
}

/* c drops its bitswap engine and becomes a hand-driven peer of a that
 * speaks only use. */
static old_t *old_new(world_t *w, node_t *c, node_t *a, const char *use)
{
  old_t *o = calloc(1, sizeof(*o));
  bitswap_free(c->bsw);
  c->bsw = NULL;
  o->h = c->h;
  o->use = use;
  uv_mutex_init(&o->mu);
  buf_init(&o->rx);
  buf_init(&o->out);
  o->to = *p2p_host_id(a->h);
  w->old = o;
  return o;
}

/* Send o->out to a; how many blocks came back within 5 s (at least n). */
static size_t old_run(old_t *o, node_t *c, node_t *a, size_t n)
{
  size_t got = 0;
  link_nodes(c, a);
  assert_int_equal(p2p_host_call(c->h, old_go, o), 0);
  for (int i = 0; i < 250 && got < n; i++) {
    uv_mutex_lock(&o->mu);
    got = o->nblocks;
    uv_mutex_unlock(&o->mu);
    if (got < n)
      usleep(20000);
  }
  return got;
}

/* A peer that speaks only 1.0.0 gets its block as kubo sends it there:
 * bare bytes in field 2, on a stream we open with 1.0.0. */
static void test_old_peer_v100(void **state)
{
  world_t *w = *state;
  node_t *a = &w->n[0], *c = &w->n[2];
  old_t *o;
  const char *data = "a block for an old peer";
  bitswap_enc_t enc;
  bitswap_entry_t en;
  cid_t cid;

  assert_int_equal(cid_sum(&cid, 0, CID_CODEC_DAG_PB, MH_SHA2_256,
                           (const uint8_t *)data, strlen(data)),
                   0);
  assert_int_equal(bs_put(a->bs, &cid, (const uint8_t *)data, strlen(data)), 0);
  o = old_new(w, c, a, BITSWAP_PROTO_100);
  memset(&en, 0, sizeof(en));
  en.cid = cid;
  en.priority = 1;
  bitswap_enc_init(&enc, BITSWAP_V100);
  assert_int_equal(bitswap_enc_entry(&enc, &en), 0);
  assert_int_equal(bitswap_enc_finish(&enc, &o->out), 0);
  bitswap_enc_cleanup(&enc);
  assert_int_equal(old_run(o, c, a, 1), 1);
  assert_true(cid_equal(&o->got, &cid));
  assert_string_equal(o->proto, BITSWAP_PROTO_100);
}

/* Wants of one message are served highest priority first. */
static void test_priorities(void **state)
{
  world_t *w = *state;
  node_t *a = &w->n[0], *c = &w->n[2];
  old_t *o = old_new(w, c, a, BITSWAP_PROTO_120);
  static const int32_t prio[3] = {1, 100, 50};
  bitswap_enc_t enc;
  bitswap_entry_t en;
  cid_t cids[3];
  uint8_t *data;

  bitswap_enc_init(&enc, BITSWAP_V120);
  for (int i = 0; i < 3; i++) {
    put_block(a, 3000, 300 + (unsigned)i, &cids[i], &data);
    free(data);
    memset(&en, 0, sizeof(en));
    en.cid = cids[i];
    en.priority = prio[i];
    en.want_type = BITSWAP_WANT_BLOCK;
    assert_int_equal(bitswap_enc_entry(&enc, &en), 0);
  }
  assert_int_equal(bitswap_enc_finish(&enc, &o->out), 0);
  bitswap_enc_cleanup(&enc);
  assert_int_equal(old_run(o, c, a, 3), 3);
  assert_true(cid_equal(&o->order[0], &cids[1]));
  assert_true(cid_equal(&o->order[1], &cids[2]));
  assert_true(cid_equal(&o->order[2], &cids[0]));
}

static void old_free(void *arg)
{
  old_t *o = arg;
  buf_cleanup(&o->rx);
  buf_cleanup(&o->out);
  uv_mutex_destroy(&o->mu);
  free(o);
}

/* ---- a peer that floods us with streams and unfinished messages ---- */

enum { FLOOD_N = 70, FLOOD_KEPT = 64 };

typedef struct flood_s {
  uv_mutex_t mu;
  peerid_t to;
  p2p_stream_t *s[FLOOD_N];
  int open, failed; /* streams that are open; closed with an error */
} flood_t;

static void flood_closed(p2p_stream_t *s, int err, void *arg)
{
  flood_t *f = arg;
  uv_mutex_lock(&f->mu);
  for (int i = 0; i < FLOOD_N; i++)
    if (f->s[i] == s)
      f->s[i] = NULL;
  f->open--;
  if (err != 0)
    f->failed++;
  uv_mutex_unlock(&f->mu);
}

static const p2p_stream_cbs_t flood_cbs = {rep_read, rep_eof, rep_drain,
                                           flood_closed};

/* A message announced as 4 MiB of which only len bytes come. */
static void flood_write(p2p_stream_t *s, size_t len, bool header)
{
  uint8_t *buf = calloc(1, len + 10);
  size_t k = header ? varint_encode(BITSWAP_MAX_MSG, buf) : 0;
  p2p_stream_write(s, buf, k + len);
  free(buf);
}

static void flood_opened(p2p_stream_t *s, int err, void *arg)
{
  flood_t *f = arg;
  if (err != 0)
    return;
  uv_mutex_lock(&f->mu);
  for (int i = 0; i < FLOOD_N; i++) {
    if (f->s[i] == NULL) {
      f->s[i] = s;
      break;
    }
  }
  f->open++;
  uv_mutex_unlock(&f->mu);
  p2p_stream_set_cbs(s, &flood_cbs, f);
  flood_write(s, 65536, true);
}

static void flood_go(p2p_host_t *h, void *arg)
{
  static const char *const pr[] = {BITSWAP_PROTO_120};
  flood_t *f = arg;
  for (int i = 0; i < FLOOD_N; i++)
    p2p_new_stream(h, &f->to, pr, 1, flood_opened, f);
}

/* 3 MiB more on every stream still open: past the peer's buffer cap. */
static void flood_more(p2p_host_t *h, void *arg)
{
  flood_t *f = arg;
  (void)h;
  for (int i = 0; i < FLOOD_N; i++)
    if (f->s[i] != NULL)
      flood_write(f->s[i], 3 * 1024 * 1024, false);
}

static int flood_wait(flood_t *f, int failed, int ms)
{
  int n = 0;
  for (int i = 0; i < ms / 20; i++) {
    uv_mutex_lock(&f->mu);
    n = f->failed;
    uv_mutex_unlock(&f->mu);
    if (n >= failed)
      break;
    usleep(20000);
  }
  return n;
}

/* One peer gets at most BSW_PEER_INBOUND_MAX (64) inbound streams; the
 * rest are reset. Streams past the cap on unfinished bytes are reset, and
 * a peer that keeps at it is dropped with every stream. */
static void test_inbound_caps(void **state)
{
  world_t *w = *state;
  node_t *a = &w->n[0], *c = &w->n[2];
  flood_t *f = calloc(1, sizeof(*f));

  bitswap_free(c->bsw);
  c->bsw = NULL;
  uv_mutex_init(&f->mu);
  f->to = *p2p_host_id(a->h);
  /* Freed at teardown, after the hosts: their loops may call it till then. */
  w->flood = f;
  link_nodes(c, a);
  assert_int_equal(p2p_host_call(c->h, flood_go, f), 0);
  assert_int_equal(flood_wait(f, FLOOD_N - FLOOD_KEPT, 5000),
                   FLOOD_N - FLOOD_KEPT);
  usleep(300000);
  uv_mutex_lock(&f->mu);
  assert_int_equal(f->failed, FLOOD_N - FLOOD_KEPT);
  assert_int_equal(f->open, FLOOD_KEPT);
  uv_mutex_unlock(&f->mu);
  assert_int_equal(p2p_host_call(c->h, flood_more, f), 0);
  assert_int_equal(flood_wait(f, FLOOD_N, 10000), FLOOD_N);
}

/* ---- routing: providers found elsewhere ---- */

typedef struct fake_rt_s {
  p2p_host_t *h; /* whose loop the answers run on */
  peerid_t id;
  char addr[256];
  int queries;
} fake_rt_t;

typedef struct fake_q_s {
  fake_rt_t *rt;
  routing_found_cb found;
  routing_done_cb done;
  void *arg;
} fake_q_t;

static void fake_answer(p2p_host_t *h, void *arg)
{
  fake_q_t *q = arg;
  const char *addrs[1] = {q->rt->addr};
  (void)h;
  q->found(q->arg, &q->rt->id, addrs, 1);
  q->done(q->arg, 0);
  free(q);
}

static int fake_find(void *self, const cid_t *cid, size_t max,
                     routing_found_cb found, routing_done_cb done, void *arg)
{
  fake_rt_t *rt = self;
  fake_q_t *q = malloc(sizeof(*q));
  (void)cid, (void)max;
  q->rt = rt;
  q->found = found;
  q->done = done;
  q->arg = arg;
  rt->queries++;
  /* Never from inside the call (routing.h's async contract). */
  if (p2p_host_call(rt->h, fake_answer, q) < 0) {
    free(q);
    return CIPFS_ECLOSED;
  }
  return 0;
}

static int fake_provide(void *self, const cid_t *cid)
{
  (void)self, (void)cid;
  return 0;
}

/* Nobody connected has it: routing names a provider, bitswap dials it and
 * fetches from it. */
static void test_routing_providers(void **state)
{
  world_t *w = *state;
  node_t *a = &w->n[0], *b = &w->n[1];
  static fake_rt_t rt;
  routing_t r = {fake_find, fake_provide, &rt};
  cid_t cid;
  uint8_t *data;
  got_t g;

  put_block(a, 70000, 77, &cid, &data);
  memset(&rt, 0, sizeof(rt));
  rt.h = b->h;
  rt.id = *p2p_host_id(a->h);
  snprintf(rt.addr, sizeof(rt.addr), "%s", a->addr); /* with /p2p/ */
  bitswap_set_routing(b->bsw, &r);
  got_init(&g);
  assert_int_equal(bitswap_want(b->bsw, &cid, got_cb, &g), 0);
  assert_int_equal(got_wait(&g, 10000), 0);
  assert_memory_equal(g.data, data, g.len);
  assert_true(rt.queries > 0);
  /* found through routing, then dialled */ /* dialled because routing said
                                               so */
  got_cleanup(&g);
  free(data);
  bitswap_set_routing(b->bsw, NULL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_fetch_one, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fetch_many_shared, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fetch_big_blocks, setup, teardown),
      cmocka_unit_test_setup_teardown(test_want_then_connect_and_cancel, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_relay_arrived, setup, teardown),
      cmocka_unit_test_setup_teardown(test_evil_wrong_block, setup, teardown),
      cmocka_unit_test_setup_teardown(test_evil_malformed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_evil_oversized, setup, teardown),
      cmocka_unit_test_setup_teardown(test_evil_silent, setup, teardown),
      cmocka_unit_test_setup_teardown(test_old_peer_v100, setup, teardown),
      cmocka_unit_test_setup_teardown(test_priorities, setup, teardown),
      cmocka_unit_test_setup_teardown(test_inbound_caps, setup, teardown),
      cmocka_unit_test_setup_teardown(test_routing_providers, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
