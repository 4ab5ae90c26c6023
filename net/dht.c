/* The DHT's life on the host loop: start and stop, bootstrap, the
 * periodic work (refresh, probing new peers, record expiry, reprovide,
 * table persistence) and the lookups the rest of the node asks for. */
#include "dht_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "ma.h"

#define TICK_MS 1000
#define PROBE_EVERY_MS 2000
#define PROBE_AGAIN_MS 60000
#define SWEEP_EVERY_MS (60 * 60 * 1000)
#define REPROVIDE_CHECK_MS (60 * 60 * 1000)
#define REPROVIDE_FIRST_MS 15000
#define REPROVIDE_PARALLEL 4
/* Bytes of multihashes waiting to be announced (about 30,000). */
#define PROVIDE_QUEUE_MAX (1024 * 1024)
/* kubo refreshes buckets up to this common prefix length. */
#define REFRESH_MAX_CPL 15
/* First refresh after start; doubles while the table is short. */
#define LOW_REFRESH_FIRST_MS 3000

void dht_config_init(dht_config_t *c)
{
  memset(c, 0, sizeof(*c));
  c->mode = DHT_MODE_AUTO;
  c->k = 20;
  c->alpha = 10;
  c->beta = 3;
  c->query_timeout_ms = 10000;
  c->lookup_timeout_ms = 60000;
  c->refresh_ms = 10 * 60 * 1000;
  c->provider_ttl_ms = 48ULL * 3600 * 1000;
  c->reprovide_ms = 22ULL * 3600 * 1000;
}

int dht_config_load(dht_config_t *c, const cfg_t *cfg)
{
  const char *type = "auto";
  const char **boot = NULL;
  size_t n = 0;

  if (cfg_get_str(cfg, "Routing.Type", &type) < 0)
    type = "auto";
  if (strcmp(type, "auto") == 0 || strcmp(type, "dht") == 0)
    c->mode = DHT_MODE_AUTO;
  else if (strcmp(type, "dhtclient") == 0 || strcmp(type, "autoclient") == 0)
    c->mode = DHT_MODE_CLIENT;
  else if (strcmp(type, "dhtserver") == 0)
    c->mode = DHT_MODE_SERVER;
  else if (strcmp(type, "none") == 0)
    c->mode = DHT_MODE_NONE;
  else
    return CIPFS_ECONFIG;
  if (cfg_get_strv(cfg, "Bootstrap", &boot, &n) == 0) {
    free(c->loaded_boot);
    c->loaded_boot = boot;
    c->bootstrap = boot;
    c->nbootstrap = n;
  }
  return 0;
}

void dht_config_cleanup(dht_config_t *c)
{
  if (c->bootstrap == (const char *const *)c->loaded_boot) {
    c->bootstrap = NULL;
    c->nbootstrap = 0;
  }
  free(c->loaded_boot);
  c->loaded_boot = NULL;
}

void dht_log(dht_t *d, const char *fmt, ...)
{
  char line[512];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  if (d->cfg.log != NULL)
    d->cfg.log(d->cfg.log_arg, line);
  else
    fprintf(stderr, "%s\n", line);
}

/* Text multiaddrs into binary ones in store; out[] points into it. */
static size_t addrs_to_bin(char **text, size_t ntext, buf_t *store,
                           dht_bytes_t *out, size_t max)
{
  size_t offs[DHT_PEER_MAX_ADDRS], n = 0;

  buf_reset(store);
  for (size_t i = 0; i < ntext && n < max && n < DHT_PEER_MAX_ADDRS; i++) {
    size_t before = store->len;
    if (ma_parse(text[i], store) < 0) {
      store->len = before;
      continue;
    }
    offs[n] = before;
    out[n++].len = store->len - before;
  }
  for (size_t i = 0; i < n; i++)
    out[i].data = store->data + offs[i];
  return n;
}

