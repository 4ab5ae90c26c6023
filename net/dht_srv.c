/* The answering side of /ipfs/kad/1.0.0 (server mode): any number of
 * varint-delimited requests per stream, each answered in order, except
 * ADD_PROVIDER, which kubo never answers. */
#include "dht_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "ipns.h"
#include "ma.h"

/* Providers listed in one answer. */
#define SRV_MAX_PROVIDERS 100

struct dht_srv_s {
  dht_t *d;
  p2p_stream_t *s;
  buf_t rx;
  dht_srv_t *next;
};

static void srv_unlink(dht_srv_t *v)
{
  if (v->d == NULL)
    return;
  for (dht_srv_t **pp = &v->d->srvs; *pp != NULL; pp = &(*pp)->next) {
    if (*pp == v) {
      *pp = v->next;
      return;
    }
  }
}

/* A table entry as a wire peer (addresses point into the entry). */
static void entry_peer(const dht_entry_t *e, dht_peer_t *p, dht_bytes_t *a)
{
  for (unsigned j = 0; j < e->naddrs; j++) {
    a[j].data = e->addr[j];
    a[j].len = e->alen[j];
  }
  p->id = e->id;
  p->addrs = a;
  p->naddrs = e->naddrs;
  p->conn = 0;
}

/* closerPeers: the k closest we know to key, not the asker, with
 * addresses (a peer without any is no use to anyone). */
static size_t closer_peers(dht_t *d, const dht_msg_t *req, const peerid_t *from,
                           dht_peer_t *out,
                           dht_bytes_t (*addrs)[DHT_ENTRY_ADDRS])
{
  uint8_t target[DHT_ID_LEN];
  dht_entry_t *e[64];
  size_t n, k = 0, want = d->cfg.k < 64 ? d->cfg.k : 64;

  dht_kid(req->key.data, req->key.len, target);
  n = dht_table_closest(&d->table, target, e, want + 1);
  for (size_t i = 0; i < n && k < want; i++) {
    if (peerid_equal(&e[i]->id, from) || e[i]->naddrs == 0)
      continue;
    entry_peer(e[i], &out[k], addrs[k]);
    k++;
  }
  return k;
}

static int answer_find_node(dht_t *d, const dht_msg_t *req,
                            const peerid_t *from, dht_msg_t *resp, buf_t *out)
{
  dht_peer_t peers[65];
  dht_bytes_t addrs[65][DHT_ENTRY_ADDRS];
  dht_bytes_t self[DHT_ENTRY_ADDRS];
  buf_t store;
  peerid_t target;
  size_t n = 0;
  int rc;

  buf_init(&store);
  bool is_peer = peerid_from_bytes(&target, req->key.data, req->key.len) == 0;
  /* Asked for ourselves: we are the answer. Asked for a peer we are
   * connected to but do not keep (a client-mode peer): it goes first too,
   * as kubo does, so clients can be found. */
  if (is_peer && (peerid_equal(&target, p2p_host_id(d->h)) ||
                  (!peerid_equal(&target, from) &&
                   dht_table_find(&d->table, &target) == NULL &&
                   p2p_is_connected(d->h, &target)))) {
    peers[0].id = target;
    peers[0].addrs = self;
    peers[0].naddrs = dht_host_addrs(d, &target, &store, self, DHT_ENTRY_ADDRS);
    peers[0].conn = DHT_CONN_CONNECTED;
    n = peers[0].naddrs > 0;
  }
  n += closer_peers(d, req, from, peers + n, addrs + n);
  resp->closer = peers;
  resp->ncloser = n;
  rc = dht_msg_frame(resp, out);
  buf_cleanup(&store);
  return rc;
}

