#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "key.h"
#include "p2p.h"
#include "p2p_int.h"
#include "tools/p2p_echo.h"
#include "ma.h"
#include "transport.h"

#include "net/host_fixture.h"

/*
 * Two hosts in one process, each with its own loop thread, talking over
 * real sockets on 127.0.0.1 (TCP + Noise + yamux).
 */
typedef struct node_s {
  struct key_s *key;
  p2p_host_t *h;
  char addr[256]; /* first listen address, with /p2p/ */
} node_t;

typedef struct pair_s {
  node_t a, b;
} pair_t;

/* A one-shot completion another thread can wait for. */
typedef struct done_s {
  uv_mutex_t mu;
  uv_cond_t cond;
  bool done;
  int err;
  size_t count;
} done_t;

static void done_init(done_t *d)
{
  memset(d, 0, sizeof(*d));
  uv_mutex_init(&d->mu);
  uv_cond_init(&d->cond);
}

static void done_signal(done_t *d, int err)
{
  uv_mutex_lock(&d->mu);
  d->done = true;
  d->err = err;
  uv_cond_signal(&d->cond);
  uv_mutex_unlock(&d->mu);
}

static int done_wait(done_t *d, int secs)
{
  int rc = 0;
  uint64_t deadline = uv_hrtime() + (uint64_t)secs * 1000000000u;

  uv_mutex_lock(&d->mu);
  while (!d->done && rc == 0) {
    uint64_t now = uv_hrtime();
    if (now >= deadline ||
        uv_cond_timedwait(&d->cond, &d->mu, deadline - now) != 0)
      rc = d->done ? 0 : CIPFS_ETIMEOUT;
  }
  if (rc == 0)
    rc = d->err;
  uv_mutex_unlock(&d->mu);
  uv_cond_destroy(&d->cond);
  uv_mutex_destroy(&d->mu);
  return rc;
}

static void node_start(node_t *n, const p2p_config_t *base)
{
  hfx_new(&n->key, &n->h, base);
  assert_int_equal(p2p_handle(n->h, ECHO_PROTO, on_echo, NULL), 0);
  hfx_start(n->h, n->addr, sizeof(n->addr));
}

static void node_stop(node_t *n)
{
  hfx_down(n->h, n->key);
}

static int setup(void **state)
{
  pair_t *p = calloc(1, sizeof(*p));
  node_start(&p->a, NULL);
  node_start(&p->b, NULL);
  *state = p;
  return 0;
}

static int teardown(void **state)
{
  pair_t *p = *state;
  node_stop(&p->a);
  node_stop(&p->b);
  free(p);
  return 0;
}

static void connect_ab(pair_t *p)
{
  peerid_t got;
  assert_int_equal(p2p_sync_connect(p->a.h, p->b.addr, &got), 0);
  assert_true(peerid_equal(&got, p2p_host_id(p->b.h)));
}

static size_t npeers(p2p_host_t *h)
{
  peerid_t *peers;
  size_t n;
  assert_int_equal(p2p_sync_peers(h, &peers, &n), 0);
  free(peers);
  return n;
}

static void wait_identified(p2p_host_t *h, const peerid_t *peer,
                            p2p_peer_info_t *info)
{
  for (int i = 0; i < 200; i++) {
    if (p2p_sync_peer_info(h, peer, info) == 0) {
      if (info->identified)
        return;
      p2p_peer_info_cleanup(info);
    }
    usleep(25000);
  }
  fail_msg("peer never identified");
}

static bool has(char **v, size_t n, const char *s)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp(v[i], s) == 0)
      return true;
  return false;
}

