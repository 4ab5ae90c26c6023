/* Bitswap engine: lifecycle, peers, streams in and out, and the calls
 * other threads make. Wants are in bitswap_client.c, answers in
 * bitswap_server.c. */
#include "bitswap_int.h"
#include "p2p_int.h" /* h->started */

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "varint.h"

static const char *const protos[] = {BITSWAP_PROTO_120, BITSWAP_PROTO_110,
                                     BITSWAP_PROTO_100};

void bitswap_config_init(bitswap_config_t *c)
{
  c->want_timeout_ms = 5000;
  c->rebroadcast_ms = 2000;
  c->max_providers = 10;
}

uint64_t bsw_now(bitswap_t *b)
{
  return uv_now(p2p_host_loop(b->h));
}

uint64_t bsw_fingerprint(const cid_t *cid)
{
  size_t n;
  const uint8_t *mh = cid_mh(cid, &n);
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++)
    h = (h ^ mh[i]) * 1099511628211ULL;
  return h;
}

/* ---- peers ---- */

bsw_peer_t *bsw_peer(bitswap_t *b, const peerid_t *id, bool create)
{
  bsw_peer_t *p;
  for (p = b->peers; p != NULL; p = p->next)
    if (peerid_equal(&p->id, id))
      return p;
  if (!create || (p = calloc(1, sizeof(*p))) == NULL)
    return NULL;
  p->b = b;
  p->id = *id;
  p->version = BITSWAP_V120;
  p->next = b->peers;
  b->peers = p;
  return p;
}

static void peer_free(bsw_peer_t *p)
{
  while (p->oblocks != NULL) {
    bsw_oblock_t *ob = p->oblocks;
    p->oblocks = ob->next;
    free(ob->data);
    free(ob);
  }
  free(p->pend_entries);
  free(p->pend_pres);
  free(p->wl);
  free(p);
}

bool bsw_peer_usable(bitswap_t *b, bsw_peer_t *p)
{
  return p->connected && !p->no_bitswap && bsw_now(b) >= p->shun_until_ms;
}

static void hang_up(p2p_host_t *h, void *arg)
{
  bsw_peer_t *p = arg;
  if (!p->b->closing)
    p2p_disconnect(h, &p->id);
  bsw_job_done(p->b);
}

void bsw_peer_bad(bsw_peer_t *p, unsigned weight, const char *why)
{
  bitswap_t *b = p->b;
  (void)why;
  p->led.bad += weight;
  if (p->led.bad < BSW_BAD_LIMIT)
    return;
  /* Drop it: no more asks for a while, and hang up (later: we may be
   * inside a callback of one of its streams). */
  p->led.bad = 0;
  p->shun_until_ms = bsw_now(b) + BSW_SHUN_MS;
  bsw_client_peer_gone(b, p);
  b->inflight++;
  if (p2p_host_call(b->h, hang_up, p) < 0)
    b->inflight--;
}

/* Learn who is connected: new bitswap peers get our open wants, peers that
 * left lose theirs. Cheap enough for every tick. */
void bsw_refresh_peers(bitswap_t *b, bool force)
{
  peerid_t *ids = NULL;
  size_t n = 0;
  uint64_t now = bsw_now(b);

  if (!force && now - b->last_refresh_ms < BSW_TICK_MS)
    return;
  b->last_refresh_ms = now;
  if (p2p_peers(b->h, &ids, &n) < 0)
    return;
  for (bsw_peer_t *p = b->peers; p != NULL; p = p->next) {
    bool was = p->connected;
    p->connected = false;
    for (size_t i = 0; i < n && !p->connected; i++)
      p->connected = peerid_equal(&p->id, &ids[i]);
    if (was && !p->connected) {
      bsw_client_peer_gone(b, p);
      bsw_server_clear(p);
    }
  }
  for (size_t i = 0; i < n; i++) {
    bsw_peer_t *p = bsw_peer(b, &ids[i], false);
    if (p == NULL && (p = bsw_peer(b, &ids[i], true)) == NULL)
      break;
    if (!p->connected) {
      p->connected = true;
      p->no_bitswap = false;
      bsw_client_peer_new(b, p);
    }
  }
  free(ids);
}

