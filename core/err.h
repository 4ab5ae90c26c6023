#ifndef CIPFS_ERR_H
#define CIPFS_ERR_H

#include <errno.h>

/*
 * One project-wide error space. Functions return 0 (or a size) on success
 * and a negative code on failure: either -errno for system errors, or one of
 * the CIPFS_E* codes below, which sit far below any errno value so the two
 * never collide. cipfs_strerror() names both.
 */
#define CIPFS_ERR_MAP(XX)                                                      \
  XX(VARINT, "malformed varint")                                               \
  XX(MBASE, "malformed multibase string")                                      \
  XX(MH, "malformed multihash")                                                \
  XX(CID, "malformed CID")                                                     \
  XX(UNSUPPORTED, "unsupported codec or hash function")                        \
  XX(PB, "malformed protobuf")                                                 \
  XX(DAGPB, "malformed or non-canonical DAG-PB block")                         \
  XX(UNIXFS, "malformed UnixFS data")                                          \
  XX(CAR, "malformed CAR file")                                                \
  XX(CORRUPT, "block does not match its CID")                                  \
  XX(NOTFOUND, "block not found")                                              \
  XX(DB, "database error")                                                     \
  XX(NOREPO, "no cipfs repo found (run 'cipfs init')")                         \
  XX(REPOLOCKED, "repo is in use by another process")                          \
  XX(CONFIG, "invalid config")                                                 \
  XX(PATH, "invalid path")                                                     \
  XX(NOLINK, "no link by that name")                                           \
  XX(NOTDIR, "not a directory")                                                \
  XX(NOTFILE, "not a file")                                                    \
  XX(TOOBIG, "too large")                                                      \
  XX(PINNED, "pinned")                                                         \
  XX(NOTPINNED, "not pinned")                                                  \
  XX(MADDR, "malformed multiaddr")                                             \
  XX(PROTO, "protocol violation")                                              \
  XX(HANDSHAKE, "handshake failed")                                            \
  XX(PEERID, "peer ID mismatch")                                               \
  XX(CLOSED, "closed")                                                         \
  XX(RESET, "stream reset")                                                    \
  XX(LIMIT, "resource limit reached")                                          \
  XX(NOPROTO, "protocol not supported")                                        \
  XX(CRYPTO, "cryptographic failure")                                          \
  XX(SIG, "bad signature")                                                     \
  XX(TIMEOUT, "timed out")                                                     \
  XX(CANCELED, "canceled")                                                     \
  XX(USAGE, "bad usage")                                                       \
  XX(IPLD, "malformed DAG-CBOR or DAG-JSON block")                             \
  XX(IPNS, "invalid IPNS record")                                              \
  XX(EXPIRED, "record expired")

/* -errno values lie in (CIPFS_ERR_BASE, 0); project codes start well below. */
#define CIPFS_ERR_BASE (-4096)

enum {
  CIPFS_OK = 0,
  CIPFS__EFIRST = 2 * CIPFS_ERR_BASE,
#define XX(name, msg) CIPFS_E##name,
  CIPFS_ERR_MAP(XX)
#undef XX
      CIPFS__ELAST
};

/* Never NULL; names -errno values as well as CIPFS_E* codes. */
const char *cipfs_strerror(int err);

/* The positive errno closest in meaning (for FUSE replies and exit codes). */
int cipfs_err_to_errno(int err);

#endif