static int answer_get_providers(dht_t *d, const dht_msg_t *req,
                                const peerid_t *from, dht_msg_t *resp,
                                buf_t *out)
{
  dht_peer_t closer[64], *prov = NULL;
  dht_bytes_t addrs[64][DHT_ENTRY_ADDRS];
  size_t nprov = 0;
  int rc;

  if (req->key.len == 0 || req->key.len > DHT_PROV_KEY_MAX)
    return CIPFS_EPROTO;
  rc = dht_prov_get(d->kv, req->key.data, req->key.len, dht_wall_ms(),
                    d->cfg.provider_ttl_ms, SRV_MAX_PROVIDERS, &prov, &nprov);
  if (rc < 0)
    nprov = 0; /* a store error still leaves closer peers to give */
  resp->providers = prov;
  resp->nproviders = nprov;
  resp->closer = closer;
  resp->ncloser = closer_peers(d, req, from, closer, addrs);
  rc = dht_msg_frame(resp, out);
  if (nprov > 0 || prov != NULL)
    dht_prov_free(prov, nprov);
  return rc;
}

/* ADD_PROVIDER: only the sender may announce itself, with an address
 * (as kubo checks); the others in the list are ignored. */
static void take_provider(dht_t *d, const dht_msg_t *req, const peerid_t *from)
{
  if (req->key.len == 0 || req->key.len > DHT_PROV_KEY_MAX)
    return;
  for (size_t i = 0; i < req->nproviders; i++) {
    const dht_peer_t *p = &req->providers[i];
    if (!peerid_equal(&p->id, from) || p->naddrs == 0)
      continue;
    if (dht_prov_add(d->kv, req->key.data, req->key.len, p, dht_wall_ms()) < 0)
      dht_log(d, "dht: storing a provider record failed");
  }
}

static int answer_get_value(dht_t *d, const dht_msg_t *req,
                            const peerid_t *from, dht_msg_t *resp, buf_t *out)
{
  dht_peer_t closer[64];
  dht_bytes_t addrs[64][DHT_ENTRY_ADDRS];
  uint8_t *val = NULL;
  size_t vlen = 0;
  int rc;

  if (dht_value_get(d->kv, req->key.data, req->key.len, &val, &vlen) == 0) {
    resp->has_record = true;
    resp->rec_key = req->key;
    resp->rec_value.data = val;
    resp->rec_value.len = vlen;
  }
  resp->closer = closer;
  resp->ncloser = closer_peers(d, req, from, closer, addrs);
  rc = dht_msg_frame(resp, out);
  free(val);
  return rc;
}

static bool is_ipns(const uint8_t *key, size_t klen)
{
  return klen > 6 && memcmp(key, "/ipns/", 6) == 0;
}

/* dht_value_check; for an /ipns/ key, *rec then describes the record. */
static int value_check(const uint8_t *key, size_t klen, const uint8_t *val,
                       size_t vlen, ipns_record_t *rec)
{
  if (vlen > DHT_VALUE_MAX || klen > DHT_KEY_MAX)
    return CIPFS_ETOOBIG;
  if (klen > 4 && memcmp(key, "/pk/", 4) == 0) {
    peerid_t a, b;
    if (peerid_from_bytes(&a, key + 4, klen - 4) < 0 ||
        peerid_from_pubkey(&b, val, vlen) < 0 || !peerid_equal(&a, &b))
      return CIPFS_EPROTO;
    return 0;
  }
  if (is_ipns(key, klen))
    return ipns_record_check(key + 6, klen - 6, val, vlen, (int64_t)time(NULL),
                             rec) < 0
               ? CIPFS_EPROTO
               : 0;
  return CIPFS_EPROTO;
}

int dht_value_check(const uint8_t *key, size_t klen, const uint8_t *val,
                    size_t vlen)
{
  ipns_record_t rec;
  return value_check(key, klen, val, vlen, &rec);
}

/* An IPNS record we hold that is better than the one offered (a higher
 * sequence, or the same with a later EOL) stays, as kubo keeps it. */
static bool have_better(dht_t *d, const dht_bytes_t *k,
                        const ipns_record_t *offered)
{
  ipns_record_t held;
  uint8_t *old = NULL;
  size_t olen = 0;
  bool better;

  if (dht_value_get(d->kv, k->data, k->len, &old, &olen) < 0)
    return false;
  better = value_check(k->data, k->len, old, olen, &held) == 0 &&
           ipns_record_cmp(&held, offered) > 0;
  free(old);
  return better;
}

/* PUT_VALUE: the record's key must be the message's, and pass the
 * namespace check; kubo echoes the request as the answer. */