/* ---- outbound: queue and send ---- */

int bsw_queue_entry(bsw_peer_t *p, const bitswap_entry_t *e)
{
  if (p->npend_entries == p->cap_entries) {
    size_t cap = p->cap_entries ? 2 * p->cap_entries : 16;
    bitswap_entry_t *v = realloc(p->pend_entries, cap * sizeof(*v));
    if (v == NULL)
      return -ENOMEM;
    p->pend_entries = v;
    p->cap_entries = cap;
  }
  p->pend_entries[p->npend_entries++] = *e;
  return 0;
}

int bsw_queue_presence(bsw_peer_t *p, const cid_t *cid, int type)
{
  if (p->npend_pres == p->cap_pres) {
    size_t cap = p->cap_pres ? 2 * p->cap_pres : 16;
    bitswap_presence_t *v = realloc(p->pend_pres, cap * sizeof(*v));
    if (v == NULL)
      return -ENOMEM;
    p->pend_pres = v;
    p->cap_pres = cap;
  }
  p->pend_pres[p->npend_pres].cid = *cid;
  p->pend_pres[p->npend_pres++].type = (uint8_t)type;
  return 0;
}

void bsw_queue_block(bsw_peer_t *p, bsw_oblock_t *ob)
{
  ob->next = NULL;
  if (p->oblocks_tail != NULL)
    p->oblocks_tail->next = ob;
  else
    p->oblocks = ob;
  p->oblocks_tail = ob;
  p->oblock_bytes += ob->len;
}

static bool has_pending(const bsw_peer_t *p)
{
  return p->npend_entries > 0 || p->npend_pres > 0 || p->oblocks != NULL;
}

static void drop_pending(bsw_peer_t *p)
{
  while (p->oblocks != NULL) {
    bsw_oblock_t *ob = p->oblocks;
    p->oblocks = ob->next;
    free(ob->data);
    free(ob);
  }
  p->oblocks_tail = NULL;
  p->oblock_bytes = 0;
  p->npend_entries = 0;
  p->npend_pres = 0;
}

/* One message: every queued entry and presence, then blocks up to the
 * target size (at least one). */
static int build_msg(bsw_peer_t *p, buf_t *out, bool first)
{
  bitswap_enc_t e;
  size_t i = 0, k = 0;
  int rc = 0;

  bitswap_enc_init(&e, p->version);
  for (; first && i < p->npend_entries && bitswap_enc_size(&e) < BSW_TARGET_MSG;
       i++)
    if ((rc = bitswap_enc_entry(&e, &p->pend_entries[i])) < 0)
      goto out;
  for (; first && k < p->npend_pres && bitswap_enc_size(&e) < BSW_TARGET_MSG;
       k++)
    if ((rc = bitswap_enc_presence(&e, &p->pend_pres[k].cid,
                                   p->pend_pres[k].type)) < 0)
      goto out;
  while (p->oblocks != NULL &&
         (e.nitems == 0 ||
          bitswap_enc_size(&e) + p->oblocks->len <= BSW_TARGET_MSG)) {
    bsw_oblock_t *ob = p->oblocks;
    if ((rc = bitswap_enc_block(&e, &ob->cid, ob->data, ob->len)) < 0)
      goto out;
    p->oblocks = ob->next;
    if (p->oblocks == NULL)
      p->oblocks_tail = NULL;
    p->oblock_bytes -= ob->len;
    p->led.blocks_sent++;
    p->led.bytes_sent += ob->len;
    p->b->st.blocks_sent++;
    p->b->st.data_sent += ob->len;
    free(ob->data);
    free(ob);
  }
  if (i > 0 && i < p->npend_entries)
    memmove(p->pend_entries, p->pend_entries + i,
            (p->npend_entries - i) * sizeof(*p->pend_entries));
  p->npend_entries -= i;
  if (k > 0 && k < p->npend_pres)
    memmove(p->pend_pres, p->pend_pres + k,
            (p->npend_pres - k) * sizeof(*p->pend_pres));
  p->npend_pres -= k;
  if (e.nitems > 0)
    rc = bitswap_enc_finish(&e, out);
out:
  bitswap_enc_cleanup(&e);
  return rc;
}

