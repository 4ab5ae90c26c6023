#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "kv.h"

#include "core/store_tmp.h"

typedef struct fixture_s {
  char *dir;
  kv_t *kv;
} fixture_t;

static int setup(void **state)
{
  fixture_t *f = calloc(1, sizeof(*f));

  if (f == NULL)
    return -1;
  if (store_tmp_open(&f->dir, &f->kv, NULL) != 0) {
    free(f);
    return -1;
  }
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  fixture_t *f = *state;

  store_tmp_close(f->dir, f->kv, NULL);
  free(f);
  return 0;
}

static void assert_value(kv_t *kv, const char *key, const char *want)
{
  uint8_t *v = NULL;
  size_t n = 0;

  assert_int_equal(kv_get(kv, key, strlen(key), &v, &n), 0);
  assert_int_equal(n, strlen(want));
  assert_memory_equal(v, want, n);
  free(v);
}

static void test_put_get_delete(void **state)
{
  fixture_t *f = *state;
  uint8_t *v = (uint8_t *)"sentinel";
  size_t n = 99;

  assert_int_equal(kv_get(f->kv, "k1", 2, &v, &n), CIPFS_ENOTFOUND);
  assert_null(v);
  assert_int_equal(n, 0);
  assert_int_equal(kv_has(f->kv, "k1", 2), 0);

  assert_int_equal(kv_put(f->kv, "k1", 2, "hello", 5, false), 0);
  assert_int_equal(kv_has(f->kv, "k1", 2), 1);
  assert_value(f->kv, "k1", "hello");

  /* Overwrite, empty value, binary key with a NUL. */
  assert_int_equal(kv_put(f->kv, "k1", 2, "bye", 3, true), 0);
  assert_value(f->kv, "k1", "bye");
  assert_int_equal(kv_put(f->kv, "a\0b", 3, "", 0, false), 0);
  assert_int_equal(kv_get(f->kv, "a\0b", 3, &v, &n), 0);
  assert_non_null(v);
  assert_int_equal(n, 0);
  free(v);
  assert_int_equal(kv_has(f->kv, "a", 1), 0);

  assert_int_equal(kv_delete(f->kv, "k1", 2, false), 0);
  assert_int_equal(kv_has(f->kv, "k1", 2), 0);
  /* Deleting what is absent is not an error (LevelDB semantics). */
  assert_int_equal(kv_delete(f->kv, "nope", 4, true), 0);
}

static void test_large_value(void **state)
{
  fixture_t *f = *state;
  size_t len = 2 * 1024 * 1024;
  uint8_t *big = malloc(len);
  uint8_t *v;
  size_t n;

  assert_non_null(big);
  for (size_t i = 0; i < len; i++)
    big[i] = (uint8_t)(i * 2654435761u >> 13);
  assert_int_equal(kv_put(f->kv, "big", 3, big, len, false), 0);
  assert_int_equal(kv_get(f->kv, "big", 3, &v, &n), 0);
  assert_int_equal(n, len);
  assert_memory_equal(v, big, len);
  free(v);
  free(big);
}

static void test_batch(void **state)
{
  fixture_t *f = *state;
  kv_batch_t *b;

  assert_int_equal(kv_put(f->kv, "old", 3, "x", 1, false), 0);
  b = kv_batch_new();
  assert_non_null(b);
  kv_batch_put(b, "n1", 2, "one", 3);
  kv_batch_put(b, "n2", 2, "two", 3);
  kv_batch_delete(b, "old", 3);
  /* Nothing is visible before the commit. */
  assert_int_equal(kv_has(f->kv, "n1", 2), 0);
  assert_int_equal(kv_has(f->kv, "old", 3), 1);
  assert_int_equal(kv_batch_commit(f->kv, b, true), 0);
  assert_value(f->kv, "n1", "one");
  assert_value(f->kv, "n2", "two");
  assert_int_equal(kv_has(f->kv, "old", 3), 0);

  /* A committed batch is empty again and can be reused. */
  kv_batch_put(b, "n3", 2, "three", 5);
  assert_int_equal(kv_batch_commit(f->kv, b, false), 0);
  assert_value(f->kv, "n3", "three");
  assert_value(f->kv, "n1", "one");

  /* A batch freed without commit leaves no trace. */
  kv_batch_put(b, "n4", 2, "four", 4);
  kv_batch_delete(b, "n1", 2);
  kv_batch_free(b);
  assert_int_equal(kv_has(f->kv, "n4", 2), 0);
  assert_int_equal(kv_has(f->kv, "n1", 2), 1);
  kv_batch_free(NULL);
}

static int collect(kv_iter_t *it, char out[][8], int max)
{
  const uint8_t *k, *v;
  size_t kl, vl;
  int n = 0, rc;

  while ((rc = kv_iter_next(it, &k, &kl, &v, &vl)) == 1) {
    assert_true(n < max);
    assert_true(kl < 8);
    memcpy(out[n], k, kl);
    out[n][kl] = '\0';
    /* Values are the key upper-cased, to check they travel with keys. */
    assert_int_equal(vl, 1);
    assert_int_equal(v[0], k[kl - 1] - 'a' + 'A');
    n++;
  }
  assert_int_equal(rc, 0);
  return n;
}

