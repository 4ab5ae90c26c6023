#include "repo.h"

#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"

/* Bumped when the datastore layout changes incompatibly. */
#define REPO_VERSION "1"

static int repo_join(char *out, size_t cap, const char *dir, const char *name)
{
  if ((size_t)snprintf(out, cap, "%s/%s", dir, name) >= cap)
    return -ENAMETOOLONG;
  return 0;
}

int repo_default_path(char *out, size_t cap)
{
  const char *env = getenv("CIPFS_PATH");
  const char *home;

  if (env != NULL && *env != '\0') {
    if ((size_t)snprintf(out, cap, "%s", env) >= cap)
      return -ENAMETOOLONG;
    return 0;
  }
  home = getenv("HOME");
  if (home == NULL || *home == '\0')
    return CIPFS_ENOREPO;
  return repo_join(out, cap, home, ".cipfs");
}

/* mkdir -p, the last component with mode. */
static int repo_mkdirs(const char *path, mode_t mode)
{
  char tmp[PATH_MAX];
  size_t len = strlen(path);

  if (len == 0 || len >= sizeof(tmp))
    return -ENAMETOOLONG;
  memcpy(tmp, path, len + 1);
  for (char *p = tmp + 1; *p != '\0'; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
      return -errno;
    *p = '/';
  }
  if (mkdir(tmp, mode) != 0 && errno != EEXIST)
    return -errno;
  return 0;
}

static int repo_write_file(const char *file, const char *text, mode_t mode)
{
  size_t len = strlen(text);
  int fd, rc = 0;

  fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return -errno;
  if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0)
    rc = errno != 0 ? -errno : -EIO;
  if (close(fd) != 0 && rc == 0)
    rc = -errno;
  return rc;
}

/* kubo stores Identity.PrivKey as standard base64 of the PrivateKey
 * protobuf. */
static int repo_b64_encode(const uint8_t *in, size_t len, char **out)
{
  char *s = malloc(4 * ((len + 2) / 3) + 1);

  *out = NULL;
  if (s == NULL)
    return -ENOMEM;
  EVP_EncodeBlock((unsigned char *)s, in, (int)len);
  *out = s;
  return 0;
}

static int repo_b64_decode(const char *in, uint8_t **out, size_t *outlen)
{
  size_t len = strlen(in);
  size_t pad = 0;
  uint8_t *buf;
  int n;

  *out = NULL;
  if (len == 0 || len % 4 != 0 || len > 64 * 1024)
    return CIPFS_ECONFIG;
  buf = malloc(len / 4 * 3 + 1);
  if (buf == NULL)
    return -ENOMEM;
  n = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)len);
  if (n < 0) {
    free(buf);
    return CIPFS_ECONFIG;
  }
  /* EVP_DecodeBlock counts the padding as zero bytes. */
  if (in[len - 1] == '=')
    pad++;
  if (in[len - 2] == '=')
    pad++;
  *out = buf;
  *outlen = (size_t)n - pad;
  return 0;
}

/* A fresh Ed25519 identity as the two config strings. */
static int repo_new_identity(char *peer_id, size_t idcap, char **priv_b64)
{
  key_t *key = NULL;
  peerid_t id;
  buf_t pub, priv;
  ssize_t n;
  int rc;

  buf_init(&pub);
  buf_init(&priv);
  rc = key_generate_ed25519(&key);
  if (rc != 0)
    goto out;
  rc = key_public_pb(key, &pub);
  if (rc == 0)
    rc = key_private_pb(key, &priv);
  if (rc == 0)
    rc = peerid_from_pubkey(&id, pub.data, pub.len);
  if (rc != 0)
    goto out;
  n = peerid_format(&id, peer_id, idcap);
  if (n < 0) {
    rc = (int)n;
    goto out;
  }
  rc = repo_b64_encode(priv.data, priv.len, priv_b64);

out:
  /* The private key bytes do not linger in freed memory. */
  if (priv.data != NULL)
    OPENSSL_cleanse(priv.data, priv.cap);
  buf_cleanup(&priv);
  buf_cleanup(&pub);
  key_free(key);
  return rc;
}

/*
 * A full disk must not lock the user out of their repo. LevelDB writes a
 * new MANIFEST every time it opens, so even a read-only command needs a
 * little free space; after an import that ran the disk full there is none,
 * and the log holding the failed write (which the next open would delete)
 * keeps it full. So the repo holds this much space in a file: when opening
 * fails for want of space, the file is given back and the open retried,
 * and the reserve is made again, if there is room, once the open has
 * dropped LevelDB's obsolete files.
 */
#define REPO_RESERVE_BYTES (1 << 20)
#define REPO_RESERVE_FILE "reserve"

/* Best effort: a missing reserve only costs the safety margin. It is only
 * taken back while the disk has room to spare; on a nearly full disk the
 * space is better left to the command that is about to run (a "repo gc"
 * needs to write its deletions). */