static void out_read(p2p_stream_t *s, const uint8_t *data, size_t len,
                     void *arg)
{
  (void)s, (void)data, (void)len, (void)arg; /* nobody answers here */
}

static void out_eof(p2p_stream_t *s, void *arg)
{
  (void)s, (void)arg;
}

static int out_index(const bsw_peer_t *p, const p2p_stream_t *s)
{
  for (int i = 0; i < BSW_NOUT; i++)
    if (p->out[i] == s)
      return i;
  return -1;
}

static void out_drain(p2p_stream_t *s, void *arg)
{
  bsw_peer_t *p = arg;
  if (out_index(p, s) >= 0)
    bsw_flush(p);
}

static void out_closed(p2p_stream_t *s, int err, void *arg)
{
  bsw_peer_t *p = arg;
  int i = out_index(p, s);
  (void)err;
  if (i < 0)
    return;
  p->out[i] = NULL;
  p->out_state[i] = BSW_OUT_NONE;
  if (!p->b->closing && has_pending(p))
    bsw_flush(p);
}

static const p2p_stream_cbs_t out_cbs = {out_read, out_eof, out_drain,
                                         out_closed};

typedef struct opening_s {
  bsw_peer_t *p;
  int i;
} opening_t;

static void out_opened(p2p_stream_t *s, int err, void *arg)
{
  opening_t *o = arg;
  bsw_peer_t *p = o->p;
  bitswap_t *b = p->b;
  int i = o->i;
  const char *proto;

  free(o);
  if (err < 0 || b->closing) {
    if (s != NULL)
      p2p_stream_reset(s);
    p->out_state[i] = BSW_OUT_NONE;
    if (err == CIPFS_ENOPROTO)
      p->no_bitswap = true;
    /* Nobody to tell: what we meant to say is lost, and the wants it
     * carried time out and go elsewhere. */
    if (!b->closing && i == 0)
      drop_pending(p);
    bsw_job_done(b); /* last: b may be freed once this reaches zero */
    return;
  }
  proto = p2p_stream_protocol(s);
  p->version = strcmp(proto, BITSWAP_PROTO_120) == 0   ? BITSWAP_V120
               : strcmp(proto, BITSWAP_PROTO_110) == 0 ? BITSWAP_V110
                                                       : BITSWAP_V100;
  p->out[i] = s;
  p->out_state[i] = BSW_OUT_OPEN;
  p->out_used_ms = bsw_now(b);
  p2p_stream_set_cbs(s, &out_cbs, p);
  bsw_flush(p);
  bsw_job_done(b);
}

static void open_out(bsw_peer_t *p, int i)
{
  bitswap_t *b = p->b;
  opening_t *o = malloc(sizeof(*o));

  if (o == NULL) {
    if (i == 0)
      drop_pending(p);
    return;
  }
  o->p = p;
  o->i = i;
  p->out_state[i] = BSW_OUT_OPENING;
  b->inflight++;
  if (p2p_new_stream(b->h, &p->id, protos, 3, out_opened, o) < 0) {
    free(o);
    b->inflight--;
    p->out_state[i] = BSW_OUT_NONE;
    if (i == 0)
      drop_pending(p);
  }
}

/* Write messages on stream i while it has room; false when it broke. */
static bool fill(bsw_peer_t *p, int i, buf_t *msg)
{
  while (p->out[i] != NULL && (i == 0 ? has_pending(p) : p->oblocks != NULL) &&
         p2p_stream_write_queue(p->out[i]) < P2P_STREAM_HWM) {
    int rc = build_msg(p, msg, i == 0);
    if (rc == 0 && msg->len > 0)
      rc = p2p_stream_write(p->out[i], msg->data, msg->len);
    buf_reset(msg);
    p->out_used_ms = bsw_now(p->b);
    if (rc < 0) {
      p2p_stream_reset(p->out[i]);
      return false;
    }
  }
  return true;
}