static int take_value(dht_t *d, const dht_msg_t *req, buf_t *out)
{
  const dht_bytes_t *k = &req->key;
  ipns_record_t rec;

  /* Other namespaces than /ipns/: the new value replaces the old. */
  if (!req->has_record || req->rec_key.len != k->len ||
      memcmp(req->rec_key.data, k->data, k->len) != 0 ||
      value_check(k->data, k->len, req->rec_value.data, req->rec_value.len,
                  &rec) < 0 ||
      (is_ipns(k->data, k->len) && have_better(d, k, &rec)))
    return CIPFS_EPROTO;
  if (dht_value_put(d->kv, k->data, k->len, req->rec_value.data,
                    req->rec_value.len) < 0)
    return CIPFS_EDB;
  return dht_msg_frame(req, out);
}

/* One request: the answer (possibly none) appended to out. */
static int srv_handle(dht_t *d, const peerid_t *from, const dht_msg_t *req,
                      buf_t *out)
{
  dht_msg_t resp = {0};

  resp.type = req->type;
  resp.key = req->key;
  switch (req->type) {
  case DHT_PING:
    return dht_msg_frame(&resp, out);
  case DHT_FIND_NODE:
    return answer_find_node(d, req, from, &resp, out);
  case DHT_GET_PROVIDERS:
    return answer_get_providers(d, req, from, &resp, out);
  case DHT_ADD_PROVIDER:
    take_provider(d, req, from);
    return 0;
  case DHT_GET_VALUE:
    return answer_get_value(d, req, from, &resp, out);
  case DHT_PUT_VALUE:
    return take_value(d, req, out);
  }
  return CIPFS_EPROTO;
}

static void srv_read(p2p_stream_t *s, const uint8_t *data, size_t len,
                     void *arg)
{
  dht_srv_t *v = arg;
  size_t off, mlen, used = 0;
  buf_t out;
  int rc;

  if (v->d == NULL || buf_append(&v->rx, data, len) < 0) {
    p2p_stream_reset(s);
    return;
  }
  buf_init(&out);
  for (;;) {
    dht_msg_t req;
    rc = dht_frame_next(v->rx.data + used, v->rx.len - used, DHT_MSG_MAX, &off,
                        &mlen);
    if (rc <= 0)
      break;
    v->d->msgs_in++;
    rc = dht_msg_decode(&req, v->rx.data + used + off, mlen);
    if (rc == 0)
      rc = srv_handle(v->d, p2p_stream_peer(s), &req, &out);
    dht_msg_cleanup(&req);
    if (rc < 0)
      break;
    used += off + mlen;
  }
  if (rc < 0) {
    /* Malformed or refused: kubo resets the stream too. */
    buf_cleanup(&out);
    p2p_stream_reset(s);
    return;
  }
  memmove(v->rx.data, v->rx.data + used, v->rx.len - used);
  v->rx.len -= used;
  if (out.len > 0 && p2p_stream_write(s, out.data, out.len) < 0)
    p2p_stream_reset(s);
  buf_cleanup(&out);
}

static void srv_eof(p2p_stream_t *s, void *arg)
{
  p2p_stream_close(s);
}

static void srv_closed(p2p_stream_t *s, int err, void *arg)
{
  dht_srv_t *v = arg;

  srv_unlink(v);
  buf_cleanup(&v->rx);
  free(v);
}

static const p2p_stream_cbs_t srv_cbs = {srv_read, srv_eof, NULL, srv_closed};

static void on_kad_stream(p2p_stream_t *s, void *arg)
{
  dht_t *d = arg;
  dht_srv_t *v;

  if (d->stopping || (v = calloc(1, sizeof(*v))) == NULL) {
    p2p_stream_reset(s);
    return;
  }
  v->d = d;
  v->s = s;
  buf_init(&v->rx);
  v->next = d->srvs;
  d->srvs = v;
  p2p_stream_set_cbs(s, &srv_cbs, v);
}

int dht_srv_start(dht_t *d)
{
  return p2p_handle(d->h, DHT_PROTO, on_kad_stream, d);
}

void dht_srv_stop(dht_t *d)
{
  p2p_unhandle(d->h, DHT_PROTO);
  while (d->srvs != NULL)
    p2p_stream_reset(d->srvs->s); /* closed() unlinks it */
}