static void repo_reserve_make(const char *path)
{
  char file[PATH_MAX];
  struct statvfs vfs;
  int fd;

  if (repo_join(file, sizeof(file), path, REPO_RESERVE_FILE) != 0)
    return;
  if (access(file, F_OK) == 0)
    return;
  if (statvfs(path, &vfs) != 0 ||
      (uint64_t)vfs.f_bavail * vfs.f_frsize < 2ull * REPO_RESERVE_BYTES)
    return;
  fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return;
  /* Allocated blocks, not a sparse file: the space must really be held. */
  if (posix_fallocate(fd, 0, REPO_RESERVE_BYTES) != 0) {
    close(fd);
    unlink(file);
    return;
  }
  close(fd);
}

/* 1 if a reserve was there and is now free space, else 0. */
static int repo_reserve_release(const char *path)
{
  char file[PATH_MAX];

  if (repo_join(file, sizeof(file), path, REPO_RESERVE_FILE) != 0)
    return 0;
  return unlink(file) == 0;
}

static int repo_open_kv(repo_t *r, const char *path)
{
  char file[PATH_MAX];
  int rc;

  rc = repo_join(file, sizeof(file), path, "datastore");
  if (rc != 0)
    return rc;
  rc = kv_open(&r->kv, file);
  if (rc == -ENOSPC && repo_reserve_release(path))
    rc = kv_open(&r->kv, file);
  if (rc == 0)
    repo_reserve_make(path);
  return rc;
}

int repo_init(const char *path)
{
  char file[PATH_MAX], peer_id[PEERID_MAX_STR];
  char *priv_b64 = NULL;
  cfg_t *cfg = NULL;
  kv_t *kv = NULL;
  struct stat st;
  int rc;

  rc = repo_join(file, sizeof(file), path, "config");
  if (rc != 0)
    return rc;
  if (stat(file, &st) == 0)
    return -EEXIST;
  rc = repo_mkdirs(path, 0700);
  if (rc != 0)
    return rc;
  rc = repo_join(file, sizeof(file), path, "datastore");
  if (rc == 0)
    rc = kv_open(&kv, file);
  if (rc != 0)
    return rc;
  kv_close(kv);
  repo_reserve_make(path);
  rc = repo_join(file, sizeof(file), path, "version");
  if (rc == 0)
    rc = repo_write_file(file, REPO_VERSION "\n", 0600);
  if (rc != 0)
    return rc;

  rc = repo_new_identity(peer_id, sizeof(peer_id), &priv_b64);
  if (rc == 0)
    rc = cfg_new_default(&cfg);
  if (rc == 0)
    rc = cfg_set_identity(cfg, peer_id, priv_b64);
  /* The config goes last: its presence is what marks a complete repo. */
  if (rc == 0)
    rc = repo_join(file, sizeof(file), path, "config");
  if (rc == 0)
    rc = cfg_save(cfg, file);
  cfg_free(cfg);
  if (priv_b64 != NULL)
    OPENSSL_cleanse(priv_b64, strlen(priv_b64));
  free(priv_b64);
  return rc;
}

static int repo_check_version(const char *path)
{
  char file[PATH_MAX], text[16];
  ssize_t n;
  int fd, rc;

  rc = repo_join(file, sizeof(file), path, "version");
  if (rc != 0)
    return rc;
  fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? CIPFS_ENOREPO : -errno;
  n = read(fd, text, sizeof(text) - 1);
  close(fd);
  if (n < 0)
    return -EIO;
  text[n] = '\0';
  text[strcspn(text, "\r\n")] = '\0';
  return strcmp(text, REPO_VERSION) == 0 ? 0 : CIPFS_EUNSUPPORTED;
}

/* Load the key from the config and check it is the PeerID's. */
static int repo_load_identity(repo_t *r, char *err, size_t errlen)
{
  const char *id_str, *sk_str;
  uint8_t *sk = NULL;
  size_t sklen = 0;
  peerid_t derived;
  buf_t pub;
  int rc;

  buf_init(&pub);
  if (cfg_get_str(r->cfg, "Identity.PeerID", &id_str) != 0 ||
      cfg_get_str(r->cfg, "Identity.PrivKey", &sk_str) != 0 ||
      peerid_parse(&r->id, id_str) != 0) {
    rc = CIPFS_ECONFIG;
    snprintf(err, errlen, "config: Identity.PeerID is not a peer ID");
    goto out;
  }
  rc = repo_b64_decode(sk_str, &sk, &sklen);
  if (rc == 0)
    rc = key_from_private_pb(&r->key, sk, sklen);
  if (rc != 0) {
    snprintf(err, errlen, "config: Identity.PrivKey is not a private key");
    rc = CIPFS_ECONFIG;
    goto out;
  }
  rc = key_public_pb(r->key, &pub);
  if (rc == 0)
    rc = peerid_from_pubkey(&derived, pub.data, pub.len);
  if (rc == 0 && !peerid_equal(&derived, &r->id)) {
    snprintf(err, errlen,
             "config: Identity.PeerID does not match Identity.PrivKey");
    rc = CIPFS_ECONFIG;
  }

out:
  if (sk != NULL)
    OPENSSL_cleanse(sk, sklen);
  free(sk);
  buf_cleanup(&pub);
  return rc;
}

