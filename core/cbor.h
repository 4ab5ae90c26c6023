#ifndef CIPFS_CBOR_H
#define CIPFS_CBOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * DAG-CBOR, the little that CAR headers, DAG-CBOR links and IPNS record
 * data need: item heads, strings and skipping whole items. The reader
 * allocates nothing and points into the caller's bytes.
 */
#define CBOR_UINT 0
#define CBOR_NEGINT 1
#define CBOR_BYTES 2
#define CBOR_TEXT 3
#define CBOR_ARRAY 4
#define CBOR_MAP 5
#define CBOR_TAG 6
#define CBOR_SIMPLE 7

#define CBOR_TAG_CID 42

typedef struct cbor_rd_s {
  const uint8_t *p;
  size_t len, pos;
  /* Refuse heads not in their shortest form, as DAG-CBOR requires. Off
   * where only some of the data is wanted and a stricter decoder is not
   * ours to be. */
  bool minimal;
} cbor_rd_t;

void cbor_rd_init(cbor_rd_t *c, const uint8_t *p, size_t len, bool minimal);
/* One item head: its major type and argument (a length, count, tag or
 * integer). Indefinite lengths, which DAG-CBOR forbids, reserved values
 * and truncation give CIPFS_EIPLD. */
int cbor_head(cbor_rd_t *c, unsigned *major, uint64_t *v);
/* A head of the given major type, else CIPFS_EIPLD. */
int cbor_expect(cbor_rd_t *c, unsigned major, uint64_t *v);
/* A byte or text string of the given major type: *s points at it. */
int cbor_string(cbor_rd_t *c, unsigned major, const uint8_t **s, size_t *len);
/* Skip one whole item, however deeply nested (no recursion). When tag is
 * not NULL, it runs at every tag 42 with the reader on the tagged item,
 * which it must consume; a non-zero return stops the walk with it. */
typedef int (*cbor_cid_cb)(cbor_rd_t *c, void *arg);
int cbor_skip(cbor_rd_t *c, cbor_cid_cb tag, void *arg);

/* Writers append a head in its shortest form, or a whole byte or text
 * string; 0 or -ENOMEM. */
int cbor_put_head(buf_t *b, unsigned major, uint64_t v);
int cbor_put_string(buf_t *b, unsigned major, const void *s, size_t len);

#endif