static void flush_fn(p2p_host_t *h, void *arg)
{
  bitswap_t *b = arg;
  (void)h;
  b->flush_posted = false;
  for (bsw_peer_t *p = b->peers; p != NULL && !b->closing; p = p->next) {
    if (p->flush_soon) {
      p->flush_soon = false;
      bsw_flush(p);
    }
  }
  bsw_job_done(b);
}

void bsw_flush_soon(bsw_peer_t *p)
{
  bitswap_t *b = p->b;

  if (b->closing)
    return;
  p->flush_soon = true;
  if (b->flush_posted)
    return;
  if (p2p_host_call(b->h, flush_fn, b) < 0) {
    p->flush_soon = false;
    bsw_flush(p);
    return;
  }
  b->flush_posted = true;
  b->inflight++;
}

void bsw_flush(bsw_peer_t *p)
{
  bitswap_t *b = p->b;
  buf_t msg;

  if (b->closing)
    return;
  if (!has_pending(p)) {
    /* A drain with nothing queued here: room to load more blocks. */
    bsw_server_pump(p);
    return;
  }
  if (p->out_state[0] == BSW_OUT_NONE) {
    open_out(p, 0);
    return;
  }
  if (p->out_state[0] != BSW_OUT_OPEN)
    return;
  /* Many blocks waiting: more streams (only once the first one told us
   * the peer speaks bitswap). */
  for (int i = 1; i < BSW_NOUT && p->oblock_bytes > BSW_MORE_STREAMS; i++)
    if (p->out_state[i] == BSW_OUT_NONE)
      open_out(p, i);
  buf_init(&msg);
  for (int i = 0; i < BSW_NOUT; i++)
    if (!fill(p, i, &msg))
      break;
  buf_cleanup(&msg);
  bsw_server_pump(p);
}

size_t bsw_out_queued(const bsw_peer_t *p)
{
  size_t n = 0;
  for (int i = 0; i < BSW_NOUT; i++)
    if (p->out[i] != NULL)
      n += p2p_stream_write_queue(p->out[i]);
  return n;
}

/* ---- inbound streams ---- */

static void in_free(bsw_in_t *in)
{
  bitswap_t *b = in->b;
  in->peer->nins--;
  in->peer->in_bytes -= in->rx.len;
  if (in->prev != NULL)
    in->prev->next = in->next;
  else
    b->ins = in->next;
  if (in->next != NULL)
    in->next->prev = in->prev;
  buf_cleanup(&in->rx);
  free(in);
}

/* Blocks of one message, hashed on a worker thread: hashing every byte
 * received on the loop thread would make it the bottleneck of a fetch
 * however many peers send. */
typedef struct hash_job_s {
  uv_work_t req;
  bitswap_t *b;
  peerid_t peer;
  size_t n;
  struct {
    bitswap_block_t blk; /* blk.data points at data */
    uint8_t *data;
    cid_t cid;
    int rc;
  } items[];
} hash_job_t;

static void hash_work(uv_work_t *req)
{
  hash_job_t *j = req->data;
  for (size_t i = 0; i < j->n; i++)
    j->items[i].rc = bitswap_block_cid(&j->items[i].blk, &j->items[i].cid);
}

static void hash_after(uv_work_t *req, int status)
{
  hash_job_t *j = req->data;
  bitswap_t *b = j->b;
  /* The peer may have gone meanwhile: its blocks are dropped then, and
   * the wants they were for are asked again elsewhere. */
  bsw_peer_t *p = b->closing ? NULL : bsw_peer(b, &j->peer, false);
  (void)status;

  for (size_t i = 0; i < j->n; i++) {
    int rc = j->items[i].rc;
    if (p != NULL && !b->closing) {
      if (rc < 0)
        bsw_peer_bad(p, rc == CIPFS_EUNSUPPORTED ? 0 : 1, "bad block prefix");
      else
        bsw_client_block(p, &j->items[i].cid, j->items[i].data,
                         j->items[i].blk.len);
    }
    free(j->items[i].data);
  }
  free(j);
  bsw_job_done(b);
}

