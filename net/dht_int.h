#ifndef CIPFS_DHT_INT_H
#define CIPFS_DHT_INT_H

/* Internals shared by dht*.c (and their unit tests and fuzz target). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "dht.h"
#include "kv.h"
#include "peerid.h"

/* ---- dht_msg.c: the kad protobuf Message ---- */

#define DHT_PUT_VALUE 0
#define DHT_GET_VALUE 1
#define DHT_ADD_PROVIDER 2
#define DHT_GET_PROVIDERS 3
#define DHT_FIND_NODE 4
#define DHT_PING 5

#define DHT_CONN_NOT_CONNECTED 0
#define DHT_CONN_CONNECTED 1

/* kubo's msgio limit for one message. */
#define DHT_MSG_MAX (4 * 1024 * 1024)
/* Decoder limits: far above what kubo or js send (20 closer peers, a
 * handful of addresses each), low enough that junk stays cheap. */
#define DHT_MSG_MAX_PEERS 512
#define DHT_PEER_MAX_ADDRS 64
#define DHT_KEY_MAX 1024
/* Provider keys are multihashes; kubo refuses longer ones. */
#define DHT_PROV_KEY_MAX 80

typedef struct dht_bytes_s {
  const uint8_t *data;
  size_t len;
} dht_bytes_t;

typedef struct dht_peer_s {
  peerid_t id;
  dht_bytes_t *addrs; /* binary multiaddrs, each passed ma_validate */
  size_t naddrs;
  int conn;
} dht_peer_t;

typedef struct dht_msg_s {
  int type;
  dht_bytes_t key;
  bool has_record;
  dht_bytes_t rec_key, rec_value, rec_time;
  dht_peer_t *closer;
  size_t ncloser;
  dht_peer_t *providers;
  size_t nproviders;
  bool owned; /* the peer arrays came from the decoder */
} dht_msg_t;

/* Decode one message (no length prefix). Pointers refer into buf, which
 * must outlive m; free the arrays with dht_msg_cleanup (also after an
 * error). CIPFS_EPB for malformed protobuf, CIPFS_ETOOBIG beyond the
 * limits. Peers with an invalid ID and addresses that are not valid
 * multiaddrs are dropped, not fatal. */
int dht_msg_decode(dht_msg_t *m, const uint8_t *buf, size_t len);
void dht_msg_cleanup(dht_msg_t *m);
/* Append varint(length) + message to out. 0 or -ENOMEM. */
int dht_msg_frame(const dht_msg_t *m, buf_t *out);
/* One framed message at the start of buf: 1 with *off (start of the
 * message) and *mlen, 0 when more bytes are needed, CIPFS_EVARINT,
 * CIPFS_ETOOBIG (length above max). */
int dht_frame_next(const uint8_t *buf, size_t len, size_t max, size_t *off,
                   size_t *mlen);
/* The Peer submessage alone (id, addrs), for stored records. */
int dht_peer_encode(const dht_peer_t *p, buf_t *out);
/* Decode a Peer into p (addrs malloc'd, pointing into buf). */
int dht_peer_decode(dht_peer_t *p, const uint8_t *buf, size_t len);
void dht_peer_cleanup(dht_peer_t *p);

/* ---- dht_table.c: k-buckets ---- */

#define DHT_ID_LEN 32 /* SHA-256 */
#define DHT_ENTRY_ADDRS 4

typedef struct dht_entry_s {
  peerid_t id;
  uint8_t kid[DHT_ID_LEN];
  uint8_t *addr[DHT_ENTRY_ADDRS]; /* binary multiaddrs */
  uint16_t alen[DHT_ENTRY_ADDRS];
  uint8_t naddrs;
  uint64_t added_ms;
  uint64_t seen_ms; /* last answer */
} dht_entry_t;

typedef struct dht_bucket_s {
  dht_entry_t **e;
  size_t n;
} dht_bucket_t;

typedef struct dht_table_s {
  peerid_t self;
  uint8_t self_kid[DHT_ID_LEN];
  size_t k;
  size_t count;
  dht_bucket_t b[DHT_ID_LEN * 8 + 1]; /* by common prefix length */
} dht_table_t;

void dht_kid(const uint8_t *key, size_t len, uint8_t out[DHT_ID_LEN]);
/* Leading bits a and b have in common. */
unsigned dht_cpl(const uint8_t *a, const uint8_t *b);
/* <0, 0, >0 as a is closer to target than b. */
int dht_dist_cmp(const uint8_t *target, const uint8_t *a, const uint8_t *b);

int dht_table_init(dht_table_t *t, const peerid_t *self, size_t k);
void dht_table_cleanup(dht_table_t *t);
/* Add or refresh a peer that answered us. 1 added, 0 refreshed (addrs
 * replaced when naddrs > 0), CIPFS_ELIMIT when its bucket is full,
 * CIPFS_EUSAGE for ourselves, -ENOMEM. */
