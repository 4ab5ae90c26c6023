#ifndef CIPFS_IMPORTER_H
#define CIPFS_IMPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block.h"
#include "cid.h"

/* Files and trees -> UnixFS DAGs, byte-for-byte as kubo builds them. */

typedef enum { IMPORTER_CHUNK_SIZE, IMPORTER_CHUNK_BUZHASH } importer_chunker_t;

typedef struct importer_opts_s {
  int cid_version;  /* 0 or 1 */
  bool raw_leaves;  /* kubo: on with v1, off with v0 */
  uint64_t mh_code; /* MH_SHA2_256 */
  importer_chunker_t chunker;
  size_t chunk_size;       /* size-N; 262144 */
  bool trickle;            /* trickle layout instead of balanced */
  size_t max_links;        /* 174 */
  bool hidden;             /* include dot-files in tree imports */
  bool wrap;               /* wrap the result in a directory */
  bool follow_symlinks;    /* kubo stores symlinks as symlinks: false */
  uint64_t hamt_threshold; /* 262144 bytes */
  bool hamt_by_block_size; /* unixfs-v1-2025 measures the encoded block */
  unsigned hamt_fanout;    /* 256 */
  bool preserve_mode;
  bool preserve_mtime;
} importer_opts_t;

/* kubo's defaults (profile unixfs-v0-2015). */
void importer_opts_init(importer_opts_t *o);
/* "unixfs-v0-2015" | "unixfs-v1-2025"; CIPFS_EUSAGE otherwise. */
int importer_opts_profile(importer_opts_t *o, const char *name);
/* "size-N" | "buzhash"; CIPFS_EUSAGE otherwise. */
int importer_opts_chunker(importer_opts_t *o, const char *spec);
/* Apply "--cid-version N" as kubo does (v1 turns raw leaves on unless the
 * user set them explicitly). */
void importer_opts_cid_version(importer_opts_t *o, int version,
                               bool raw_leaves_explicit);
/* Apply "--hash NAME" as kubo does: any hash but sha2-256 needs CIDv1,
 * which is chosen (with raw leaves unless set explicitly) when the user
 * did not ask for a version; an explicit CIDv0 gives CIPFS_EUSAGE. Call it
 * after importer_opts_cid_version(). Unknown names: mh_from_name's error. */
int importer_opts_hash(importer_opts_t *o, const char *name,
                       bool cid_version_explicit, bool raw_leaves_explicit);

/* Streaming file import in constant memory (independent of file size). */
typedef struct importer_file_s importer_file_t;
int importer_file_new(importer_file_t **out, const importer_opts_t *o,
                      const block_putter_t *p);
int importer_file_write(importer_file_t *f, const uint8_t *data, size_t len);
/* size: file bytes; tsize: bytes of the whole DAG (for the parent's link). */
int importer_file_finish(importer_file_t *f, cid_t *cid, uint64_t *size,
                         uint64_t *tsize);
void importer_file_free(importer_file_t *f);
/* Addition: cb for every node written so far that no written node links
 * to yet. Every block the import has stored is reachable from them: what
 * GC must keep while an import runs across calls (a file streamed into the
 * mount). Stops at cb's first non-zero return. */
typedef int (*importer_cid_cb)(void *arg, const cid_t *cid);
int importer_file_pending(const importer_file_t *f, importer_cid_cb cb,
                          void *arg);

/* One directory node; switches to a HAMT shard past the threshold. Used by
 * tree import and by the mount's published tree. Names are copied. */
typedef struct importer_dir_s importer_dir_t;
int importer_dir_new(importer_dir_t **out, const importer_opts_t *o,
                     const block_putter_t *p);
int importer_dir_add(importer_dir_t *d, const char *name, const cid_t *cid,
                     uint64_t tsize);
int importer_dir_finish(importer_dir_t *d, cid_t *cid, uint64_t *tsize);
void importer_dir_free(importer_dir_t *d);

int importer_symlink(const importer_opts_t *o, const block_putter_t *p,
                     const char *target, cid_t *cid, uint64_t *tsize);

/* Whole paths with kubo's rules (sorted entries, dot-files skipped unless
 * hidden, symlinks kept). entry runs for every file and directory added,
 * children before parents, relpath as kubo prints it; progress gets the
 * running total of file bytes read. Either may be NULL.
 * Order as kubo prints it: files and symlinks as they are added, then every
 * directory (post-order), then the wrapping directory with relpath "".
 * size is the entry's cumulative DAG size (kubo's "Size" in --enc=json).
 * A non-zero return from entry stops the import and is returned. */
typedef struct importer_cbs_s {
  int (*entry)(void *arg, const char *relpath, const cid_t *cid, uint64_t size);
  void (*progress)(void *arg, uint64_t bytes);
  void *arg;
} importer_cbs_t;

int importer_add_path(const importer_opts_t *o, const block_putter_t *p,
                      const char *path, const importer_cbs_t *cbs, cid_t *root);
/* A single stream (stdin); name is what entry reports. */
int importer_add_fd(const importer_opts_t *o, const block_putter_t *p, int fd,
                    const char *name, const importer_cbs_t *cbs, cid_t *root);

#endif