/* Copy the message's blocks and hash them on a worker. */
static int queue_blocks(bsw_peer_t *p, const bitswap_msg_t *m)
{
  bitswap_t *b = p->b;
  hash_job_t *j = calloc(1, sizeof(*j) + m->nblocks * sizeof(j->items[0]));
  size_t i;

  if (j == NULL)
    return -ENOMEM;
  for (i = 0; i < m->nblocks; i++) {
    j->items[i].blk = m->blocks[i];
    j->items[i].data = malloc(m->blocks[i].len ? m->blocks[i].len : 1);
    if (j->items[i].data == NULL)
      goto fail_items;
    memcpy(j->items[i].data, m->blocks[i].data, m->blocks[i].len);
    j->items[i].blk.data = j->items[i].data;
  }
  j->n = m->nblocks;
  j->b = b;
  j->peer = p->id;
  j->req.data = j;
  if (uv_queue_work(p2p_host_loop(b->h), &j->req, hash_work, hash_after) < 0)
    goto fail_items;
  b->inflight++;
  return 0;

fail_items:
  while (i-- > 0)
    free(j->items[i].data);
  free(j);
  return -ENOMEM;
}

static void handle_msg(bsw_peer_t *p, const bitswap_msg_t *m)
{
  bitswap_t *b = p->b;

  if (m->nblocks > 0) {
    p->led.exchanged++;
    queue_blocks(p, m); /* no memory: the wants are asked again later */
  }
  for (size_t i = 0; i < m->npresences && !b->closing; i++)
    bsw_client_presence(p, &m->presences[i]);
  if (!b->closing && (m->nentries > 0 || m->full))
    bsw_server_entries(p, m);
}

/* Whole messages out of the buffer; false when the stream was dropped. */
static bool in_parse(bsw_in_t *in)
{
  size_t off = 0;
  bool ok = true;

  while (ok && off < in->rx.len) {
    uint64_t len;
    ssize_t k = varint_decode(in->rx.data + off, in->rx.len - off, &len);
    bitswap_msg_t m;
    int rc;
    if (k < 0 && in->rx.len - off < 10)
      break; /* the length is not all here yet */
    if (k < 0 || len > BITSWAP_MAX_MSG) {
      bsw_peer_bad(in->peer, BSW_BAD_LIMIT, "oversized or malformed frame");
      ok = false;
      break;
    }
    if (in->rx.len - off - (size_t)k < len)
      break;
    rc = bitswap_msg_decode(&m, in->rx.data + off + k, (size_t)len);
    if (rc < 0) {
      bsw_peer_bad(in->peer, BSW_BAD_LIMIT, "malformed message");
      ok = false;
      break;
    }
    handle_msg(in->peer, &m);
    bitswap_msg_cleanup(&m);
    off += (size_t)k + (size_t)len;
  }
  if (ok && off > 0) {
    memmove(in->rx.data, in->rx.data + off, in->rx.len - off);
    in->rx.len -= off;
    in->peer->in_bytes -= off;
  }
  return ok;
}

static void in_read(p2p_stream_t *s, const uint8_t *data, size_t len, void *arg)
{
  bsw_in_t *in = arg;
  bsw_peer_t *p = in->peer;
  if (in->b->closing || buf_append(&in->rx, data, len) < 0) {
    p2p_stream_reset(s);
    return;
  }
  p->in_bytes += len;
  if (p->in_bytes > BSW_PEER_RX_MAX) {
    bsw_peer_bad(p, 1, "too much unfinished data");
    p2p_stream_reset(s);
    return;
  }
  if (!in_parse(in))
    p2p_stream_reset(s);
}

static void in_eof(p2p_stream_t *s, void *arg)
{
  (void)arg;
  p2p_stream_close(s);
}

static void in_drain(p2p_stream_t *s, void *arg)
{
  (void)s, (void)arg;
}

static void in_closed(p2p_stream_t *s, int err, void *arg)
{
  (void)s, (void)err;
  in_free(arg);
}

static const p2p_stream_cbs_t in_cbs = {in_read, in_eof, in_drain, in_closed};