int dht_table_add(dht_table_t *t, const peerid_t *id, const dht_bytes_t *addrs,
                  size_t naddrs, uint64_t now_ms);
/* 1 removed, 0 absent. */
int dht_table_remove(dht_table_t *t, const peerid_t *id);
dht_entry_t *dht_table_find(dht_table_t *t, const peerid_t *id);
/* Up to n entries closest to target, nearest first. Returns the count. */
size_t dht_table_closest(const dht_table_t *t, const uint8_t *target,
                         dht_entry_t **out, size_t n);
/* Deepest non-empty bucket index + 1 (how many buckets refresh covers). */
unsigned dht_table_depth(const dht_table_t *t);
/* A random 32-byte key whose kad ID shares exactly cpl leading bits with
 * ours: a refresh target for that bucket (FIND_NODE takes any key; found
 * by trying, about 2^(cpl+1) hashes, so keep cpl small). */
void dht_table_rand_key(const dht_table_t *t, unsigned cpl,
                        uint8_t out[DHT_ID_LEN]);
/* Persist under d/t/ (replacing what was there) / read back. load calls
 * cb with each stored peer. */
int dht_table_save(const dht_table_t *t, kv_t *kv);
typedef void (*dht_table_load_cb)(void *arg, const dht_peer_t *p);
int dht_table_load(kv_t *kv, dht_table_load_cb cb, void *arg);

/* ---- dht_providers.c: provider records and values in LevelDB ---- */

/* Store a record: peer provides mh, seen at now_ms (wall clock). */
int dht_prov_add(kv_t *kv, const uint8_t *mh, size_t mhlen,
                 const dht_peer_t *peer, uint64_t now_ms);
/* Unexpired providers of mh (up to max), in *out (free each with
 * dht_peer_cleanup, then the array; addresses are malloc'd copies here,
 * see dht_prov_free). Expired ones found on the way are deleted. */
int dht_prov_get(kv_t *kv, const uint8_t *mh, size_t mhlen, uint64_t now_ms,
                 uint64_t ttl_ms, size_t max, dht_peer_t **out, size_t *n);
void dht_prov_free(dht_peer_t *v, size_t n);
/* Delete every record older than ttl. Returns how many were deleted. */
int dht_prov_sweep(kv_t *kv, uint64_t now_ms, uint64_t ttl_ms);
/* Records held (all keys). */
int dht_prov_count(kv_t *kv, size_t *n);
/* What we provide ourselves: d/s/<mh> -> last announce time. */
int dht_self_add(kv_t *kv, const uint8_t *mh, size_t mhlen, uint64_t now_ms);
/* When we last announced mh: 0, CIPFS_ENOTFOUND. */
int dht_self_last(kv_t *kv, const uint8_t *mh, size_t mhlen, uint64_t *last);
typedef void (*dht_self_cb)(void *arg, const uint8_t *mh, size_t mhlen,
                            uint64_t last_ms);
int dht_self_each(kv_t *kv, dht_self_cb cb, void *arg);
/* Values (PUT_VALUE/GET_VALUE): d/v/<key> -> record value. */
int dht_value_put(kv_t *kv, const uint8_t *key, size_t klen, const uint8_t *val,
                  size_t vlen);
int dht_value_get(kv_t *kv, const uint8_t *key, size_t klen, uint8_t **val,
                  size_t *vlen);
/* PUT_VALUE records we accept: "/pk/<peer id>" whose value is that
 * peer's public key, or "/ipns/<name>" (the IPNS module will add the
 * signature check kubo's validator does). 0, CIPFS_EPROTO, ETOOBIG. */
#define DHT_VALUE_MAX (64 * 1024)
int dht_value_check(const uint8_t *key, size_t klen, const uint8_t *val,
                    size_t vlen);
/* Milliseconds since the epoch (records outlive restarts). */
uint64_t dht_wall_ms(void);

/* ---- dht_dns.c: /dnsaddr/ ---- */

/* The TXT strings of a DNS answer packet that start with "dnsaddr=",
 * without that prefix, each as a malloc'd string in *out (free with
 * dht_strv_free). CIPFS_EPROTO for a malformed packet. */
int dht_dns_txt_parse(const uint8_t *pkt, size_t len, char ***out, size_t *n);
void dht_strv_free(char **v, size_t n);
/* Resolve a /dnsaddr/ multiaddr (blocking: worker threads only) into the
 * ip/tcp multiaddrs whose /p2p/ matches its own. */
int dht_dns_resolve(const char *maddr, char ***out, size_t *n);

/* ---- runtime: dht.c, dht_lookup.c ---- */

#include <uv.h>

typedef struct dht_rpc_s dht_rpc_t;
typedef struct dht_lookup_s dht_lookup_t;
typedef struct dht_srv_s dht_srv_t;
typedef struct dns_box_s dns_box_t;

#define DHT_PROBE_RING 64

