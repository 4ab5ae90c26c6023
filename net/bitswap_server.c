/* Bitswap server: keep each peer's wantlist, look its blocks up in the
 * blockstore on worker threads, answer with blocks and presences as kubo
 * does (want-have: HAVE, or the block itself when tiny; DONT_HAVE only
 * when asked for). */
#include "bitswap_int.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

typedef struct item_s {
  cid_t cid;
  uint8_t want_type;
  int status; /* 0 found, CIPFS_ENOTFOUND, ... */
  uint8_t *data;
  size_t len;
} item_t;

typedef struct job_s {
  uv_work_t req;
  bsw_peer_t *peer;
  size_t n;
  item_t items[BSW_LOOKUP_BATCH];
} job_t;

static bool same_mh(const cid_t *a, const cid_t *b)
{
  size_t na, nb;
  const uint8_t *ma = cid_mh(a, &na), *mb = cid_mh(b, &nb);
  return na == nb && memcmp(ma, mb, na) == 0;
}

static ssize_t wl_find(const bsw_peer_t *p, const cid_t *cid)
{
  for (size_t i = 0; i < p->nwl; i++)
    if (same_mh(&p->wl[i].cid, cid))
      return (ssize_t)i;
  return -1;
}

/* Keeps the order: blocks go out in the order they were asked for, which
 * is the order a sequential reader needs them in. */
static void wl_remove(bsw_peer_t *p, size_t i)
{
  p->nwl--;
  if (i < p->nwl)
    memmove(&p->wl[i], &p->wl[i + 1], (p->nwl - i) * sizeof(*p->wl));
}

static void wl_add(bsw_peer_t *p, const bitswap_entry_t *e)
{
  bsw_pwant_t *w;
  ssize_t i = wl_find(p, &e->cid);

  if (i >= 0) {
    w = &p->wl[i];
    /* A want-block upgrades a want-have; a repeat asks again. */
    if (e->want_type == BITSWAP_WANT_BLOCK)
      w->want_type = BITSWAP_WANT_BLOCK;
    w->send_dont_have = e->send_dont_have;
    w->answered = false;
    w->priority = e->priority;
    return;
  }
  if (p->nwl >= BSW_PEER_WANTLIST_MAX)
    return; /* endless wantlists end here */
  if (p->wl == NULL &&
      (p->wl = calloc(BSW_PEER_WANTLIST_MAX, sizeof(*p->wl))) == NULL)
    return;
  w = &p->wl[p->nwl++];
  memset(w, 0, sizeof(*w));
  w->cid = e->cid;
  w->want_type = e->want_type;
  w->send_dont_have = e->send_dont_have;
  w->priority = e->priority;
}

void bsw_server_entries(bsw_peer_t *p, const bitswap_msg_t *m)
{
  if (m->full)
    bsw_server_clear(p);
  for (size_t i = 0; i < m->nentries; i++) {
    const bitswap_entry_t *e = &m->entries[i];
    if (e->cancel) {
      ssize_t k = wl_find(p, &e->cid);
      if (k >= 0)
        wl_remove(p, (size_t)k);
    } else {
      wl_add(p, e);
    }
  }
  bsw_server_pump(p);
}

void bsw_server_clear(bsw_peer_t *p)
{
  p->nwl = 0;
  p->has_answered = false;
}

static void lookup_work(uv_work_t *req)
{
  job_t *j = req->data;
  bs_t *bs = j->peer->b->bs;

  for (size_t i = 0; i < j->n; i++) {
    item_t *it = &j->items[i];
    size_t size = 0;
    if (bs == NULL) {
      it->status = CIPFS_ENOTFOUND;
      continue;
    }
    if (it->want_type == BITSWAP_WANT_HAVE) {
      it->status = bs_size(bs, &it->cid, &size);
      if (it->status < 0 || size > BSW_HAVE_INLINE_MAX)
        continue;
    }
    /* Unhashed: the peer hashes every block it receives to learn its
     * CID, so a copy gone bad on our disk cannot pass there either. */
    it->status = bs_get_unchecked(bs, &it->cid, &it->data, &it->len);
  }
}

