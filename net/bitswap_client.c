/* Bitswap client: our wants. One want per multihash however many readers
 * wait for it. A want goes first as want-block to one peer of the session
 * (peers that answered lately, the least loaded first, so reads spread
 * over them) and as want-have to the others; without a session it is
 * broadcast. DONT_HAVE or silence moves it to the next peer; a want still
 * open after rebroadcast_ms is asked of everyone again, and routing (the
 * DHT) is asked for providers when no connected peer has it. Blocks are
 * matched to wants by the hash of their bytes, so a block that does not
 * match its CID matches no want and is dropped, counted against the peer
 * that sent it. */
#include "bitswap_int.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

static bool same_mh(const cid_t *a, const cid_t *b)
{
  size_t na, nb;
  const uint8_t *ma = cid_mh(a, &na), *mb = cid_mh(b, &nb);
  return na == nb && memcmp(ma, mb, na) == 0;
}

static size_t bucket(const cid_t *cid)
{
  return (size_t)(bsw_fingerprint(cid) % BSW_WANT_BUCKETS);
}

static bsw_want_t *want_find(bitswap_t *b, const cid_t *cid)
{
  bsw_want_t *w = b->buckets[bucket(cid)];
  while (w != NULL && !same_mh(&w->cid, cid))
    w = w->hnext;
  return w;
}

static bsw_want_t *want_new(bitswap_t *b, const cid_t *cid)
{
  bsw_want_t *w = calloc(1, sizeof(*w));
  size_t h = bucket(cid);
  if (w == NULL)
    return NULL;
  w->cid = *cid;
  w->created_ms = bsw_now(b);
  /* Decreasing, as kubo's sessions send them; wraps after 2^30 wants,
   * which only reorders the few in flight then. */
  w->priority = INT32_MAX - (int32_t)(b->want_seq++ & 0x3fffffff);
  w->hnext = b->buckets[h];
  b->buckets[h] = w;
  w->prev = b->wants_tail;
  if (b->wants_tail != NULL)
    b->wants_tail->next = w;
  else
    b->wants_head = w;
  b->wants_tail = w;
  b->nwants++;
  return w;
}

/* Unlink and free; the waiters must have been told already. */
static void want_free(bitswap_t *b, bsw_want_t *w)
{
  bsw_want_t **pp = &b->buckets[bucket(&w->cid)];
  while (*pp != w)
    pp = &(*pp)->hnext;
  *pp = w->hnext;
  if (w->prev != NULL)
    w->prev->next = w->next;
  else
    b->wants_head = w->next;
  if (w->next != NULL)
    w->next->prev = w->prev;
  else
    b->wants_tail = w->prev;
  b->nwants--;
  while (w->asks != NULL) {
    bsw_ask_t *a = w->asks;
    w->asks = a->next;
    free(a);
  }
  while (w->waiters != NULL) {
    bsw_waiter_t *x = w->waiters;
    w->waiters = x->next;
    free(x);
  }
  free(w);
}

static bsw_ask_t *ask_find(bsw_want_t *w, const bsw_peer_t *p)
{
  bsw_ask_t *a = w->asks;
  while (a != NULL && a->peer != p)
    a = a->next;
  return a;
}

static bool pending_block(const bsw_ask_t *a)
{
  return a->type == BITSWAP_WANT_BLOCK && a->answer == BSW_ANS_NONE;
}

static bool active_block_ask(bsw_want_t *w)
{
  for (bsw_ask_t *a = w->asks; a != NULL; a = a->next)
    if (pending_block(a) && bsw_peer_usable(a->peer->b, a->peer))
      return true;
  return false;
}

static void send_entry(bsw_peer_t *p, const bsw_want_t *w, int type,
                       bool cancel)
{
  bitswap_entry_t e;
  memset(&e, 0, sizeof(e));
  e.cid = w->cid;
  e.priority = cancel ? 0 : w->priority;
  e.want_type = (uint8_t)type;
  e.cancel = cancel;
  e.send_dont_have = !cancel;
  if (bsw_queue_entry(p, &e) == 0)
    bsw_flush_soon(p);
}