static int repo_lock(repo_t *r)
{
  char file[PATH_MAX];
  int rc;

  rc = repo_join(file, sizeof(file), r->path, "repo.lock");
  if (rc != 0)
    return rc;
  r->lock_fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (r->lock_fd < 0)
    return -errno;
  /* flock, not fcntl: the lock belongs to this open file, so a second
   * repo_open in the same process is refused too, and it goes away with
   * the process however it ends. */
  if (flock(r->lock_fd, LOCK_EX | LOCK_NB) != 0)
    return errno == EWOULDBLOCK ? CIPFS_EREPOLOCKED : -errno;
  return 0;
}

int repo_open_err(repo_t **out, const char *path, char *err, size_t errlen)
{
  char file[PATH_MAX], dummy[8];
  struct stat st;
  repo_t *r;
  int rc;

  *out = NULL;
  if (err == NULL || errlen == 0) {
    err = dummy;
    errlen = sizeof(dummy);
  }
  err[0] = '\0';
  rc = repo_join(file, sizeof(file), path, "config");
  if (rc != 0)
    return rc;
  if (stat(file, &st) != 0)
    return errno == ENOENT || errno == ENOTDIR ? CIPFS_ENOREPO : -errno;
  r = calloc(1, sizeof(*r));
  if (r == NULL)
    return -ENOMEM;
  r->lock_fd = -1;
  pthread_rwlock_init(&r->gc_lock, NULL);
  r->path = strdup(path);
  if (r->path == NULL) {
    rc = -ENOMEM;
    goto fail;
  }
  rc = repo_lock(r);
  if (rc == 0)
    rc = repo_check_version(path);
  if (rc != 0)
    goto fail;
  rc = cfg_load_err(&r->cfg, file, err, errlen);
  if (rc != 0)
    goto fail;
  rc = repo_load_identity(r, err, errlen);
  if (rc != 0)
    goto fail;
  rc = repo_open_kv(r, path);
  if (rc == 0)
    rc = repo_join(file, sizeof(file), path, "blocks");
  if (rc == 0)
    rc = bs_new_dir(&r->bs, r->kv, file);
  if (rc != 0)
    goto fail;
  *out = r;
  return 0;

fail:
  repo_close(r);
  return rc;
}

int repo_open(repo_t **out, const char *path)
{
  return repo_open_err(out, path, NULL, 0);
}

int repo_save_config(repo_t *r)
{
  char file[PATH_MAX];
  int rc;

  rc = repo_join(file, sizeof(file), r->path, "config");
  if (rc != 0)
    return rc;
  return cfg_save(r->cfg, file);
}

void repo_close(repo_t *r)
{
  if (r == NULL)
    return;
  bs_free(r->bs);
  kv_close(r->kv);
  cfg_free(r->cfg);
  key_free(r->key);
  /* Closing the descriptor releases the flock. */
  if (r->lock_fd >= 0)
    close(r->lock_fd);
  pthread_rwlock_destroy(&r->gc_lock);
  free(r->path);
  free(r);
}

void repo_gc_lock_shared(repo_t *r)
{
  pthread_rwlock_rdlock(&r->gc_lock);
}

int repo_gc_lock_exclusive(repo_t *r)
{
  int rc = 0;
  pthread_rwlock_wrlock(&r->gc_lock);
  if (r->gc_prepare != NULL)
    rc = r->gc_prepare(r->gc_prepare_arg);
  if (rc != 0)
    pthread_rwlock_unlock(&r->gc_lock);
  return rc;
}

void repo_gc_unlock(repo_t *r)
{
  pthread_rwlock_unlock(&r->gc_lock);
}

void repo_set_gc_prepare(repo_t *r, int (*cb)(void *arg), void *arg)
{
  r->gc_prepare = cb;
  r->gc_prepare_arg = arg;
}

void repo_set_gc_roots(repo_t *r, repo_gc_roots_fn fn, void *arg)
{
  r->gc_roots = fn;
  r->gc_roots_arg = arg;
}

int repo_gc_extra_roots(repo_t *r, cid_t **roots, size_t *n)
{
  cid_list_t l = {NULL, 0, 0};
  int rc = r->gc_roots ? r->gc_roots(r->gc_roots_arg, cid_list_push, &l) : 0;

  if (rc != 0) {
    free(l.v);
    l.v = NULL;
    l.n = 0;
  }
  *roots = l.v;
  *n = l.n;
  return rc;
}