size_t dht_host_addrs(dht_t *d, const peerid_t *peer, buf_t *store,
                      dht_bytes_t *out, size_t max)
{
  p2p_peer_info_t info;
  size_t n;

  if (p2p_peer_info(d->h, peer, &info) < 0)
    return 0;
  n = addrs_to_bin(info.addrs, info.naddrs, store, out, max);
  p2p_peer_info_cleanup(&info);
  return n;
}

size_t dht_self_addrs(dht_t *d, buf_t *store, dht_bytes_t *out, size_t max)
{
  return dht_host_addrs(d, p2p_host_id(d->h), store, out, max);
}

bool dht_is_server(const dht_t *d)
{
  return d->server;
}

size_t dht_table_size(const dht_t *d)
{
  return d->table.count;
}

/* ---- mode ---- */

static bool addr_private(const char *maddr)
{
  static const char *const priv[] = {
      "/ip4/127.", "/ip4/10.",   "/ip4/192.168.", "/ip4/169.254.",
      "/ip6/::1/", "/ip6/fe80:", "/ip6/fd",       "/ip4/0.0.0.0/"};
  for (size_t i = 0; i < sizeof(priv) / sizeof(priv[0]); i++)
    if (strncmp(maddr, priv[i], strlen(priv[i])) == 0)
      return true;
  if (strncmp(maddr, "/ip4/172.", 9) == 0) {
    int second = atoi(maddr + 9);
    return second >= 16 && second <= 31;
  }
  return false;
}

/* Auto mode without AutoNAT: we are reachable when we listen on a public
 * address, or when every bootstrap peer is on a private or loopback
 * address (a private network, where our own addresses work as well as
 * theirs). */
static bool decide_server(dht_t *d)
{
  p2p_peer_info_t info;
  bool pub = false, all_private = d->nboot > 0;

  if (d->cfg.mode != DHT_MODE_AUTO)
    return d->cfg.mode == DHT_MODE_SERVER;
  if (p2p_peer_info(d->h, p2p_host_id(d->h), &info) == 0) {
    for (size_t i = 0; i < info.naddrs; i++)
      pub = pub || !addr_private(info.addrs[i]);
    p2p_peer_info_cleanup(&info);
  }
  for (size_t i = 0; i < d->nboot; i++)
    all_private = all_private && addr_private(d->boot[i]);
  return pub || all_private;
}

/* ---- bootstrap ---- */

static void boot_finished(dht_t *d);

static void boot_answered(dht_t *d, const peerid_t *peer, int err, dht_msg_t *m,
                          void *arg)
{
  if (err == 0)
    d->boot_ok = true;
  if (--d->boots_pending == 0)
    boot_finished(d);
}

/* FIND_NODE(self) to one seed; an answer puts it in the table. */
static void boot_ask(dht_t *d, const peerid_t *id, const dht_bytes_t *addrs,
                     size_t naddrs)
{
  dht_msg_t req = {0};

  req.type = DHT_FIND_NODE;
  req.key.data = p2p_host_id(d->h)->mh;
  req.key.len = p2p_host_id(d->h)->len;
  if (dht_rpc(d, id, addrs, naddrs, &req, true, boot_answered, NULL) == 0)
    d->boots_pending++;
}

static void boot_addr(dht_t *d, const char *maddr)
{
  buf_t b;
  peerid_t id;
  dht_bytes_t a;
  size_t plen;

  buf_init(&b);
  if (ma_parse(maddr, &b) == 0 && ma_peer(b.data, b.len, &id) == 0 &&
      ma_strip_p2p(b.data, b.len, &plen) == 0 &&
      !peerid_equal(&id, p2p_host_id(d->h))) {
    a.data = b.data;
    a.len = plen;
    boot_ask(d, &id, &a, 1);
  }
  buf_cleanup(&b);
}

/* /dnsaddr/ names resolve on detached threads: res_query blocks, for
 * seconds when DNS is unreachable, and a DHT that halts (Ctrl-C on the
 * mount) must not wait for it, as it would for a uv work request. A
 * resolver hands its answer to the loop only while the box still names
 * the DHT; the halt clears it under the same lock, so no resolver touches
 * the host after that. */