static void test_connect_ping_identify(void **state)
{
  pair_t *p = *state;
  const peerid_t *ida = p2p_host_id(p->a.h), *idb = p2p_host_id(p->b.h);
  p2p_peer_info_t info;
  peerid_t *peers;
  size_t n;
  int64_t rtt = -1;

  connect_ab(p);
  /* Dialling again reuses the connection. */
  connect_ab(p);
  assert_int_equal(p2p_sync_peers(p->a.h, &peers, &n), 0);
  assert_int_equal(n, 1);
  assert_true(peerid_equal(&peers[0], idb));
  free(peers);
  /* Ping both ways, repeatedly. */
  for (int i = 0; i < 3; i++) {
    assert_int_equal(p2p_sync_ping(p->a.h, idb, &rtt), 0);
    assert_true(rtt > 0);
    assert_int_equal(p2p_sync_ping(p->b.h, ida, &rtt), 0);
    assert_true(rtt > 0);
  }
  /* Identify both ways. */
  wait_identified(p->a.h, idb, &info);
  assert_true(info.connected);
  assert_string_equal(info.agent_version, P2P_AGENT_VERSION);
  assert_string_equal(info.protocol_version, P2P_PROTOCOL_VERSION);
  assert_true(has(info.protocols, info.nprotocols, P2P_PROTO_IDENTIFY));
  assert_true(has(info.protocols, info.nprotocols, P2P_PROTO_PING));
  assert_true(has(info.protocols, info.nprotocols, ECHO_PROTO));
  assert_int_equal(info.naddrs, 1);
  assert_true(strncmp(p->b.addr, info.addrs[0], strlen(info.addrs[0])) == 0);
  assert_non_null(strstr(info.observed_addr, "/ip4/127.0.0.1/tcp/"));
  assert_true(info.rtt_ns > 0);
  p2p_peer_info_cleanup(&info);
  /* Our own record, as `cipfs id` shows it. */
  assert_int_equal(p2p_sync_peer_info(p->a.h, ida, &info), 0);
  assert_string_equal(info.agent_version, P2P_AGENT_VERSION);
  assert_true(has(info.protocols, info.nprotocols, ECHO_PROTO));
  assert_int_equal(info.naddrs, 1);
  p2p_peer_info_cleanup(&info);
  wait_identified(p->b.h, ida, &info);
  assert_true(has(info.protocols, info.nprotocols, ECHO_PROTO));
  assert_non_null(strstr(info.conn_addr, "/ip4/127.0.0.1/tcp/"));
  p2p_peer_info_cleanup(&info);
}

static void add_proto_and_push(p2p_host_t *h, void *arg)
{
  done_t *d = arg;
  int rc = p2p_handle(h, "/test/late/1.0.0", on_echo, NULL);
  p2p_identify_push(h);
  done_signal(d, rc);
}

/* A protocol registered later reaches connected peers by identify push. */
static void test_identify_push(void **state)
{
  pair_t *p = *state;
  const peerid_t *idb = p2p_host_id(p->b.h);
  p2p_peer_info_t info;
  done_t d;
  bool seen = false;

  connect_ab(p);
  wait_identified(p->a.h, idb, &info);
  assert_false(has(info.protocols, info.nprotocols, "/test/late/1.0.0"));
  p2p_peer_info_cleanup(&info);
  done_init(&d);
  assert_int_equal(p2p_host_call(p->b.h, add_proto_and_push, &d), 0);
  assert_int_equal(done_wait(&d, 10), 0);
  for (int i = 0; i < 200 && !seen; i++) {
    assert_int_equal(p2p_sync_peer_info(p->a.h, idb, &info), 0);
    seen = has(info.protocols, info.nprotocols, "/test/late/1.0.0");
    /* The rest of the record survives the push. */
    assert_true(has(info.protocols, info.nprotocols, ECHO_PROTO));
    p2p_peer_info_cleanup(&info);
    if (!seen)
      usleep(10000);
  }
  assert_true(seen);
}

static void test_many_streams(void **state)
{
  pair_t *p = *state;
  double secs;

  connect_ab(p);
  assert_int_equal(run_echo(p->a.h, p2p_host_id(p->b.h), 100, 4096, &secs), 0);
  /* And from the listener's side over the same connection. */
  assert_int_equal(run_echo(p->b.h, p2p_host_id(p->a.h), 100, 1000, &secs), 0);
  assert_int_equal(npeers(p->a.h), 1);
}