static void ask(bitswap_t *b, bsw_want_t *w, bsw_peer_t *p, int type)
{
  bsw_ask_t *a = ask_find(w, p);

  if (a != NULL && a->answer == BSW_ANS_NONE &&
      (a->type == BITSWAP_WANT_BLOCK || type == BITSWAP_WANT_HAVE))
    return; /* already asked as much */
  if (a == NULL) {
    if ((a = calloc(1, sizeof(*a))) == NULL)
      return;
    a->peer = p;
    a->next = w->asks;
    w->asks = a;
  } else if (pending_block(a)) {
    p->outstanding--;
  }
  a->type = (uint8_t)type;
  a->answer = BSW_ANS_NONE;
  a->sent_ms = bsw_now(b);
  if (type == BITSWAP_WANT_BLOCK)
    p->outstanding++;
  send_entry(p, w, type, false);
}

/* Has p already told us no (this round)? */
static bool refused(bsw_want_t *w, const bsw_peer_t *p)
{
  bsw_ask_t *a = ask_find(w, p);
  return a != NULL &&
         (a->answer == BSW_ANS_DONT_HAVE || a->answer == BSW_ANS_TIMEOUT);
}

static bool in_session(bitswap_t *b, const bsw_peer_t *p)
{
  return p->session_ms != 0 && bsw_now(b) - p->session_ms <= BSW_SESSION_MS;
}

/* The least loaded usable peer that has not refused w; session peers only
 * when session is set. */
static bsw_peer_t *pick(bitswap_t *b, bsw_want_t *w, bool session)
{
  bsw_peer_t *best = NULL;

  for (bsw_peer_t *p = b->peers; p != NULL; p = p->next) {
    bsw_ask_t *a;
    if (!bsw_peer_usable(b, p) || refused(w, p))
      continue;
    if (session && !in_session(b, p))
      continue;
    a = ask_find(w, p);
    if (a != NULL && pending_block(a))
      continue;
    if (best == NULL || p->outstanding < best->outstanding ||
        (p->outstanding == best->outstanding &&
         p->session_ms > best->session_ms))
      best = p;
  }
  return best;
}

/* ---- routing ---- */

typedef struct find_s {
  bitswap_t *b;
  cid_t cid;
} find_t;

static void dialled(p2p_host_t *h, int err, const peerid_t *peer, void *arg)
{
  bitswap_t *b = arg;
  (void)h, (void)peer;
  if (err == 0 && !b->closing)
    bsw_refresh_peers(b, true); /* the new peer gets our wants */
  bsw_job_done(b);
}

static void found(void *arg, const peerid_t *peer, const char *const *addrs,
                  size_t naddrs)
{
  find_t *f = arg;
  bitswap_t *b = f->b;
  bsw_peer_t *p;

  if (b->closing || peerid_equal(peer, p2p_host_id(b->h)))
    return;
  for (size_t i = 0; i < naddrs; i++) {
    /* The peer table wants addresses without their /p2p/ part. */
    const char *cut = strstr(addrs[i], "/p2p/");
    char *a = cut ? strndup(addrs[i], (size_t)(cut - addrs[i])) : NULL;
    if (cut == NULL || a != NULL)
      p2p_peer_add_addr(b->h, peer, a ? a : addrs[i]);
    free(a);
  }
  p = bsw_peer(b, peer, true);
  if (p == NULL || p->connected || bsw_now(b) < p->shun_until_ms)
    return;
  b->inflight++;
  if (p2p_connect_peer(b->h, peer, dialled, b) < 0)
    b->inflight--;
}

static void find_done(void *arg, int status)
{
  find_t *f = arg;
  bitswap_t *b = f->b;
  bsw_want_t *w;
  (void)status;
  if (!b->closing && (w = want_find(b, &f->cid)) != NULL)
    w->finding = false;
  free(f);
  bsw_job_done(b);
}

static void find_providers(bitswap_t *b, bsw_want_t *w)
{
  find_t *f;
  if (!b->has_routing || w->finding || (f = malloc(sizeof(*f))) == NULL)
    return;
  f->b = b;
  f->cid = w->cid;
  w->finding = true;
  b->inflight++;
  if (b->routing.find_providers(b->routing.self, &w->cid, b->cfg.max_providers,
                                found, find_done, f) < 0) {
    w->finding = false;
    b->inflight--;
    free(f);
  }
}

/* ---- the strategy ---- */

/* First ask, and every rebroadcast: want-block to the best peer, want-have
 * to the rest (all of them when this is a rebroadcast or there is no
 * session yet). */