static void on_stream(p2p_stream_t *s, void *arg)
{
  bitswap_t *b = arg;
  bsw_in_t *in;
  bsw_peer_t *p = NULL;

  if (b->closing || (p = bsw_peer(b, p2p_stream_peer(s), true)) == NULL ||
      p->nins >= BSW_PEER_INBOUND_MAX ||
      (in = calloc(1, sizeof(*in))) == NULL) {
    if (p != NULL && p->nins >= BSW_PEER_INBOUND_MAX)
      bsw_peer_bad(p, 1, "too many streams");
    p2p_stream_reset(s);
    return;
  }
  p->nins++;
  if (!p->connected) {
    p->connected = true;
    bsw_client_peer_new(b, p);
  }
  p->no_bitswap = false;
  in->b = b;
  in->peer = p;
  in->s = s;
  buf_init(&in->rx);
  in->next = b->ins;
  if (b->ins != NULL)
    b->ins->prev = in;
  b->ins = in;
  p2p_stream_set_cbs(s, &in_cbs, in);
}

/* ---- timer ---- */

static void on_tick(uv_timer_t *t)
{
  bitswap_t *b = t->data;
  uint64_t now = bsw_now(b);

  bsw_refresh_peers(b, true);
  bsw_client_tick(b);
  for (bsw_peer_t *p = b->peers; p != NULL; p = p->next) {
    if (has_pending(p) || now - p->out_used_ms <= BSW_IDLE_MS)
      continue;
    for (int i = 0; i < BSW_NOUT; i++) {
      p2p_stream_t *s = p->out[i];
      if (p->out_state[i] != BSW_OUT_OPEN)
        continue;
      p->out[i] = NULL;
      p->out_state[i] = BSW_OUT_NONE;
      p2p_stream_close(s);
    }
  }
}

/* ---- lifecycle ---- */

typedef struct sync_s {
  uv_mutex_t mu;
  uv_cond_t cond;
  bool done;
  int rc;
  bitswap_t *b;
  void *arg;
  void *arg2;
} sync_t;

static void sync_finish(sync_t *s, int rc)
{
  uv_mutex_lock(&s->mu);
  s->rc = rc;
  s->done = true;
  uv_cond_signal(&s->cond);
  uv_mutex_unlock(&s->mu);
}

static int sync_run(bitswap_t *b, sync_t *s, void (*fn)(p2p_host_t *, void *))
{
  int rc;
  s->b = b;
  uv_mutex_init(&s->mu);
  uv_cond_init(&s->cond);
  rc = p2p_host_call(b->h, fn, s);
  if (rc == 0) {
    uv_mutex_lock(&s->mu);
    while (!s->done)
      uv_cond_wait(&s->cond, &s->mu);
    uv_mutex_unlock(&s->mu);
    rc = s->rc;
  }
  uv_cond_destroy(&s->cond);
  uv_mutex_destroy(&s->mu);
  return rc;
}

static void start_fn(p2p_host_t *h, void *arg)
{
  bitswap_t *b = arg;
  int rc = 0;

  for (int i = 0; i < 3 && rc == 0; i++)
    rc = p2p_handle(h, protos[i], on_stream, b);
  uv_timer_init(p2p_host_loop(h), &b->timer);
  b->timer.data = b;
  uv_timer_start(&b->timer, on_tick, BSW_TICK_MS, BSW_TICK_MS);
  p2p_identify_push(h);
  bsw_refresh_peers(b, true);
}

int bitswap_new(bitswap_t **out, p2p_host_t *h, bs_t *bs,
                const bitswap_config_t *cfg)
{
  bitswap_t *b = calloc(1, sizeof(*b));
  int rc;

  if (b == NULL)
    return -ENOMEM;
  b->h = h;
  b->bs = bs;
  if (cfg != NULL)
    b->cfg = *cfg;
  else
    bitswap_config_init(&b->cfg);
  uv_mutex_init(&b->mu);
  uv_cond_init(&b->cond);
  /* On the loop: at once on a running host, first thing when a host
   * that is not started yet starts (so identify lists bitswap from the
   * first connection on). */
  rc = p2p_host_call(h, start_fn, b);
  if (rc < 0) {
    uv_cond_destroy(&b->cond);
    uv_mutex_destroy(&b->mu);
    free(b);
    return rc;
  }
  *out = b;
  return 0;
}