struct dns_box_s {
  pthread_mutex_t mu;
  dht_t *d; /* NULL once the DHT halted */
  int refs; /* the DHT's, and one per resolver still running */
};

typedef struct dns_job_s {
  dns_box_t *box;
  char *maddr;
  char **out;
  size_t n;
  int rc;
} dns_job_t;

static void dns_box_unref(dns_box_t *box)
{
  pthread_mutex_lock(&box->mu);
  int left = --box->refs;
  pthread_mutex_unlock(&box->mu);
  if (left > 0)
    return;
  pthread_mutex_destroy(&box->mu);
  free(box);
}

/* No resolver hands anything to this DHT any more. */
static void dns_box_forget(dns_box_t *box)
{
  pthread_mutex_lock(&box->mu);
  box->d = NULL;
  pthread_mutex_unlock(&box->mu);
}

static void dns_job_free(dns_job_t *x)
{
  dht_strv_free(x->out, x->n);
  free(x->maddr);
  free(x);
}

/* On the loop: a resolution landed (the DHT may have halted since). */
static void dns_landed(p2p_host_t *h, void *arg)
{
  dns_job_t *x = arg;
  dht_t *d;
  (void)h;

  pthread_mutex_lock(&x->box->mu);
  d = x->box->d;
  pthread_mutex_unlock(&x->box->mu);

  if (d != NULL) {
    if (x->rc == 0)
      for (size_t i = 0; i < x->n; i++)
        boot_addr(d, x->out[i]);
    if (--d->boots_pending == 0)
      boot_finished(d);
  }
  dns_box_unref(x->box);
  dns_job_free(x);
}

static void *dns_thread(void *arg)
{
  dns_job_t *x = arg;
  dns_box_t *box = x->box;
  bool sent;

  x->rc = dht_dns_resolve(x->maddr, &x->out, &x->n);
  pthread_mutex_lock(&box->mu);
  sent = box->d != NULL && p2p_host_call(box->d->h, dns_landed, x) == 0;
  pthread_mutex_unlock(&box->mu);
  if (!sent) { /* the job's reference to the box goes with it */
    dns_box_unref(box);
    dns_job_free(x);
  }
  return NULL;
}

static void boot_dnsaddr(dht_t *d, const char *maddr)
{
  dns_job_t *x = calloc(1, sizeof(*x));
  pthread_attr_t attr;
  pthread_t t;
  int rc;

  if (x == NULL || (x->maddr = strdup(maddr)) == NULL) {
    free(x);
    return;
  }
  x->box = d->dns;
  pthread_mutex_lock(&d->dns->mu);
  d->dns->refs++;
  pthread_mutex_unlock(&d->dns->mu);
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  rc = pthread_create(&t, &attr, dns_thread, x);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    dns_box_unref(d->dns);
    dns_job_free(x);
    return;
  }
  d->boots_pending++;
}

static void seed_persisted(void *arg, const dht_peer_t *p)
{
  boot_ask(arg, &p->id, p->addrs, p->naddrs);
}

static void self_lookup_done(dht_lookup_t *l, int status, void *arg)
{
}

static void refresh(dht_t *d)
{
  unsigned depth = dht_table_depth(&d->table);
  uint8_t key[DHT_ID_LEN];
  const peerid_t *self = p2p_host_id(d->h);

  if (d->table.count == 0)
    return;
  dht_lookup_start(d, DHT_FIND_NODE, self->mh, self->len, NULL,
                   self_lookup_done, NULL);
  for (unsigned cpl = 0; cpl < depth && cpl <= REFRESH_MAX_CPL; cpl++) {
    dht_table_rand_key(&d->table, cpl, key);
    dht_lookup_start(d, DHT_FIND_NODE, key, sizeof(key), NULL, self_lookup_done,
                     NULL);
  }
}

