/* ipns_check NAME RECORD-HEX: runs ipns_record_check on a record for a
 * name (a peer ID) and prints "ok" or why not; exit 0 or 1. Lets the
 * interop test feed it records made by independent code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "ipns.h"
#include "peerid.h"

int main(int argc, char **argv)
{
  static uint8_t rec[2 * IPNS_RECORD_MAX];
  peerid_t id;
  size_t n, i;
  int rc;

  if (argc != 3 || peerid_parse(&id, argv[1]) < 0 ||
      (n = strlen(argv[2])) % 2 != 0 || n / 2 > sizeof(rec)) {
    fprintf(stderr, "usage: ipns_check PEERID RECORD-HEX\n");
    return 2;
  }
  for (i = 0; i < n / 2; i++) {
    unsigned v;
    if (sscanf(argv[2] + 2 * i, "%2x", &v) != 1)
      return 2;
    rec[i] = (uint8_t)v;
  }
  rc = ipns_record_check(id.mh, id.len, rec, n / 2, (int64_t)time(NULL), NULL);
  printf("%s\n", rc == 0 ? "ok" : cipfs_strerror(rc));
  return rc == 0 ? 0 : 1;
}