static void check_shut(bitswap_t *b)
{
  if (!b->closing || !b->timer_closed || b->inflight > 0)
    return;
  uv_mutex_lock(&b->mu);
  b->shut_done = true;
  uv_cond_signal(&b->cond);
  uv_mutex_unlock(&b->mu);
}

void bsw_job_done(bitswap_t *b)
{
  b->inflight--;
  check_shut(b);
}

static void timer_closed(uv_handle_t *t)
{
  bitswap_t *b = t->data;
  b->timer_closed = true;
  check_shut(b);
}

static void stop_fn(p2p_host_t *h, void *arg)
{
  bitswap_t *b = arg;

  b->closing = true;
  for (int i = 0; i < 3; i++)
    p2p_unhandle(h, protos[i]);
  bsw_client_shutdown(b);
  while (b->ins != NULL)
    p2p_stream_reset(b->ins->s); /* in_closed frees it */
  for (bsw_peer_t *p = b->peers; p != NULL; p = p->next) {
    for (int i = 0; i < BSW_NOUT; i++) {
      p2p_stream_t *s = p->out[i];
      if (s == NULL)
        continue;
      p->out[i] = NULL;
      p2p_stream_reset(s);
    }
    drop_pending(p);
  }
  uv_close((uv_handle_t *)&b->timer, timer_closed);
}

void bitswap_stop(bitswap_t *b)
{
  if (b == NULL || b->stopped)
    return;
  b->stopped = true;
  /* A host that never started ran nothing of ours (start_fn is still
   * queued and is dropped with the host). Otherwise stop_fn runs after
   * start_fn: the call queue is FIFO. */
  if (!b->h->started)
    return;
  if (p2p_host_call(b->h, stop_fn, b) == 0) {
    uv_mutex_lock(&b->mu);
    while (!b->shut_done)
      uv_cond_wait(&b->cond, &b->mu);
    uv_mutex_unlock(&b->mu);
  }
}

void bitswap_free(bitswap_t *b)
{
  if (b == NULL)
    return;
  bitswap_stop(b);
  while (b->peers != NULL) {
    bsw_peer_t *p = b->peers;
    b->peers = p->next;
    peer_free(p);
  }
  uv_cond_destroy(&b->cond);
  uv_mutex_destroy(&b->mu);
  free(b);
}

/* ---- calls from other threads ---- */

typedef struct call_s {
  bitswap_t *b;
  cid_t cid;
  bitswap_block_cb cb;
  void *arg;
  routing_t routing;
  bool has_routing;
} call_t;

static void routing_fn(p2p_host_t *h, void *arg)
{
  call_t *c = arg;
  (void)h;
  c->b->routing = c->routing;
  c->b->has_routing = c->has_routing;
  free(c);
}

void bitswap_set_routing(bitswap_t *b, const routing_t *r)
{
  call_t *c = calloc(1, sizeof(*c));
  if (c == NULL)
    return;
  c->b = b;
  if (r != NULL) {
    c->routing = *r;
    c->has_routing = true;
  }
  if (p2p_host_call(b->h, routing_fn, c) < 0)
    free(c);
}

static void want_fn(p2p_host_t *h, void *arg)
{
  call_t *c = arg;
  (void)h;
  if (c->b->closing)
    c->cb(c->arg, CIPFS_ECLOSED, NULL, 0);
  else
    bsw_client_want(c->b, &c->cid, c->cb, c->arg);
  free(c);
}

int bitswap_want(bitswap_t *b, const cid_t *cid, bitswap_block_cb cb, void *arg)
{
  call_t *c = malloc(sizeof(*c));
  int rc;
  if (c == NULL)
    return -ENOMEM;
  c->b = b;
  c->cid = *cid;
  c->cb = cb;
  c->arg = arg;
  rc = p2p_host_call(b->h, want_fn, c);
  if (rc < 0)
    free(c);
  return rc;
}

