#include "node.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "memtrim.h"

#define FLUSH_DELAY_MS 500
/* Idle this many flusher ticks (3 s) before giving memory back. */
#define TRIM_IDLE_TICKS 6
/* What the block cache keeps when idle (directory shards, inner nodes). */
#define IDLE_CACHE_BYTES (2 * 1024 * 1024)
#define IMPORT_CHUNK (1024 * 1024)

/* "30s", "500ms", "2m", "1h" or a bare number of milliseconds. */
static long parse_duration_ms(const char *s)
{
  char *end;
  double v = strtod(s, &end);
  if (end == s || v < 0)
    return -1;
  if (*end == '\0' || strcmp(end, "ms") == 0)
    return (long)v;
  if (strcmp(end, "s") == 0)
    return (long)(v * 1000);
  if (strcmp(end, "m") == 0)
    return (long)(v * 60000);
  if (strcmp(end, "h") == 0)
    return (long)(v * 3600000);
  return -1;
}

unsigned node_fetch_timeout_ms(const cfg_t *cfg)
{
  int64_t v;
  const char *s;
  long ms = 30000;
  if (cfg_get_int(cfg, "Cipfs.FetchTimeout", &v) == 0 && v > 0)
    ms = (long)v;
  else if (cfg_get_str(cfg, "Cipfs.FetchTimeout", &s) == 0 &&
           parse_duration_ms(s) > 0)
    ms = parse_duration_ms(s);
  if (ms > 24L * 3600 * 1000)
    ms = 24L * 3600 * 1000;
  return (unsigned)ms;
}

static void vlog(node_t *n, const char *fmt, va_list ap)
{
  struct timespec ts;
  struct tm tm;
  char stamp[32];
  clock_gettime(CLOCK_REALTIME, &ts);
  localtime_r(&ts.tv_sec, &tm);
  strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
  /* One write per line: the log is often unbuffered stderr sharing a file
   * with stdout, where piecewise writes would split other output's lines. */
  char line[1024];
  int k = snprintf(line, sizeof(line), "cipfs %s.%03ld: ", stamp,
                   ts.tv_nsec / 1000000);
  size_t len = (size_t)k;
  int m = vsnprintf(line + len, sizeof(line) - len - 1, fmt, ap);
  if (m > 0)
    len +=
        (size_t)m < sizeof(line) - len - 1 ? (size_t)m : sizeof(line) - len - 2;
  line[len++] = '\n';
  pthread_mutex_lock(&n->log_lock);
  fwrite(line, 1, len, n->log);
  fflush(n->log);
  pthread_mutex_unlock(&n->log_lock);
}

void node_log(node_t *n, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vlog(n, fmt, ap);
  va_end(ap);
}

void node_debug(node_t *n, const char *fmt, ...)
{
  va_list ap;
  if (!n->verbose)
    return;
  va_start(ap, fmt);
  vlog(n, fmt, ap);
  va_end(ap);
}

static void fetch_log(void *arg, const char *msg)
{
  node_log(arg, "%s", msg);
}

static void *flusher(void *arg)
{
  node_t *n = arg;
  struct timespec dl;
  memtrim_t trim = {0, 0, 0};
  pthread_mutex_lock(&n->flock);
  while (!n->stop) {
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_nsec += FLUSH_DELAY_MS * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
      dl.tv_sec++;
      dl.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&n->fcond, &n->flock, &dl);
    if (n->stop)
      break;
    pthread_mutex_unlock(&n->flock);
    if (mfs_is_dirty(n->mfs)) {
      cid_t root;
      char s[CID_MAX_STR];
      int rc = mfs_root_cid(n->mfs, &root);
      if (rc < 0)
        node_log(n, "publishing the tree failed: %s", cipfs_strerror(rc));
      else
        node_debug(n, "published tree root %s", cid_str(&root, s));
    }
    if (memtrim_tick(&trim, TRIM_IDLE_TICKS)) {
      kv_flush_memtable(n->repo->kv);
      fetch_trim(n->fetch, IDLE_CACHE_BYTES);
      pthread_mutex_lock(&n->flock);
      void (*idle)(void *) = n->on_idle;
      void *idle_arg = n->on_idle_arg;
      pthread_mutex_unlock(&n->flock);
      if (idle)
        idle(idle_arg);
      memtrim_now();
      memtrim_done(&trim);
      node_debug(n, "idle: memory trimmed");
    }
    pthread_mutex_lock(&n->flock);
  }
  pthread_mutex_unlock(&n->flock);
  return NULL;
}