static void test_iter_prefix(void **state)
{
  fixture_t *f = *state;
  const char *keys[] = {"a/x", "b/c", "b/a", "b", "b0a", "c/a", "b/b"};
  char got[8][8];
  kv_iter_t *it;
  char up;

  for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
    up = keys[i][strlen(keys[i]) - 1] - 'a' + 'A';
    assert_int_equal(kv_put(f->kv, keys[i], strlen(keys[i]), &up, 1, false), 0);
  }
  assert_int_equal(kv_iter_new(&it, f->kv, "b/", 2), 0);
  assert_int_equal(collect(it, got, 8), 3);
  assert_string_equal(got[0], "b/a");
  assert_string_equal(got[1], "b/b");
  assert_string_equal(got[2], "b/c");
  /* Past the end it stays at the end. */
  assert_int_equal(kv_iter_next(it, NULL, NULL, NULL, NULL), 0);
  kv_iter_free(it);

  /* Deleting while iterating is safe: the iterator sees a snapshot. */
  assert_int_equal(kv_iter_new(&it, f->kv, "b/", 2), 0);
  assert_int_equal(kv_delete(f->kv, "b/b", 3, false), 0);
  assert_int_equal(collect(it, got, 8), 3);
  kv_iter_free(it);

  assert_int_equal(kv_iter_new(&it, f->kv, "zz", 2), 0);
  assert_int_equal(collect(it, got, 8), 0);
  kv_iter_free(it);

  /* The empty prefix is everything. */
  assert_int_equal(kv_iter_new(&it, f->kv, "", 0), 0);
  assert_int_equal(collect(it, got, 8), 6);
  assert_string_equal(got[0], "a/x");
  assert_string_equal(got[5], "c/a");
  kv_iter_free(it);
  kv_iter_free(NULL);
}

static void test_approx_size_and_reopen(void **state)
{
  fixture_t *f = *state;
  uint8_t val[4096];
  char key[16];
  uint64_t sz = 1;

  memset(val, 0x5a, sizeof(val));
  for (int i = 0; i < 256; i++) {
    snprintf(key, sizeof(key), "s/%04d", i);
    assert_int_equal(kv_put(f->kv, key, strlen(key), val, sizeof(val), false),
                     0);
  }
  assert_int_equal(kv_approx_size(f->kv, "s/", 2, &sz), 0);
  assert_int_equal(kv_approx_size(f->kv, "\xff\xff", 2, &sz), 0);
  assert_int_equal(sz, 0);

  /* Data survives close/open, and the sstables written on the way are
   * counted by the size estimate. */
  kv_close(f->kv);
  f->kv = NULL;
  assert_int_equal(kv_open(&f->kv, f->dir), 0);
  assert_int_equal(kv_has(f->kv, "s/0255", 6), 1);
  assert_int_equal(kv_approx_size(f->kv, "s/", 2, &sz), 0);
  assert_true(sz > 0);
}

static void test_open_errors(void **state)
{
  fixture_t *f = *state;
  char path[4096];
  kv_t *kv = (kv_t *)1;
  FILE *fp;

  /* The same database twice: LevelDB's own LOCK refuses. */
  assert_int_equal(kv_open(&kv, f->dir), CIPFS_EDB);
  assert_null(kv);

  /* A regular file where the directory should be. */
  snprintf(path, sizeof(path), "%s/file", f->dir);
  fp = fopen(path, "w");
  assert_non_null(fp);
  fclose(fp);
  assert_int_equal(kv_open(&kv, path), CIPFS_EDB);
  assert_null(kv);
  kv_close(NULL);
}

/* Fill a 1 MiB tmpfs in a private mount namespace until LevelDB fails, and
 * check the failure is reported as -ENOSPC and the failed batch left
 * nothing behind. Runs in a child so the namespace dies with it. */
static int enospc_child(const char *dir)
{
  char mnt[4096];
  uint8_t *val;
  kv_t *kv;
  int rc = 0;

  if (unshare(CLONE_NEWNS) != 0 && unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
    return 77;
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    return 77;
  snprintf(mnt, sizeof(mnt), "%s/small", dir);
  if (mkdir(mnt, 0700) != 0)
    return 1;
  if (mount("tmpfs", mnt, "tmpfs", 0, "size=1m") != 0)
    return 77;
  val = malloc(64 * 1024);
  if (val == NULL || kv_open(&kv, mnt) != 0)
    return 2;
  memset(val, 0xa5, 64 * 1024);
  for (int i = 0; i < 64 && rc == 0; i++) {
    kv_batch_t *b = kv_batch_new();
    char key[32];

    snprintf(key, sizeof(key), "first%02d", i);
    kv_batch_put(b, key, strlen(key), "x", 1);
    for (int j = 0; j < 4; j++) {
      snprintf(key, sizeof(key), "k%02d-%d", i, j);
      kv_batch_put(b, key, strlen(key), val, 64 * 1024);
    }
    rc = kv_batch_commit(kv, b, true);
    kv_batch_free(b);
    if (rc != 0) {
      snprintf(key, sizeof(key), "first%02d", i);
      if (kv_has(kv, key, strlen(key)) != 0)
        rc = 3;
    }
  }
  kv_close(kv);
  free(val);
  umount(mnt);
  if (rc == -ENOSPC)
    return 0;
  return rc == 3 ? 3 : 4;
}

static void test_disk_full(void **state)
{
  fixture_t *f = *state;
  int status;
  pid_t pid;

  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0)
    _exit(enospc_child(f->dir));
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77)
    skip();
  assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_put_get_delete, setup, teardown),
      cmocka_unit_test_setup_teardown(test_large_value, setup, teardown),
      cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_iter_prefix, setup, teardown),
      cmocka_unit_test_setup_teardown(test_approx_size_and_reopen, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_disk_full, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
