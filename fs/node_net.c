/* The node's libp2p host and the services living on it. Apart from
 * node.c so the filesystem side of the node stays readable. */
#include "node.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

struct node_svc_s {
  const node_service_t *svc;
  void *state;
  struct node_svc_s *next;
};

static void host_log(void *arg, const char *line)
{
  node_t *n = arg;
  const char *what = strstr(line, "cannot listen on ");

  /* Only the opening thread logs listen failures: no lock needed. */
  if (what != NULL && n->listen_err[0] == '\0')
    snprintf(n->listen_err, sizeof(n->listen_err), "%s", what);
  /* A dial of ours that fails (a bootstrap or DHT peer gone, a port now
   * used by something else) is routine on the open network: -v only.
   * What peers do to us stays in the plain log. */
  if (strncmp(line, "net: to ", 8) == 0)
    node_debug(n, "%s", line);
  else
    node_log(n, "%s", line);
}

/* The host's settings from the repo config (kubo's names):
 * Addresses.Swarm, .Announce, .NoAnnounce and Swarm.ConnMgr. */
static int make_host(node_t *n)
{
  const cfg_t *cfg = n->repo->cfg;
  const char **listen = NULL, **announce = NULL, **hide = NULL;
  size_t nlisten = 0, nannounce = 0, nhide = 0;
  p2p_config_t pc;
  int rc;

  p2p_config_init(&pc);
  rc = p2p_config_load(&pc, cfg);
  if (rc < 0) {
    node_log(n, "config: bad Swarm.ConnMgr (LowWater <= HighWater, "
                "GracePeriod a duration)");
    return rc;
  }
  rc = cfg_get_strv(cfg, "Addresses.Swarm", &listen, &nlisten);
  if (rc < 0) {
    node_log(n, "config: Addresses.Swarm must be a list of multiaddrs");
    return rc;
  }
  /* Schema defaults are [], so these only fail on a broken config. */
  if (cfg_get_strv(cfg, "Addresses.Announce", &announce, &nannounce) < 0 ||
      cfg_get_strv(cfg, "Addresses.NoAnnounce", &hide, &nhide) < 0) {
    node_log(n, "config: Addresses.Announce and Addresses.NoAnnounce must "
                "be lists of multiaddrs");
    free(listen);
    free(announce);
    return CIPFS_ECONFIG;
  }
  pc.key = n->repo->key;
  pc.listen = listen;
  pc.nlisten = nlisten;
  pc.announce = announce;
  pc.nannounce = nannounce;
  pc.no_announce = hide;
  pc.nno_announce = nhide;
  pc.listen_best_effort = true;
  pc.log = host_log;
  pc.log_arg = n;
  rc = p2p_host_new(&n->host, &pc);
  free(listen);
  free(announce);
  free(hide);
  return rc;
}

/* Start svc and put it on the list. */
static int svc_start(node_t *n, const node_service_t *svc)
{
  node_svc_t *s = calloc(1, sizeof(*s));
  int rc;

  if (s == NULL)
    return -ENOMEM;
  s->svc = svc;
  rc = svc->start(n, &s->state);
  if (rc < 0) {
    node_log(n, "service %s failed to start: %s", svc->name,
             cipfs_strerror(rc));
    free(s);
    return rc;
  }
  pthread_mutex_lock(&n->svc_lock);
  s->next = n->svcs;
  n->svcs = s;
  pthread_mutex_unlock(&n->svc_lock);
  node_debug(n, "service %s started", svc->name);
  return 0;
}