/* One looked-up item back on the loop: answer it if still wanted. */
static void answer(bsw_peer_t *p, item_t *it)
{
  ssize_t k = wl_find(p, &it->cid);
  bsw_pwant_t *w;
  bsw_oblock_t *ob;

  if (k < 0)
    return; /* cancelled meanwhile */
  w = &p->wl[k];
  w->queued = false;
  if (it->status == 0 && it->data != NULL &&
      (ob = malloc(sizeof(*ob))) != NULL) {
    ob->cid = w->cid; /* the peer rebuilds its CID from our prefix */
    ob->data = it->data;
    ob->len = it->len;
    it->data = NULL;
    bsw_queue_block(p, ob);
    wl_remove(p, (size_t)k);
  } else if (it->status == 0) {
    bsw_queue_presence(p, &w->cid, BITSWAP_HAVE);
    wl_remove(p, (size_t)k);
  } else {
    if (w->send_dont_have)
      bsw_queue_presence(p, &w->cid, BITSWAP_DONT_HAVE);
    w->answered = true;
    p->has_answered = true;
  }
}

static void lookup_after(uv_work_t *req, int status)
{
  job_t *j = req->data;
  bsw_peer_t *p = j->peer;
  bitswap_t *b = p->b;
  (void)status;

  p->lookup_busy = false;
  for (size_t i = 0; i < j->n; i++) {
    if (!b->closing)
      answer(p, &j->items[i]);
    free(j->items[i].data);
  }
  free(j);
  if (!b->closing)
    bsw_flush(p);
  bsw_job_done(b);
}

static size_t backlog(const bsw_peer_t *p)
{
  return p->oblock_bytes + bsw_out_queued(p);
}

void bsw_server_pump(bsw_peer_t *p)
{
  bitswap_t *b = p->b;
  job_t *j;

  if (b->closing || p->lookup_busy || backlog(p) > BSW_SERVER_HWM)
    return;
  j = NULL;
  /* Highest priority first, in the order asked among equals. */
  while (j == NULL || j->n < BSW_LOOKUP_BATCH) {
    bsw_pwant_t *w = NULL;
    for (size_t i = 0; i < p->nwl; i++) {
      bsw_pwant_t *c = &p->wl[i];
      if (!c->queued && !c->answered &&
          (w == NULL || c->priority > w->priority))
        w = c;
    }
    if (w == NULL)
      break;
    if (j == NULL && (j = calloc(1, sizeof(*j))) == NULL)
      return;
    w->queued = true;
    j->items[j->n].cid = w->cid;
    j->items[j->n].want_type = w->want_type;
    j->n++;
  }
  if (j == NULL)
    return;
  j->peer = p;
  j->req.data = j;
  if (uv_queue_work(p2p_host_loop(b->h), &j->req, lookup_work, lookup_after) <
      0) {
    for (size_t i = 0; i < j->n; i++) {
      ssize_t k = wl_find(p, &j->items[i].cid);
      if (k >= 0)
        p->wl[k].queued = false;
    }
    free(j);
    return;
  }
  p->lookup_busy = true;
  b->inflight++;
}

void bsw_server_arrived(bitswap_t *b, const cid_t *cid, const uint8_t *data,
                        size_t len)
{
  for (bsw_peer_t *p = b->peers; p != NULL; p = p->next) {
    ssize_t k;
    bsw_oblock_t *ob;
    if (!p->has_answered || !p->connected)
      continue;
    k = wl_find(p, cid);
    if (k < 0 || !p->wl[k].answered)
      continue;
    if (p->wl[k].want_type == BITSWAP_WANT_HAVE && len > BSW_HAVE_INLINE_MAX) {
      bsw_queue_presence(p, &p->wl[k].cid, BITSWAP_HAVE);
    } else {
      if ((ob = malloc(sizeof(*ob))) == NULL ||
          (ob->data = malloc(len ? len : 1)) == NULL) {
        free(ob);
        continue; /* they ask again on their own timeout */
      }
      memcpy(ob->data, data, len);
      ob->cid = p->wl[k].cid; /* their CID version, for the prefix */
      ob->len = len;
      bsw_queue_block(p, ob);
    }
    wl_remove(p, (size_t)k);
    bsw_flush(p);
  }
}
