#ifndef CIPFS_TESTS_STORE_TMP_H
#define CIPFS_TESTS_STORE_TMP_H

/* Temp directories for the storage tests: made under $TMPDIR (or /tmp) and
 * removed with everything in them, also when an assertion failed (cmocka
 * runs teardown functions either way). Plus a LevelDB and blockstore in
 * one, the fixture most storage and network tests start from. */

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bs.h"
#include "kv.h"

static int store_tmp_rm_cb(const char *path, const struct stat *st, int flag,
                           struct FTW *ftw)
{
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* Returns a malloc'd path of a fresh directory, or NULL. */
static inline char *store_tmp_new(void)
{
  const char *base = getenv("TMPDIR");
  char tmpl[PATH_MAX];

  if (base == NULL || *base == '\0')
    base = "/tmp";
  snprintf(tmpl, sizeof(tmpl), "%s/cipfs-test-XXXXXX", base);
  if (mkdtemp(tmpl) == NULL)
    return NULL;
  return strdup(tmpl);
}

static inline void store_tmp_free(char *dir)
{
  if (dir == NULL)
    return;
  nftw(dir, store_tmp_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
  free(dir);
}

/* Opens a LevelDB in a fresh temp directory and, when bs is not NULL, a
 * blockstore on it; the caller owns all three (store_tmp_close). 0, or the
 * failing call's negative code with nothing left behind (all set NULL). */
static inline int store_tmp_open(char **dir, kv_t **kv, bs_t **bs)
{
  int rc;

  *kv = NULL;
  if (bs != NULL)
    *bs = NULL;
  *dir = store_tmp_new();
  if (*dir == NULL)
    return errno != 0 ? -errno : -ENOMEM;
  rc = kv_open(kv, *dir);
  if (rc != 0)
    goto fail_dir;
  if (bs != NULL) {
    rc = bs_new(bs, *kv);
    if (rc != 0)
      goto fail_kv;
  }
  return 0;

fail_kv:
  kv_close(*kv);
  *kv = NULL;
fail_dir:
  store_tmp_free(*dir);
  *dir = NULL;
  return rc;
}

/* Closes what store_tmp_open opened and removes the directory; each of
 * them may be NULL. */
static inline void store_tmp_close(char *dir, kv_t *kv, bs_t *bs)
{
  bs_free(bs);
  kv_close(kv);
  store_tmp_free(dir);
}

#endif