static void test_big_echo(void **state)
{
  pair_t *p = *state;
  double secs;

  connect_ab(p);
  assert_int_equal(
      run_echo(p->a.h, p2p_host_id(p->b.h), 1, 64 * 1024 * 1024, &secs), 0);
  print_message("64 MiB echo: %.2f s\n", secs);
}

static void test_wrong_peer_id(void **state)
{
  pair_t *p = *state;
  char wrong[512], idc[PEERID_MAX_STR];
  peerid_t got;
  node_t c;

  /* b's address with a third node's peer ID. */
  node_start(&c, NULL);
  assert_true(peerid_format(p2p_host_id(c.h), idc, sizeof(idc)) > 0);
  snprintf(wrong, sizeof(wrong), "%.*s/p2p/%s",
           (int)(strstr(p->b.addr, "/p2p/") - p->b.addr), p->b.addr, idc);
  assert_int_equal(p2p_sync_connect(p->a.h, wrong, &got), CIPFS_EPEERID);
  assert_int_equal(npeers(p->a.h), 0);
  node_stop(&c);
  assert_int_equal(p2p_sync_connect(p->a.h, "/ip4/127.0.0.1/tcp/x", &got),
                   CIPFS_EMADDR);
}

/* ---- loop-thread scenarios ---- */

typedef struct scen_s {
  pair_t *p;
  done_t done;
  p2p_stream_t *srv; /* the server's end (loop thread of b) */
  int srv_closed_err;
  bool srv_closed;
  size_t srv_got;
  size_t max_rx;
  size_t got_seen;
  size_t sent;
  int result;
} scen_t;

static void noproto_opened(p2p_stream_t *s, int err, void *arg)
{
  scen_t *sc = arg;
  assert_null(s);
  done_signal(&sc->done, err);
}

static void noproto_start(p2p_host_t *h, void *arg)
{
  static const char *const protos[] = {"/nobody/1.0.0", "/nobody/2.0.0"};
  scen_t *sc = arg;
  int rc =
      p2p_new_stream(h, p2p_host_id(sc->p->b.h), protos, 2, noproto_opened, sc);
  if (rc < 0)
    done_signal(&sc->done, rc);
}

static void test_unknown_protocol(void **state)
{
  scen_t sc = {.p = *state};

  connect_ab(sc.p);
  done_init(&sc.done);
  assert_int_equal(p2p_host_call(sc.p->a.h, noproto_start, &sc), 0);
  assert_int_equal(done_wait(&sc.done, 10), CIPFS_ENOPROTO);
}

/* A server that pauses reading: the client can only push one yamux
 * window plus its own queue, and the server's buffer stays bounded. */
#define SINK_PROTO "/test/sink/1.0.0"

static void sink_read(p2p_stream_t *s, const uint8_t *d, size_t n, void *arg)
{
  scen_t *sc = arg;
  sc->srv_got += n;
}

static void sink_eof(p2p_stream_t *s, void *arg)
{
  p2p_stream_close(s);
}

static void sink_closed(p2p_stream_t *s, int err, void *arg)
{
  scen_t *sc = arg;
  sc->srv_closed = true;
  sc->srv_closed_err = err;
  sc->srv = NULL;
}

static const p2p_stream_cbs_t sink_cbs = {sink_read, sink_eof, NULL,
                                          sink_closed};

static void on_sink(p2p_stream_t *s, void *arg)
{
  scen_t *sc = arg;
  sc->srv = s;
  p2p_stream_set_cbs(s, &sink_cbs, sc);
  p2p_stream_pause(s);
}

static void cli_sink_read(p2p_stream_t *s, const uint8_t *d, size_t n,
                          void *arg)
{
}

