#ifndef CIPFS_BITSWAP_INT_H
#define CIPFS_BITSWAP_INT_H

/* Internals shared by bitswap.c (peers, streams, lifecycle),
 * bitswap_server.c (answering wants) and bitswap_client.c (our wants).
 * Everything here lives on the host's loop thread. */

#include <uv.h>

#include "bitswap.h"

#define BSW_WANT_BUCKETS 4096
/* What one peer may keep in its wantlist with us (Helia's limit). */
#define BSW_PEER_WANTLIST_MAX 1024
/* A message we send carries blocks up to about this much. */
#define BSW_TARGET_MSG (1024 * 1024)
/* Stop loading blocks for a peer while this much waits to be sent. */
#define BSW_SERVER_HWM (4 * 1024 * 1024)
/* Blocks read from the store per worker job. */
#define BSW_LOOKUP_BATCH 16
/* want-have answered with the block itself up to this size (kubo). */
#define BSW_HAVE_INLINE_MAX 1024
/* A peer that misbehaves this often is disconnected and shunned. */
#define BSW_BAD_LIMIT 8
#define BSW_SHUN_MS (60 * 1000)
/* A peer that answered within this long is in our session. */
#define BSW_SESSION_MS (30 * 1000)
/* An idle outbound stream is closed after this (Helia drops silent
 * inbound streams after 10 s). */
#define BSW_IDLE_MS 5000
#define BSW_TICK_MS 100
#define BSW_RECENT 512
/* Outbound streams per peer, and the queued block bytes that open one
 * more. */
#define BSW_NOUT 4
#define BSW_MORE_STREAMS (1024 * 1024)
/* Inbound streams one peer may hold open (kubo's engine sends from up to
 * 8 workers, a stream a message; we open up to BSW_NOUT), and the unparsed
 * bytes they may buffer together: without these a peer could open a
 * thousand streams, each with a partial 4 MiB message, and hold gigabytes
 * of our memory. A stream past either limit is reset and counts against
 * the peer. */
#define BSW_PEER_INBOUND_MAX 64
#define BSW_PEER_RX_MAX (4 * BITSWAP_MAX_MSG)

enum { BSW_OUT_NONE, BSW_OUT_OPENING, BSW_OUT_OPEN };
enum { BSW_ANS_NONE, BSW_ANS_HAVE, BSW_ANS_DONT_HAVE, BSW_ANS_TIMEOUT };

typedef struct bsw_peer_s bsw_peer_t;

/* An entry of a peer's wantlist with us. */
typedef struct bsw_pwant_s {
  cid_t cid;
  uint8_t want_type;
  bool send_dont_have;
  bool queued;   /* in a blockstore lookup */
  bool answered; /* looked up, not here: wait for it to arrive */
  int32_t priority;
} bsw_pwant_t;

/* A block loaded for a peer, waiting to go out. */
typedef struct bsw_oblock_s {
  cid_t cid;
  uint8_t *data;
  size_t len;
  struct bsw_oblock_s *next;
} bsw_oblock_t;

struct bsw_peer_s {
  bitswap_t *b;
  peerid_t id;
  /* outbound streams: [0] carries our wants and cancels (their order
   * matters) and answers; more carry blocks when many are queued, so one
   * stream's flow-control window does not bound the transfer */
  p2p_stream_t *out[BSW_NOUT];
  int out_state[BSW_NOUT];
  bool flush_soon; /* wants queued, sent by the posted flush */
  int version;
  uint64_t out_used_ms;
  bitswap_entry_t *pend_entries; /* to send */
  size_t npend_entries, cap_entries;
  bitswap_presence_t *pend_pres;
  size_t npend_pres, cap_pres;
  bsw_oblock_t *oblocks, *oblocks_tail;
  size_t oblock_bytes;
  /* server side */
  bsw_pwant_t *wl; /* their wantlist */
  size_t nwl;
  bool lookup_busy;
  unsigned nins;     /* inbound streams open */
  size_t in_bytes;   /* unparsed bytes they buffer */
  bool has_answered; /* some entry waits for a block we lacked */
  /* client side */
  unsigned outstanding; /* our want-blocks awaiting an answer */
  uint64_t session_ms;  /* last HAVE or block from them */
  bool connected;
  bool no_bitswap; /* stream negotiation said no */
  uint64_t shun_until_ms;
  bitswap_ledger_t led;
  struct bsw_peer_s *next;
};

typedef struct bsw_waiter_s {
  bitswap_block_cb cb;
  void *arg;
  struct bsw_waiter_s *next;
} bsw_waiter_t;