static void boot_finished(dht_t *d)
{
  if (d->stopping)
    return;
  dht_lookup_boot_done(d);
  if (d->table.count > 0) {
    refresh(d);
    /* Announcements made while nobody was reachable go out now. */
    if (d->provide_failed) {
      d->provide_failed = false;
      d->reprov_force = true;
      d->next_reprovide = 0;
    }
    return;
  }
  /* Said once; later attempts (each refresh period) stay quiet. */
  if (!d->boot_logged) {
    d->boot_logged = true;
    if (d->nboot == 0)
      dht_log(d, "dht: no bootstrap peers configured; waiting for peers to "
                 "connect");
    else
      dht_log(d,
              "dht: no bootstrap peer reachable (%zu configured); serving "
              "local content only",
              d->nboot);
  }
}

void dht_bootstrap(dht_t *d)
{
  if (d->stopping || d->boots_pending > 0)
    return;
  d->boots_pending = 1; /* held while we start them all */
  for (size_t i = 0; i < d->nboot; i++) {
    if (strncmp(d->boot[i], "/dnsaddr/", 9) == 0)
      boot_dnsaddr(d, d->boot[i]);
    else
      boot_addr(d, d->boot[i]);
  }
  if (d->kv != NULL && d->table.count == 0)
    dht_table_load(d->kv, seed_persisted, d);
  if (--d->boots_pending == 0)
    boot_finished(d);
}

/* ---- periodic work ---- */

static bool probed_recently(dht_t *d, const peerid_t *p, uint64_t now)
{
  for (unsigned i = 0; i < DHT_PROBE_RING; i++)
    if (peerid_equal(&d->probed[i], p) &&
        now - d->probed_ms[i] < PROBE_AGAIN_MS)
      return true;
  return false;
}

static void probe_answered(dht_t *d, const peerid_t *peer, int err,
                           dht_msg_t *m, void *arg)
{
}

/* Connected peers that speak the DHT as servers (identify says so) but
 * are not in the table: ask them once; answering puts them in. */
static void probe_peers(dht_t *d, uint64_t now)
{
  peerid_t *peers;
  size_t n;
  dht_msg_t req = {0};

  if (p2p_peers(d->h, &peers, &n) < 0)
    return;
  req.type = DHT_FIND_NODE;
  req.key.data = p2p_host_id(d->h)->mh;
  req.key.len = p2p_host_id(d->h)->len;
  for (size_t i = 0; i < n; i++) {
    if (dht_table_find(&d->table, &peers[i]) != NULL ||
        !p2p_peer_supports(d->h, &peers[i], DHT_PROTO) ||
        probed_recently(d, &peers[i], now))
      continue;
    d->probed[d->probe_pos] = peers[i];
    d->probed_ms[d->probe_pos] = now;
    d->probe_pos = (d->probe_pos + 1) % DHT_PROBE_RING;
    dht_rpc(d, &peers[i], NULL, 0, &req, true, probe_answered, NULL);
  }
  free(peers);
}

static void reprovide_next(dht_t *d);

static void reprovided(void *arg, int status, const dht_lookup_stats_t *st)
{
  dht_t *d = arg;

  if (status < 0 && status != CIPFS_ECANCELED)
    d->provide_failed = true;
  d->reprov_inflight--;
  reprovide_next(d);
}

int dht_provide_later(dht_t *d, const uint8_t *mh, size_t mhlen)
{
  uint64_t last;

  if (mhlen == 0 || mhlen > DHT_PROV_KEY_MAX)
    return CIPFS_EUSAGE;
  if (d->stopping)
    return CIPFS_ECANCELED;
  /* Announced within the reprovide period: nothing to do. */
  if (dht_self_last(d->kv, mh, mhlen, &last) == 0 &&
      last + d->cfg.reprovide_ms > dht_wall_ms())
    return 0;
  if (d->reprov.len - d->reprov_off > PROVIDE_QUEUE_MAX)
    return CIPFS_ELIMIT;
  if (buf_append_byte(&d->reprov, (uint8_t)mhlen) < 0 ||
      buf_append(&d->reprov, mh, mhlen) < 0)
    return -ENOMEM;
  reprovide_next(d);
  return 0;
}