static void cancel_fn(p2p_host_t *h, void *arg)
{
  call_t *c = arg;
  (void)h;
  if (!c->b->closing)
    bsw_client_cancel(c->b, &c->cid, c->arg);
  free(c);
}

void bitswap_cancel(bitswap_t *b, const cid_t *cid, void *arg)
{
  call_t *c = malloc(sizeof(*c));
  if (c == NULL)
    return;
  c->b = b;
  c->cid = *cid;
  c->arg = arg;
  if (p2p_host_call(b->h, cancel_fn, c) < 0)
    free(c);
}

/* ---- statistics ---- */

static void stat_fn(p2p_host_t *h, void *arg)
{
  sync_t *s = arg;
  bitswap_t *b = s->b;
  bitswap_stat_t *st = s->arg;
  size_t n = 0;
  (void)h;

  *st = b->st;
  st->wantlist_len = b->nwants;
  st->partners = NULL;
  st->npartners = 0;
  for (bsw_peer_t *p = b->peers; p != NULL; p = p->next)
    n += p->led.blocks_sent + p->led.blocks_recv > 0;
  if (n > 0 && (st->partners = calloc(n, sizeof(peerid_t))) == NULL) {
    sync_finish(s, -ENOMEM);
    return;
  }
  for (bsw_peer_t *p = b->peers; p != NULL; p = p->next)
    if (p->led.blocks_sent + p->led.blocks_recv > 0)
      st->partners[st->npartners++] = p->id;
  sync_finish(s, 0);
}

int bitswap_stat(bitswap_t *b, bitswap_stat_t *st)
{
  sync_t s = {0};
  s.arg = st;
  memset(st, 0, sizeof(*st));
  return sync_run(b, &s, stat_fn);
}

void bitswap_stat_cleanup(bitswap_stat_t *st)
{
  free(st->partners);
  st->partners = NULL;
  st->npartners = 0;
}

static void ledger_fn(p2p_host_t *h, void *arg)
{
  sync_t *s = arg;
  bsw_peer_t *p = bsw_peer(s->b, s->arg2, false);
  (void)h;
  if (p != NULL)
    *(bitswap_ledger_t *)s->arg = p->led;
  sync_finish(s, p != NULL ? 0 : CIPFS_ENOTFOUND);
}

int bitswap_ledger(bitswap_t *b, const peerid_t *peer, bitswap_ledger_t *l)
{
  sync_t s = {0};
  s.arg = l;
  s.arg2 = (void *)peer;
  return sync_run(b, &s, ledger_fn);
}

typedef struct wl_out_s {
  cid_t *v;
  size_t n;
} wl_out_t;

static void wantlist_fn(p2p_host_t *h, void *arg)
{
  sync_t *s = arg;
  bitswap_t *b = s->b;
  wl_out_t *o = s->arg;
  size_t n = 0;
  bsw_peer_t *p = NULL;
  (void)h;

  if (s->arg2 != NULL && (p = bsw_peer(b, s->arg2, false)) == NULL) {
    sync_finish(s, 0);
    return;
  }
  n = p ? p->nwl : b->nwants;
  if (n > 0 && (o->v = calloc(n, sizeof(cid_t))) == NULL) {
    sync_finish(s, -ENOMEM);
    return;
  }
  if (p != NULL) {
    for (size_t i = 0; i < p->nwl; i++)
      o->v[o->n++] = p->wl[i].cid;
  } else {
    for (bsw_want_t *w = b->wants_head; w != NULL; w = w->next)
      o->v[o->n++] = w->cid;
  }
  sync_finish(s, 0);
}

int bitswap_wantlist(bitswap_t *b, const peerid_t *peer, cid_t **out, size_t *n)
{
  sync_t s = {0};
  wl_out_t o = {NULL, 0};
  int rc;
  s.arg = &o;
  s.arg2 = (void *)peer;
  rc = sync_run(b, &s, wantlist_fn);
  *out = o.v;
  *n = o.n;
  return rc;
}
