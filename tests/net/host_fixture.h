#ifndef CIPFS_TESTS_HOST_FIXTURE_H
#define CIPFS_TESTS_HOST_FIXTURE_H

/*
 * Hosts for the network tests: each has a fresh Ed25519 key, listens on
 * 127.0.0.1 on a port the kernel picks and runs its own loop thread. Any
 * failure fails the test (cmocka assertions). For the store beside a host
 * see core/store_tmp.h.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "key.h"
#include "p2p.h"

#define HFX_LISTEN "/ip4/127.0.0.1/tcp/0"

/* Makes a key (*key, the caller frees it after the host) and a host *h
 * that will listen on HFX_LISTEN, configured as base (NULL: defaults) but
 * for key and listen addresses. Not started, so that handlers can be
 * added first. */
static inline void hfx_new(struct key_s **key, p2p_host_t **h,
                           const p2p_config_t *base)
{
  static const char *const listen[] = {HFX_LISTEN};
  p2p_config_t cfg;

  if (base != NULL)
    cfg = *base;
  else
    p2p_config_init(&cfg);
  assert_int_equal(key_generate_ed25519(key), 0);
  cfg.key = *key;
  cfg.listen = listen;
  cfg.nlisten = 1;
  assert_int_equal(p2p_host_new(h, &cfg), 0);
}

/* Starts h and writes its listen address, with /p2p/<id>, into addr. */
static inline void hfx_start(p2p_host_t *h, char *addr, size_t size)
{
  char *addrs;

  assert_int_equal(p2p_host_start(h), 0);
  assert_int_equal(p2p_host_addrs(h, &addrs), 0);
  assert_non_null(strstr(addrs, "/ip4/127.0.0.1/tcp/"));
  assert_non_null(strstr(addrs, "/p2p/12D3KooW"));
  *strchr(addrs, '\n') = '\0';
  assert_true((size_t)snprintf(addr, size, "%s", addrs) < size);
  free(addrs);
}

/* hfx_new with default settings, then hfx_start. */
static inline void hfx_up(struct key_s **key, p2p_host_t **h, char *addr,
                          size_t size)
{
  hfx_new(key, h, NULL);
  hfx_start(*h, addr, size);
}

/* Stops and frees the host, then its key; either may be NULL. */
static inline void hfx_down(p2p_host_t *h, struct key_s *key)
{
  p2p_host_free(h);
  key_free(key);
}

#endif