static void start_round(bitswap_t *b, bsw_want_t *w)
{
  bsw_peer_t *first;
  bool again = w->rounds > 0;

  w->broadcast_ms = bsw_now(b);
  w->rounds++;
  /* A new round forgets who said no: they may have it by now. */
  for (bsw_ask_t **pp = &w->asks; *pp != NULL;) {
    bsw_ask_t *a = *pp;
    if (a->answer == BSW_ANS_DONT_HAVE || a->answer == BSW_ANS_TIMEOUT) {
      *pp = a->next;
      free(a);
    } else {
      pp = &a->next;
    }
  }
  first = pick(b, w, true);
  if (first != NULL && !again) {
    ask(b, w, first, BITSWAP_WANT_BLOCK);
    /* Peers outside the session hear of it too (want-have is a few
     * bytes): those that have it join, and later wants spread. */
    for (bsw_peer_t *p = b->peers; p != NULL; p = p->next)
      if (p != first && bsw_peer_usable(b, p) && !in_session(b, p))
        ask(b, w, p, BITSWAP_WANT_HAVE);
    return;
  }
  if (first == NULL)
    first = pick(b, w, false);
  if (first == NULL) {
    find_providers(b, w);
    return;
  }
  ask(b, w, first, BITSWAP_WANT_BLOCK);
  for (bsw_peer_t *p = b->peers; p != NULL; p = p->next)
    if (p != first && bsw_peer_usable(b, p))
      ask(b, w, p, BITSWAP_WANT_HAVE);
  if (again)
    find_providers(b, w);
}

/* The peer we asked for the block said no or stayed silent: next one. */
static void next_step(bitswap_t *b, bsw_want_t *w)
{
  bsw_peer_t *p;

  if (active_block_ask(w))
    return;
  for (bsw_ask_t *a = w->asks; a != NULL; a = a->next) {
    if (a->answer == BSW_ANS_HAVE && bsw_peer_usable(b, a->peer)) {
      ask(b, w, a->peer, BITSWAP_WANT_BLOCK);
      return;
    }
  }
  p = pick(b, w, true);
  if (p == NULL)
    p = pick(b, w, false);
  if (p != NULL)
    ask(b, w, p, BITSWAP_WANT_BLOCK);
  else
    find_providers(b, w);
}

void bsw_client_want(bitswap_t *b, const cid_t *cid, bitswap_block_cb cb,
                     void *arg)
{
  bsw_want_t *w = want_find(b, cid);
  bsw_waiter_t *x = malloc(sizeof(*x));
  bool fresh = false;

  if (x == NULL || (w == NULL && (w = want_new(b, cid)) == NULL)) {
    free(x);
    cb(arg, -ENOMEM, NULL, 0);
    return;
  }
  fresh = w->waiters == NULL && w->rounds == 0;
  x->cb = cb;
  x->arg = arg;
  x->next = w->waiters;
  w->waiters = x;
  if (fresh) {
    bsw_refresh_peers(b, false);
    start_round(b, w);
  }
}

/* Tell every peer still asked that we no longer want it. */
static void withdraw(bsw_want_t *w, const bsw_peer_t *except)
{
  for (bsw_ask_t *a = w->asks; a != NULL; a = a->next) {
    if (pending_block(a))
      a->peer->outstanding--;
    if (a->peer != except && a->peer->connected &&
        a->answer != BSW_ANS_DONT_HAVE)
      send_entry(a->peer, w, a->type, true);
  }
}

void bsw_client_cancel(bitswap_t *b, const cid_t *cid, void *arg)
{
  bsw_want_t *w = want_find(b, cid);
  bsw_waiter_t **pp, *x;

  if (w == NULL)
    return;
  for (pp = &w->waiters; *pp != NULL && (*pp)->arg != arg; pp = &(*pp)->next)
    ;
  if ((x = *pp) == NULL)
    return;
  *pp = x->next;
  if (w->waiters == NULL) {
    withdraw(w, NULL);
    want_free(b, w);
  }
  x->cb(x->arg, CIPFS_ECANCELED, NULL, 0);
  free(x);
}

static bool recent(bitswap_t *b, uint64_t fp)
{
  for (size_t i = 0; i < BSW_RECENT; i++)
    if (b->recent[i] == fp)
      return true;
  return false;
}