/* One peer asked for one want. */
typedef struct bsw_ask_s {
  bsw_peer_t *peer;
  uint8_t type;   /* BITSWAP_WANT_* sent */
  uint8_t answer; /* BSW_ANS_* */
  uint64_t sent_ms;
  struct bsw_ask_s *next;
} bsw_ask_t;

typedef struct bsw_want_s {
  cid_t cid;
  bsw_waiter_t *waiters;
  bsw_ask_t *asks;
  uint64_t created_ms;
  uint64_t broadcast_ms;
  int32_t priority; /* earlier wants higher: a reader needs them first */
  unsigned rounds;
  bool finding; /* a routing query runs */
  struct bsw_want_s *hnext;
  struct bsw_want_s *prev, *next; /* all wants, oldest first */
} bsw_want_t;

/* An inbound stream: varint-delimited messages until EOF. */
typedef struct bsw_in_s {
  bitswap_t *b;
  bsw_peer_t *peer;
  p2p_stream_t *s;
  buf_t rx;
  struct bsw_in_s *prev, *next;
} bsw_in_t;

struct bitswap_s {
  p2p_host_t *h;
  bs_t *bs;
  bitswap_config_t cfg;
  routing_t routing;
  bool has_routing;
  bool flush_posted; /* a flush of wants is queued on the loop */
  uv_timer_t timer;
  bool closing;
  bool stopped; /* bitswap_stop called (its caller's thread) */
  bool timer_closed;
  unsigned inflight; /* worker jobs, dials, routing queries */
  uv_mutex_t mu;     /* guards the shutdown handshake below */
  uv_cond_t cond;
  bool shut_done;
  bsw_peer_t *peers;
  bsw_in_t *ins;
  bsw_want_t *buckets[BSW_WANT_BUCKETS];
  bsw_want_t *wants_head, *wants_tail;
  size_t nwants;
  uint64_t last_refresh_ms;
  uint32_t want_seq;
  /* multihash fingerprints of blocks that arrived lately (duplicates) */
  uint64_t recent[BSW_RECENT];
  size_t recent_pos;
  bitswap_stat_t st;
};

/* bitswap.c */
uint64_t bsw_now(bitswap_t *b);
bsw_peer_t *bsw_peer(bitswap_t *b, const peerid_t *id, bool create);
int bsw_queue_entry(bsw_peer_t *p, const bitswap_entry_t *e);
int bsw_queue_presence(bsw_peer_t *p, const cid_t *cid, int type);
void bsw_queue_block(bsw_peer_t *p, bsw_oblock_t *ob);
void bsw_flush(bsw_peer_t *p);
/* Send p's queued wants once the loop has run the calls already queued
 * (the reader's other wants), so many go in one message. */
void bsw_flush_soon(bsw_peer_t *p);
/* Bytes queued on the peer's outbound streams. */
size_t bsw_out_queued(const bsw_peer_t *p);
/* A peer broke the protocol or lied: score down, drop at the limit. */
void bsw_peer_bad(bsw_peer_t *p, unsigned weight, const char *why);
bool bsw_peer_usable(bitswap_t *b, bsw_peer_t *p);
void bsw_refresh_peers(bitswap_t *b, bool force);
void bsw_job_done(bitswap_t *b);
uint64_t bsw_fingerprint(const cid_t *cid);

/* bitswap_server.c */
void bsw_server_entries(bsw_peer_t *p, const bitswap_msg_t *m);
void bsw_server_pump(bsw_peer_t *p);
void bsw_server_clear(bsw_peer_t *p);
/* A block we lacked arrived (verified): peers whose want of it we answered
 * DONT_HAVE (or not at all) get it, or a HAVE, now, as kubo's engine does
 * for new blocks. */
void bsw_server_arrived(bitswap_t *b, const cid_t *cid, const uint8_t *data,
                        size_t len);

/* bitswap_client.c */
void bsw_client_block(bsw_peer_t *p, const cid_t *cid, const uint8_t *data,
                      size_t len);
void bsw_client_presence(bsw_peer_t *p, const bitswap_presence_t *pr);
void bsw_client_tick(bitswap_t *b);
void bsw_client_peer_new(bitswap_t *b, bsw_peer_t *p);
void bsw_client_peer_gone(bitswap_t *b, bsw_peer_t *p);
void bsw_client_want(bitswap_t *b, const cid_t *cid, bitswap_block_cb cb,
                     void *arg);
void bsw_client_cancel(bitswap_t *b, const cid_t *cid, void *arg);
void bsw_client_shutdown(bitswap_t *b);

#endif