static void reprovide_next(dht_t *d)
{
  while (!d->stopping && d->reprov_inflight < REPROVIDE_PARALLEL &&
         d->reprov_off < d->reprov.len) {
    uint8_t len = d->reprov.data[d->reprov_off];
    const uint8_t *mh = d->reprov.data + d->reprov_off + 1;
    d->reprov_off += 1u + len;
    if (dht_provide(d, mh, len, reprovided, d) == 0)
      d->reprov_inflight++;
  }
  if (d->reprov_off >= d->reprov.len && d->reprov_inflight == 0) {
    buf_reset(&d->reprov);
    d->reprov_off = 0;
  }
}

static void collect_due(void *arg, const uint8_t *mh, size_t mhlen,
                        uint64_t last_ms)
{
  dht_t *d = arg;
  uint64_t now = dht_wall_ms();

  if ((!d->reprov_force && last_ms + d->cfg.reprovide_ms > now) || mhlen > 255)
    return;
  if (buf_append_byte(&d->reprov, (uint8_t)mhlen) == 0)
    buf_append(&d->reprov, mh, mhlen);
}

static void on_tick(uv_timer_t *t)
{
  dht_t *d = t->data;
  uint64_t now = uv_now(t->loop);

  if (now >= d->next_probe) {
    d->next_probe = now + PROBE_EVERY_MS;
    probe_peers(d, now);
  }
  if (now >= d->next_refresh) {
    /* A table short of k peers refreshes sooner, backing off (kubo's
     * fixLowPeers does the same job every minute). */
    if (d->table.count < d->cfg.k && d->low_refresh_ms < d->cfg.refresh_ms) {
      d->low_refresh_ms =
          d->low_refresh_ms ? 2 * d->low_refresh_ms : LOW_REFRESH_FIRST_MS;
      d->next_refresh = now + d->low_refresh_ms;
    } else {
      d->next_refresh = now + d->cfg.refresh_ms;
    }
    if (d->table.count == 0)
      dht_bootstrap(d);
    else
      refresh(d);
    dht_table_save(&d->table, d->kv);
  }
  if (now >= d->next_sweep) {
    d->next_sweep = now + SWEEP_EVERY_MS;
    dht_prov_sweep(d->kv, dht_wall_ms(), d->cfg.provider_ttl_ms);
  }
  if (now >= d->next_reprovide && d->table.count > 0 && d->reprov.len == 0) {
    d->next_reprovide = now + REPROVIDE_CHECK_MS;
    dht_self_each(d->kv, collect_due, d);
    d->reprov_force = false;
    reprovide_next(d);
  }
}

/* ---- start and stop ---- */

static void start_on_loop(p2p_host_t *h, void *arg)
{
  dht_t *d = arg;
  uint64_t now = uv_now(p2p_host_loop(h));
  int rc = 0;

  d->started = true;
  d->server = decide_server(d);
  if (d->server && (rc = dht_srv_start(d)) < 0) {
    dht_log(d, "dht: cannot serve %s: %s; client mode", DHT_PROTO,
            cipfs_strerror(rc));
    d->server = false;
  }
  /* Peers that identified us before must hear we now speak kad. */
  if (d->server)
    p2p_identify_push(h);
  uv_timer_init(p2p_host_loop(h), &d->tick);
  d->tick.data = d;
  d->next_probe = now + PROBE_EVERY_MS;
  d->next_refresh = now + LOW_REFRESH_FIRST_MS;
  d->next_sweep = now + 60000;
  d->next_reprovide = now + REPROVIDE_FIRST_MS;
  uv_timer_start(&d->tick, on_tick, TICK_MS, TICK_MS);
  dht_bootstrap(d);
}

static void dht_destroy(dht_t *d)
{
  dht_table_cleanup(&d->table);
  for (size_t i = 0; i < d->nboot; i++)
    free(d->boot[i]);
  free(d->boot);
  buf_cleanup(&d->reprov);
  if (d->dns != NULL) { /* resolvers still running free it */
    dns_box_forget(d->dns);
    dns_box_unref(d->dns);
  }
  uv_cond_destroy(&d->cond);
  uv_mutex_destroy(&d->mu);
  free(d);
}