int node_net_start(node_t *n)
{
  char *addrs = NULL, *save = NULL;
  int rc;

  pthread_mutex_init(&n->svc_lock, NULL);
  n->net_started = true;
  rc = make_host(n);
  if (rc < 0)
    return rc;
  for (const node_service_t *svc = node_services; svc->name; svc++) {
    rc = svc_start(n, svc);
    if (rc < 0)
      return rc;
  }
  rc = p2p_host_start(n->host);
  if (rc < 0) {
    node_log(n, "cannot start the libp2p host: %s", cipfs_strerror(rc));
    return rc;
  }
  n->host_started = true;
  if (p2p_host_addrs(n->host, &addrs) == 0) {
    for (char *line = strtok_r(addrs, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save))
      node_debug(n, "swarm listening on %s", line);
    free(addrs);
  }
  return 0;
}

/* Unlink everything from the list (under the lock), newest first. */
static node_svc_t *take_all(node_t *n)
{
  node_svc_t *all;

  pthread_mutex_lock(&n->svc_lock);
  all = n->svcs;
  n->svcs = NULL;
  pthread_mutex_unlock(&n->svc_lock);
  return all;
}

void node_net_stop(node_t *n)
{
  node_svc_t *all, *s, *next;

  node_begin_close(n);
  if (!n->net_started)
    return;
  all = take_all(n);
  /* Newest first is the reverse of start order. */
  for (s = all; s != NULL; s = s->next)
    if (s->svc->stop != NULL)
      s->svc->stop(n, s->state);
  p2p_host_free(n->host);
  n->host = NULL;
  n->host_started = false;
  for (s = all; s != NULL; s = next) {
    next = s->next;
    if (s->svc->release != NULL)
      s->svc->release(n, s->state);
    free(s);
  }
  pthread_mutex_destroy(&n->svc_lock);
  n->net_started = false;
}

void node_begin_close(node_t *n)
{
  if (n != NULL)
    __atomic_store_n(&n->closing, true, __ATOMIC_RELEASE);
}

bool node_closing(node_t *n)
{
  return __atomic_load_n(&n->closing, __ATOMIC_ACQUIRE);
}

p2p_host_t *node_host(node_t *n)
{
  return n->host;
}

void *node_service(node_t *n, const char *name)
{
  void *state = NULL;

  pthread_mutex_lock(&n->svc_lock);
  for (node_svc_t *s = n->svcs; s != NULL; s = s->next) {
    if (strcmp(s->svc->name, name) == 0) {
      state = s->state;
      break;
    }
  }
  pthread_mutex_unlock(&n->svc_lock);
  return state;
}

static bool svc_running(node_t *n, const char *name)
{
  bool found = false;

  pthread_mutex_lock(&n->svc_lock);
  for (node_svc_t *s = n->svcs; s != NULL && !found; s = s->next)
    found = strcmp(s->svc->name, name) == 0;
  pthread_mutex_unlock(&n->svc_lock);
  return found;
}

static void push_cb(p2p_host_t *h, void *arg)
{
  (void)arg;
  p2p_identify_push(h);
}

int node_service_attach(node_t *n, const node_service_t *svc)
{
  int rc;

  if (svc_running(n, svc->name))
    return -EEXIST;
  rc = svc_start(n, svc);
  /* Connected peers learn the protocols it handles (identify push);
   * the push runs after what start queued on the loop. */
  if (rc == 0 && n->host_started)
    p2p_host_call(n->host, push_cb, NULL);
  return rc;
}

void node_service_detach(node_t *n, const char *name)
{
  node_svc_t *s = NULL;

  pthread_mutex_lock(&n->svc_lock);
  for (node_svc_t **pp = &n->svcs; *pp != NULL; pp = &(*pp)->next) {
    if (strcmp((*pp)->svc->name, name) == 0) {
      s = *pp;
      *pp = s->next;
      break;
    }
  }
  pthread_mutex_unlock(&n->svc_lock);
  if (s == NULL)
    return;
  if (s->svc->stop != NULL)
    s->svc->stop(n, s->state);
  if (s->svc->release != NULL)
    s->svc->release(n, s->state);
  free(s);
  if (n->host_started)
    p2p_host_call(n->host, push_cb, NULL);
}