void bsw_client_block(bsw_peer_t *p, const cid_t *cid, const uint8_t *data,
                      size_t len)
{
  bitswap_t *b = p->b;
  bsw_want_t *w = want_find(b, cid);
  bsw_waiter_t *x;
  uint64_t fp = bsw_fingerprint(cid);

  if (w == NULL) {
    if (recent(b, fp)) {
      b->st.dup_blocks_received++;
      b->st.dup_data_received += len;
    } else {
      /* Not what anyone asked for: a block that does not hash to the CID
       * it was sent for ends here too. */
      b->st.bad_blocks_received++;
      bsw_peer_bad(p, 1, "unwanted block");
    }
    return;
  }
  b->st.blocks_received++;
  b->st.data_received += len;
  p->led.blocks_recv++;
  p->led.bytes_recv += len;
  p->session_ms = bsw_now(b);
  /* Good blocks earn back what silences cost: a slow honest peer is not
   * dropped, a peer that mostly lies or stays silent is. */
  if (p->led.bad > 0)
    p->led.bad--;
  b->recent[b->recent_pos++ % BSW_RECENT] = fp;
  bsw_server_arrived(b, cid, data, len);
  withdraw(w, p);
  x = w->waiters;
  w->waiters = NULL;
  want_free(b, w);
  while (x != NULL) {
    bsw_waiter_t *next = x->next;
    x->cb(x->arg, 0, data, len);
    free(x);
    x = next;
  }
}

void bsw_client_presence(bsw_peer_t *p, const bitswap_presence_t *pr)
{
  bitswap_t *b = p->b;
  bsw_want_t *w = want_find(b, &pr->cid);
  bsw_ask_t *a;

  /* A peer that has what we want (even if it came from elsewhere
   * meanwhile) is worth asking next time. */
  if (pr->type == BITSWAP_HAVE)
    p->session_ms = bsw_now(b);
  if (w == NULL || (a = ask_find(w, p)) == NULL || a->answer != BSW_ANS_NONE)
    return;
  if (pr->type == BITSWAP_HAVE) {
    p->session_ms = bsw_now(b);
    if (a->type == BITSWAP_WANT_BLOCK)
      return; /* the block should follow */
    a->answer = BSW_ANS_HAVE;
    if (!active_block_ask(w))
      ask(b, w, p, BITSWAP_WANT_BLOCK);
    return;
  }
  if (pending_block(a))
    p->outstanding--;
  a->answer = BSW_ANS_DONT_HAVE;
  next_step(b, w);
}

void bsw_client_peer_new(bitswap_t *b, bsw_peer_t *p)
{
  if (!bsw_peer_usable(b, p))
    return;
  for (bsw_want_t *w = b->wants_head; w != NULL; w = w->next)
    ask(b, w, p, active_block_ask(w) ? BITSWAP_WANT_HAVE : BITSWAP_WANT_BLOCK);
}

void bsw_client_peer_gone(bitswap_t *b, bsw_peer_t *p)
{
  p->session_ms = 0;
  for (bsw_want_t *w = b->wants_head; w != NULL; w = w->next) {
    bsw_ask_t *a = ask_find(w, p);
    if (a == NULL || a->answer != BSW_ANS_NONE)
      continue;
    if (pending_block(a))
      p->outstanding--;
    a->answer = BSW_ANS_TIMEOUT;
    next_step(b, w);
  }
}

void bsw_client_tick(bitswap_t *b)
{
  uint64_t now = bsw_now(b);

  for (bsw_want_t *w = b->wants_head; w != NULL; w = w->next) {
    bool moved = false;
    for (bsw_ask_t *a = w->asks; a != NULL; a = a->next) {
      if (!pending_block(a) || now - a->sent_ms < b->cfg.want_timeout_ms)
        continue;
      a->answer = BSW_ANS_TIMEOUT;
      a->peer->outstanding--;
      moved = true;
      bsw_peer_bad(a->peer, 1, "want-block unanswered");
    }
    if (moved)
      next_step(b, w);
    if (!active_block_ask(w) && now - w->broadcast_ms >= b->cfg.rebroadcast_ms)
      start_round(b, w);
  }
}

void bsw_client_shutdown(bitswap_t *b)
{
  while (b->wants_head != NULL) {
    bsw_want_t *w = b->wants_head;
    bsw_waiter_t *x = w->waiters;
    w->waiters = NULL;
    want_free(b, w);
    while (x != NULL) {
      bsw_waiter_t *next = x->next;
      x->cb(x->arg, CIPFS_ECLOSED, NULL, 0);
      free(x);
      x = next;
    }
  }
}