int dht_new(dht_t **out, p2p_host_t *h, kv_t *kv, const dht_config_t *cfg)
{
  dht_t *d;
  int rc;

  if (cfg->mode == DHT_MODE_NONE || kv == NULL)
    return CIPFS_EUSAGE;
  d = calloc(1, sizeof(*d));
  if (d == NULL)
    return -ENOMEM;
  d->h = h;
  d->kv = kv;
  d->cfg = *cfg;
  d->cfg.bootstrap = NULL;
  d->cfg.nbootstrap = 0;
  if (d->cfg.k == 0 || d->cfg.k > 64)
    d->cfg.k = 20;
  if (d->cfg.alpha == 0)
    d->cfg.alpha = 10;
  if (d->cfg.beta == 0)
    d->cfg.beta = 3;
  uv_mutex_init(&d->mu);
  uv_cond_init(&d->cond);
  buf_init(&d->reprov);
  dht_table_init(&d->table, p2p_host_id(h), d->cfg.k);
  if ((d->dns = calloc(1, sizeof(*d->dns))) == NULL)
    goto nomem;
  pthread_mutex_init(&d->dns->mu, NULL);
  d->dns->d = d;
  d->dns->refs = 1;
  d->boot = calloc(cfg->nbootstrap + 1, sizeof(*d->boot));
  if (d->boot == NULL)
    goto nomem;
  for (size_t i = 0; i < cfg->nbootstrap; i++)
    if ((d->boot[d->nboot++] = strdup(cfg->bootstrap[i])) == NULL)
      goto nomem;
  d->tick.data = d;
  rc = p2p_host_call(h, start_on_loop, d);
  if (rc < 0) {
    dht_destroy(d);
    return rc;
  }
  *out = d;
  return 0;
nomem:
  dht_destroy(d);
  return -ENOMEM;
}

static void signal_halted(dht_t *d)
{
  uv_mutex_lock(&d->mu);
  d->halted = true;
  uv_cond_signal(&d->cond);
  uv_mutex_unlock(&d->mu);
}

static void barrier_fn(p2p_host_t *h, void *arg)
{
  signal_halted(arg);
}

/* Calls queued before this one (a lookup's first step...) have run once
 * the barrier runs: after it nothing can touch d. */
static void tick_closed(uv_handle_t *t)
{
  dht_t *d = t->data;

  if (p2p_host_call(d->h, barrier_fn, d) < 0)
    signal_halted(d);
}

/* Everything callers wait on ends (CIPFS_ECANCELED); new calls fail;
 * nothing of ours stays on the loop but requests already detached from
 * us, and DNS work that will find no DHT when it lands. */
static void halt_on_loop(p2p_host_t *h, void *arg)
{
  dht_t *d = arg;

  d->stopping = true;
  dht_lookup_cancel_all(d);
  dht_rpc_cancel_all(d);
  dht_srv_stop(d);
  dns_box_forget(d->dns);
  if (!d->started) { /* stopped before it started: nothing to close */
    tick_closed((uv_handle_t *)&d->tick);
    return;
  }
  dht_table_save(&d->table, d->kv);
  uv_timer_stop(&d->tick);
  uv_close((uv_handle_t *)&d->tick, tick_closed);
}

void dht_stop(dht_t *d)
{
  if (d == NULL || d->halted)
    return;
  /* A host that never started runs no calls: nothing of ours is on its
   * loop, and the queued start is dropped with the host. */
  if (!p2p_host_running(d->h) || p2p_host_call(d->h, halt_on_loop, d) < 0) {
    dns_box_forget(d->dns); /* before the host goes */
    d->halted = true;
    return;
  }
  uv_mutex_lock(&d->mu);
  while (!d->halted)
    uv_cond_wait(&d->cond, &d->mu);
  uv_mutex_unlock(&d->mu);
}

void dht_free(dht_t *d)
{
  if (d == NULL)
    return;
  dht_stop(d);
  dht_destroy(d);
}