static void cli_sink_closed(p2p_stream_t *s, int err, void *arg)
{
}

static const p2p_stream_cbs_t cli_sink_cbs = {cli_sink_read, NULL, NULL,
                                              cli_sink_closed};

static void fill_writes(p2p_stream_t *s, scen_t *sc)
{
  static uint8_t chunk[65536];
  while (p2p_stream_write(s, chunk, sizeof(chunk)) == 0)
    sc->sent += sizeof(chunk);
  sc->sent += sizeof(chunk);
}

static void slow_opened(p2p_stream_t *s, int err, void *arg)
{
  scen_t *sc = arg;
  if (err < 0) {
    done_signal(&sc->done, err);
    return;
  }
  p2p_stream_set_cbs(s, &cli_sink_cbs, sc);
  fill_writes(s, sc);
  done_signal(&sc->done, 0);
}

static void slow_start(p2p_host_t *h, void *arg)
{
  static const char *const protos[] = {SINK_PROTO};
  scen_t *sc = arg;
  int rc =
      p2p_new_stream(h, p2p_host_id(sc->p->b.h), protos, 1, slow_opened, sc);
  if (rc < 0)
    done_signal(&sc->done, rc);
}

static void inspect_srv(p2p_host_t *h, void *arg)
{
  scen_t *sc = arg;
  sc->max_rx = sc->srv != NULL ? sc->srv->rx.len : SIZE_MAX;
  sc->got_seen = sc->srv_got;
  done_signal(&sc->done, 0);
}

static void resume_srv(p2p_host_t *h, void *arg)
{
  scen_t *sc = arg;
  p2p_stream_resume(sc->srv);
  done_signal(&sc->done, 0);
}

static void reset_srv(p2p_host_t *h, void *arg)
{
  scen_t *sc = arg;
  p2p_stream_reset(sc->srv);
  done_signal(&sc->done, sc->srv_closed_err);
}

/* What the server read so far, looked at on its loop thread. */
static size_t srv_got(scen_t *sc)
{
  done_init(&sc->done);
  assert_int_equal(p2p_host_call(sc->p->b.h, inspect_srv, sc), 0);
  assert_int_equal(done_wait(&sc->done, 10), 0);
  return sc->got_seen;
}

static void test_slow_reader_and_reset(void **state)
{
  scen_t sc = {.p = *state};

  assert_int_equal(p2p_handle(sc.p->b.h, SINK_PROTO, on_sink, &sc), 0);
  connect_ab(sc.p);
  done_init(&sc.done);
  assert_int_equal(p2p_host_call(sc.p->a.h, slow_start, &sc), 0);
  assert_int_equal(done_wait(&sc.done, 10), 0);
  assert_true(sc.sent >= P2P_STREAM_HWM);
  usleep(300000);
  done_init(&sc.done);
  assert_int_equal(p2p_host_call(sc.p->b.h, inspect_srv, &sc), 0);
  assert_int_equal(done_wait(&sc.done, 10), 0);
  /* Paused: nothing delivered, at most one window buffered. */
  assert_int_equal(sc.got_seen, 0);
  assert_true(sc.max_rx > 0);
  assert_true(sc.max_rx <= YAMUX_INITIAL_WINDOW);
  done_init(&sc.done);
  assert_int_equal(p2p_host_call(sc.p->b.h, resume_srv, &sc), 0);
  assert_int_equal(done_wait(&sc.done, 10), 0);
  for (int i = 0; i < 200 && srv_got(&sc) < YAMUX_INITIAL_WINDOW; i++)
    usleep(10000);
  assert_true(srv_got(&sc) >= YAMUX_INITIAL_WINDOW);
  /* A reset reaches both ends. */
  done_init(&sc.done);
  assert_int_equal(p2p_host_call(sc.p->b.h, reset_srv, &sc), 0);
  assert_int_equal(done_wait(&sc.done, 10), CIPFS_ERESET);
  assert_true(sc.srv_closed);
}