void node_set_idle_hook(node_t *n, void (*fn)(void *), void *arg)
{
  pthread_mutex_lock(&n->flock);
  n->on_idle = fn;
  n->on_idle_arg = arg;
  pthread_mutex_unlock(&n->flock);
}

void node_tree_changed(node_t *n)
{
  (void)n; /* the flusher polls mfs_is_dirty(); nothing to wake */
}

/* Files left by a node that was killed while a copy was open. Staging
 * files are unlinked as soon as they are made, so this only finds strays
 * of a crash between mkstemp and unlink. */
static int clean_staging(node_t *n)
{
  DIR *d;
  struct dirent *de;
  if (mkdir(n->staging, 0700) < 0 && errno != EEXIST)
    return -errno;
  d = opendir(n->staging);
  if (d == NULL)
    return -errno;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    if (unlinkat(dirfd(d), de->d_name, 0) == 0)
      node_log(n, "removed stale staging file %s", de->d_name);
  }
  closedir(d);
  return 0;
}

int node_stage_fd(node_t *n, int *fd)
{
  size_t len = strlen(n->staging) + 16;
  char *path = malloc(len);
  if (path == NULL)
    return -ENOMEM;
  snprintf(path, len, "%s/w.XXXXXX", n->staging);
  int f = mkostemp(path, O_CLOEXEC);
  int rc = f < 0 ? -errno : 0;
  if (f >= 0)
    unlink(path);
  free(path);
  *fd = f;
  return rc;
}

int node_import_fd(node_t *n, int fd, cid_t *cid, uint64_t *size,
                   uint64_t *tsize)
{
  importer_file_t *imp;
  uint8_t *buf = malloc(IMPORT_CHUNK);
  off_t off = 0;
  int rc;

  if (buf == NULL)
    return -ENOMEM;
  rc = importer_file_new(&imp, &n->iopts, &n->put);
  if (rc < 0)
    goto out_buf;
  for (;;) {
    ssize_t r = pread(fd, buf, IMPORT_CHUNK, off);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      rc = -errno;
      goto out;
    }
    if (r == 0)
      break;
    rc = importer_file_write(imp, buf, (size_t)r);
    if (rc < 0)
      goto out;
    off += r;
  }
  rc = importer_file_finish(imp, cid, size, tsize);
out:
  importer_file_free(imp);
out_buf:
  free(buf);
  return rc;
}

static int empty_file(node_t *n)
{
  importer_file_t *imp;
  uint64_t size;
  int rc = importer_file_new(&imp, &n->iopts, &n->put);
  if (rc < 0)
    return rc;
  rc = importer_file_finish(imp, &n->empty_file, &size, &n->empty_file_tsize);
  importer_file_free(imp);
  return rc;
}

static int node_gc_prepare(void *arg)
{
  node_t *n = arg;
  return mfs_flush(n->mfs);
}

/* GC's extra roots: what the files being streamed in wrote so far. No
 * streamed write runs meanwhile (GC holds its lock exclusively). */
static int node_gc_roots(void *arg, repo_gc_root_cb cb, void *cbarg)
{
  node_t *n = arg;
  int rc = 0;
  pthread_mutex_lock(&n->stream_lock);
  for (size_t i = 0; rc == 0 && i < n->nstreams; i++)
    rc = importer_file_pending(n->streams[i], cb, cbarg);
  pthread_mutex_unlock(&n->stream_lock);
  return rc;
}