struct dht_s {
  p2p_host_t *h;
  kv_t *kv;
  dht_config_t cfg;
  char **boot; /* bootstrap addrs, copied */
  size_t nboot;
  dht_table_t table;
  bool server;
  bool started; /* start_on_loop ran */
  bool stopping;
  uv_timer_t tick;
  dht_rpc_t *rpcs;
  dht_lookup_t *lookups;
  dht_srv_t *srvs;
  uint64_t low_refresh_ms;
  uint64_t next_refresh, next_sweep, next_reprovide, next_probe;
  unsigned boots_pending;
  bool boot_ok;
  bool boot_logged;
  /* Peers we asked recently because they connected to us. */
  peerid_t probed[DHT_PROBE_RING];
  uint64_t probed_ms[DHT_PROBE_RING];
  unsigned probe_pos;
  /* reprovide queue */
  buf_t reprov; /* len-prefixed multihashes */
  size_t reprov_off;
  unsigned reprov_inflight;
  bool reprov_force;   /* next pass: everything, whatever its age */
  bool provide_failed; /* a provide reached nobody: redo once we can */
  /* counters */
  uint64_t msgs_out, msgs_in, lookups_run;
  dns_box_t *dns; /* shared with the /dnsaddr/ resolver threads */
  /* dht_stop waits on this */
  uv_mutex_t mu;
  uv_cond_t cond;
  bool halted; /* nothing of ours left on the loop */
};

/* dht_lookup.c: one request to one peer. want_reply false sends and
 * closes (ADD_PROVIDER). A peer that answers is added to the table, one
 * that fails (not cancelled) is removed. */
typedef void (*dht_rpc_cb)(dht_t *d, const peerid_t *peer, int err,
                           dht_msg_t *resp, void *arg);
int dht_rpc(dht_t *d, const peerid_t *peer, const dht_bytes_t *addrs,
            size_t naddrs, const dht_msg_t *req, bool want_reply, dht_rpc_cb cb,
            void *arg);
void dht_rpc_cancel_all(dht_t *d);

/* dht_lookup.c: iterative lookup. resp runs for each answer (return true
 * to stop early); done runs once, then the lookup is freed. */
typedef struct dht_cand_s {
  peerid_t id;
  uint8_t kid[DHT_ID_LEN];
  uint8_t state;
  uint8_t hop;
  uint8_t naddrs;
  uint8_t *addr[DHT_ENTRY_ADDRS];
  uint16_t alen[DHT_ENTRY_ADDRS];
} dht_cand_t;

#define DHT_C_HEARD 0
#define DHT_C_WAITING 1
#define DHT_C_QUERIED 2
#define DHT_C_UNREACHABLE 3

typedef bool (*dht_lookup_resp_cb)(dht_lookup_t *l, const dht_cand_t *from,
                                   dht_msg_t *m, void *arg);
typedef void (*dht_lookup_done_cb)(dht_lookup_t *l, int status, void *arg);

struct dht_lookup_s {
  dht_t *d;
  dht_msg_t req;
  buf_t key;
  uint8_t target[DHT_ID_LEN];
  dht_cand_t *c; /* sorted by distance to target */
  size_t nc;
  size_t inflight;
  int refs;
  bool done;
  bool waiting_boot; /* started on an empty table during bootstrap */
  bool thorough;     /* result is the k closest: wait for their answers */
  uint64_t start_ns;
  dht_lookup_stats_t st;
  dht_lookup_resp_cb resp;
  dht_lookup_done_cb done_cb;
  void *arg;
  uv_timer_t timer;
  dht_lookup_t *next;
};

int dht_lookup_start(dht_t *d, int type, const uint8_t *key, size_t klen,
                     dht_lookup_resp_cb resp, dht_lookup_done_cb done,
                     void *arg);
/* The same, for lookups whose result is the k closest (see thorough). */
int dht_lookup_start_closest(dht_t *d, const uint8_t *key, size_t klen,
                             dht_lookup_done_cb done, void *arg);
int dht_lookup_start_thorough(dht_t *d, int type, const uint8_t *key,
                              size_t klen, dht_lookup_resp_cb resp,
                              dht_lookup_done_cb done, void *arg);
/* Finish now with status (done runs); later answers are ignored. */
void dht_lookup_finish(dht_lookup_t *l, int status);
void dht_lookup_cancel_all(dht_t *d);
/* Bootstrap ended: lookups waiting for a table go on (or end). */
void dht_lookup_boot_done(dht_t *d);

/* dht_srv.c: register / unregister the server handler. */
int dht_srv_start(dht_t *d);
void dht_srv_stop(dht_t *d);

/* dht.c */
void dht_log(dht_t *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Our listen addresses, binary, into store (offsets in out). */
size_t dht_self_addrs(dht_t *d, buf_t *store, dht_bytes_t *out, size_t max);
/* A peer's addresses as the host knows them (identify), binary. */
size_t dht_host_addrs(dht_t *d, const peerid_t *peer, buf_t *store,
                      dht_bytes_t *out, size_t max);

#endif