/* The connection manager trims idle connections above HighWater. */
static void test_connmgr_trim(void **state)
{
  p2p_config_t cfg;
  node_t hub, n1, n2;
  peerid_t got;

  p2p_config_init(&cfg);
  cfg.high_water = 1;
  cfg.low_water = 1;
  cfg.grace_ms = 0;
  node_start(&hub, &cfg);
  node_start(&n1, NULL);
  node_start(&n2, NULL);
  assert_int_equal(p2p_sync_connect(n1.h, hub.addr, &got), 0);
  assert_int_equal(p2p_sync_connect(n2.h, hub.addr, &got), 0);
  /* The manager ticks every second; the trimmed side sees its
   * connection go (the hub's own count may lag the dials). */
  for (int i = 0; i < 100 && npeers(n1.h) + npeers(n2.h) > 1; i++)
    usleep(100000);
  assert_int_equal(npeers(n1.h) + npeers(n2.h), 1);
  assert_int_equal(npeers(hub.h), 1);
  node_stop(&n1);
  node_stop(&n2);
  node_stop(&hub);
}

/* A wildcard listener advertises real interface addresses, and a peer
 * can dial it at one of them. */
static void test_wildcard_listen(void **state)
{
  static const char *listen = "/ip4/0.0.0.0/tcp/0";
  p2p_config_t cfg;
  node_t w, n;
  char *addrs, *lo;
  peerid_t got;

  p2p_config_init(&cfg);
  assert_int_equal(key_generate_ed25519(&w.key), 0);
  cfg.key = w.key;
  cfg.listen = &listen;
  cfg.nlisten = 1;
  assert_int_equal(p2p_host_new(&w.h, &cfg), 0);
  assert_int_equal(p2p_host_start(w.h), 0);
  assert_int_equal(p2p_host_addrs(w.h, &addrs), 0);
  assert_null(strstr(addrs, "0.0.0.0"));
  lo = strstr(addrs, "/ip4/127.0.0.1/tcp/");
  assert_non_null(lo);
  *strchr(lo, '\n') = '\0';
  node_start(&n, NULL);
  assert_int_equal(p2p_sync_connect(n.h, lo, &got), 0);
  assert_true(peerid_equal(&got, p2p_host_id(w.h)));
  free(addrs);
  node_stop(&n);
  node_stop(&w);
}

/* A listen address that is taken fails the start, unless the host was
 * told to do its best: then it is logged and skipped. */
static void log_line(void *arg, const char *line)
{
  char *buf = arg;
  if (buf[0] == '\0')
    snprintf(buf, 512, "%s", line);
}

static void test_listen_best_effort(void **state)
{
  pair_t *p = *state;
  char taken[256], *addrs, logged[512] = "";
  const char *listen[2];
  p2p_config_t cfg;
  node_t n;

  /* b's address without /p2p/ is a port in use. */
  snprintf(taken, sizeof(taken), "%s", p->b.addr);
  *strstr(taken, "/p2p/") = '\0';
  listen[0] = taken;
  listen[1] = "/ip4/127.0.0.1/tcp/0";
  p2p_config_init(&cfg);
  assert_int_equal(key_generate_ed25519(&n.key), 0);
  cfg.key = n.key;
  cfg.listen = listen;
  cfg.nlisten = 2;
  assert_int_equal(p2p_host_new(&n.h, &cfg), 0);
  assert_int_equal(p2p_host_start(n.h), -EADDRINUSE);
  p2p_host_free(n.h);
  cfg.listen_best_effort = true;
  cfg.log = log_line;
  cfg.log_arg = logged;
  assert_int_equal(p2p_host_new(&n.h, &cfg), 0);
  assert_int_equal(p2p_host_start(n.h), 0);
  assert_non_null(strstr(logged, "cannot listen on"));
  assert_non_null(strstr(logged, taken));
  assert_int_equal(p2p_host_addrs(n.h, &addrs), 0);
  assert_null(strstr(addrs, taken));
  assert_non_null(strstr(addrs, "/ip4/127.0.0.1/tcp/"));
  free(addrs);
  node_stop(&n);
}