int node_stream_begin(node_t *n, importer_file_t *imp)
{
  int rc = 0;
  pthread_mutex_lock(&n->stream_lock);
  if (n->nstreams == n->cap_streams) {
    size_t cap = n->cap_streams ? n->cap_streams * 2 : 8;
    importer_file_t **v = realloc(n->streams, cap * sizeof(*v));
    if (v == NULL) {
      rc = -ENOMEM;
    } else {
      n->streams = v;
      n->cap_streams = cap;
    }
  }
  if (rc == 0)
    n->streams[n->nstreams++] = imp;
  pthread_mutex_unlock(&n->stream_lock);
  return rc;
}

void node_stream_end(node_t *n, importer_file_t *imp)
{
  pthread_mutex_lock(&n->stream_lock);
  for (size_t i = 0; i < n->nstreams; i++) {
    if (n->streams[i] == imp) {
      n->streams[i] = n->streams[--n->nstreams];
      break;
    }
  }
  pthread_mutex_unlock(&n->stream_lock);
}

int node_open(node_t **out, repo_t *repo, const importer_opts_t *iopts,
              bool verbose, FILE *log)
{
  node_t *n = calloc(1, sizeof(*n));
  size_t len;
  int rc;

  if (n == NULL)
    return -ENOMEM;
  n->repo = repo;
  n->verbose = verbose;
  n->log = log ? log : stderr;
  pthread_mutex_init(&n->log_lock, NULL);
  pthread_mutex_init(&n->stream_lock, NULL);
  pthread_mutex_init(&n->flock, NULL);
  pthread_cond_init(&n->fcond, NULL);
  len = strlen(repo->path) + 16;
  rc = -ENOMEM;
  n->staging = malloc(len);
  if (n->staging == NULL)
    goto fail;
  snprintf(n->staging, len, "%s/staging", repo->path);
  rc = clean_staging(n);
  if (rc < 0)
    goto fail;
  n->iopts = *iopts;
  /* The fetcher caches the small blocks; LevelDB's cache would fill with
   * file leaves. */
  kv_set_fill_cache(repo->kv, false);
  bs_putter(repo->bs, &n->put);
  rc = empty_file(n);
  if (rc < 0)
    goto fail;
  rc = fetch_new(&n->fetch, repo->bs, node_fetch_timeout_ms(repo->cfg),
                 fetch_log, n);
  if (rc < 0)
    goto fail;
  fetch_getter(n->fetch, &n->get);
  fetch_local_getter(n->fetch, &n->get_local);
  rc = mfs_open(&n->mfs, repo->kv, &n->iopts, &n->put);
  if (rc < 0)
    goto fail;
  /* GC marks from "f/root": files recorded since the last flush must be
   * in it before GC looks. */
  repo_set_gc_prepare(repo, node_gc_prepare, n);
  repo_set_gc_roots(repo, node_gc_roots, n);
  rc = node_net_start(n);
  if (rc < 0)
    goto fail;
  if (pthread_create(&n->flusher, NULL, flusher, n) == 0)
    n->flusher_started = true;
  *out = n;
  return 0;
fail:
  node_close(n);
  return rc;
}

void node_close(node_t *n)
{
  if (n == NULL)
    return;
  node_net_stop(n);
  if (n->flusher_started) {
    pthread_mutex_lock(&n->flock);
    n->stop = true;
    pthread_cond_broadcast(&n->fcond);
    pthread_mutex_unlock(&n->flock);
    pthread_join(n->flusher, NULL);
  }
  if (n->repo->gc_prepare_arg == n)
    repo_set_gc_prepare(n->repo, NULL, NULL);
  if (n->repo->gc_roots_arg == n)
    repo_set_gc_roots(n->repo, NULL, NULL);
  mfs_close(n->mfs);
  fetch_free(n->fetch);
  free(n->staging);
  pthread_cond_destroy(&n->fcond);
  pthread_mutex_destroy(&n->flock);
  pthread_mutex_destroy(&n->log_lock);
  pthread_mutex_destroy(&n->stream_lock);
  free(n->streams);
  free(n);
}