/* /dns4/localhost is looked up and dialled; a name that does not resolve
 * gives -ENXIO; a name with the wrong /p2p/ is still refused. */
static void test_dns_dial(void **state)
{
  pair_t *p = *state;
  char port[16], ma[512], id[PEERID_MAX_STR];
  peerid_t got;

  sscanf(strstr(p->b.addr, "/tcp/") + 5, "%15[0-9]", port);
  peerid_format(p2p_host_id(p->b.h), id, sizeof(id));
  snprintf(ma, sizeof(ma), "/dns4/no-such-host.invalid/tcp/%s/p2p/%s", port,
           id);
  assert_int_equal(p2p_sync_connect(p->a.h, ma, &got), -ENXIO);
  peerid_format(p2p_host_id(p->a.h), id, sizeof(id));
  snprintf(ma, sizeof(ma), "/dns4/localhost/tcp/%s/p2p/%s", port, id);
  assert_int_equal(p2p_sync_connect(p->a.h, ma, &got), CIPFS_EUSAGE);
  snprintf(ma, sizeof(ma), "/dns/localhost/tcp/%s", port);
  assert_int_equal(p2p_sync_connect(p->a.h, ma, &got), 0);
  assert_true(peerid_equal(&got, p2p_host_id(p->b.h)));
}

/* Announce replaces the listen addresses in identify and in our own
 * info; NoAnnounce removes addresses. */
static void test_announce(void **state)
{
  static const char *announce[] = {"/dns4/example.net/tcp/4001",
                                   "/ip4/192.0.2.7/tcp/4001"};
  static const char *hide[] = {"/ip4/192.0.2.7/tcp/4001"};
  pair_t *p = *state;
  p2p_peer_info_t info;
  p2p_config_t cfg;
  peerid_t got;
  node_t n;

  p2p_config_init(&cfg);
  cfg.announce = announce;
  cfg.nannounce = 2;
  cfg.no_announce = hide;
  cfg.nno_announce = 1;
  node_start(&n, &cfg);
  assert_int_equal(p2p_sync_peer_info(n.h, p2p_host_id(n.h), &info), 0);
  assert_int_equal(info.naddrs, 1);
  assert_string_equal(info.addrs[0], announce[0]);
  p2p_peer_info_cleanup(&info);
  /* a learns it through identify. */
  assert_int_equal(p2p_sync_connect(p->a.h, n.addr, &got), 0);
  for (int i = 0; i < 100; i++) {
    assert_int_equal(p2p_sync_peer_info(p->a.h, &got, &info), 0);
    if (info.identified)
      break;
    p2p_peer_info_cleanup(&info);
    usleep(20000);
  }
  assert_true(info.identified);
  assert_int_equal(info.naddrs, 1);
  assert_string_equal(info.addrs[0], announce[0]);
  p2p_peer_info_cleanup(&info);
  node_stop(&n);
}

/* ---- a raw peer: our transport on a private loop, writing bytes of
 * our choosing into the secured pipe ---- */

typedef struct raw_s {
  uv_loop_t loop;
  uv_timer_t timer;
  transport_t *t;
  sconn_t *c;
  const uint8_t *send;
  size_t send_len;
  buf_t got;
  int dial_err;
  bool closed;
  bool timed_out;
} raw_t;

static void raw_read(void *arg, const uint8_t *d, size_t n)
{
  raw_t *r = arg;
  assert_int_equal(buf_append(&r->got, d, n), 0);
}

static void raw_closed(void *arg, int err)
{
  raw_t *r = arg;
  (void)err;
  r->closed = true;
  r->c = NULL;
  uv_timer_stop(&r->timer);
  uv_close((uv_handle_t *)&r->timer, NULL);
}

static void raw_dialed(void *arg, int err, sconn_t *c)
{
  raw_t *r = arg;
  sconn_cbs_t cbs = {raw_read, raw_closed, r};

  r->dial_err = err;
  if (err < 0) {
    uv_close((uv_handle_t *)&r->timer, NULL);
    return;
  }
  r->c = c;
  sconn_start(c, &cbs);
  assert_int_equal(sconn_write(c, r->send, r->send_len), 0);
}

static void raw_timeout(uv_timer_t *t)
{
  raw_t *r = t->data;
  r->timed_out = true;
  if (r->c != NULL)
    sconn_close(r->c);
}

/* Dial addr, send bytes, run until the host hangs up (or 10 s). */
static void raw_session(raw_t *r, const char *addr, const uint8_t *send,
                        size_t len)
{
  transport_cfg_t cfg = {0};
  key_pair_t *key;
  buf_t ma;

  memset(r, 0, sizeof(*r));
  buf_init(&r->got);
  buf_init(&ma);
  r->send = send;
  r->send_len = len;
  assert_int_equal(uv_loop_init(&r->loop), 0);
  assert_int_equal(key_generate_ed25519(&key), 0);
  cfg.identity = key;
  assert_int_equal(transport_new(&r->t, &r->loop, &cfg), 0);
  assert_int_equal(ma_parse(addr, &ma), 0);
  uv_timer_init(&r->loop, &r->timer);
  r->timer.data = r;
  uv_timer_start(&r->timer, raw_timeout, 10000, 0);
  assert_int_equal(transport_dial(r->t, ma.data, ma.len, NULL, raw_dialed, r),
                   0);
  uv_run(&r->loop, UV_RUN_DEFAULT);
  transport_close(r->t, NULL, NULL);
  uv_run(&r->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&r->loop), 0);
  buf_cleanup(&ma);
  key_free(key);
}

/* A peer speaking broken yamux over a good secured connection is cut off
 * (after a GoAway with the protocol-error code) and the host carries on.
 * Frame-level checks (window overruns, bad flags) are in test_yamux. */
static void test_bad_peer_cut_off(void **state)
{
  pair_t *p = *state;
  uint8_t bad[12];
  raw_t r;
  int64_t rtt;

  yamux_encode_header(bad, YAMUX_T_DATA, 0, 1, 0);
  bad[0] = 1; /* version 1 does not exist */
  raw_session(&r, p->b.addr, bad, sizeof(bad));
  assert_int_equal(r.dial_err, 0);
  assert_true(r.closed);
  assert_false(r.timed_out);
  assert_true(r.got.len >= 12);
  const uint8_t *g = r.got.data + r.got.len - 12;
  assert_int_equal(g[1], YAMUX_T_GOAWAY);
  assert_int_equal(g[11], YAMUX_GOAWAY_PROTO);
  buf_cleanup(&r.got);
  /* The host is fine. */
  connect_ab(p);
  assert_int_equal(p2p_sync_ping(p->a.h, p2p_host_id(p->b.h), &rtt), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_connect_ping_identify, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_identify_push, setup, teardown),
      cmocka_unit_test_setup_teardown(test_many_streams, setup, teardown),
      cmocka_unit_test_setup_teardown(test_big_echo, setup, teardown),
      cmocka_unit_test_setup_teardown(test_wrong_peer_id, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unknown_protocol, setup, teardown),
      cmocka_unit_test_setup_teardown(test_slow_reader_and_reset, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_bad_peer_cut_off, setup, teardown),
      cmocka_unit_test_setup_teardown(test_listen_best_effort, setup, teardown),
      cmocka_unit_test_setup_teardown(test_dns_dial, setup, teardown),
      cmocka_unit_test_setup_teardown(test_announce, setup, teardown),
      cmocka_unit_test(test_connmgr_trim),
      cmocka_unit_test(test_wildcard_listen),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
