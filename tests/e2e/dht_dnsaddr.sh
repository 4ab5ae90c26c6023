#!/usr/bin/env bash
# /dnsaddr/ bootstrap addresses, the way kubo's defaults are written. A
# node whose only bootstrap entry is /dnsaddr/boot.cipfs.test/p2p/<A> asks
# DNS for the TXT records of _dnsaddr.boot.cipfs.test, follows the nested
# /dnsaddr/ they name (as bootstrap.libp2p.io's records do), dials the
# address at the end and joins A's DHT. With a DNS server that never
# answers, Ctrl-C still stops the node at once instead of waiting out the
# resolver's timeout.
# It runs in its own network and mount namespaces: a fresh loopback, and
# an /etc/resolv.conf naming a DNS stub on it (tests/e2e/lib/dns_stub.py).
if [ -z "${CIPFS_DNS_NS:-}" ]; then
  command -v unshare >/dev/null || { echo "FAIL: unshare is missing" >&2; exit 1; }
  exec env CIPFS_DNS_NS=1 unshare -m -n --propagation private bash "$0"
fi
. "$(dirname "$0")/lib/cli_common.bash"
ip link set lo up

stub_pid=
cleanup_hooks+=('[ -z "$stub_pid" ] || kill -KILL "$stub_pid" 2>/dev/null')

mkrepo() { # path bootstrap-json
  CIPFS_PATH=$1 "$BIN" init >/dev/null
  CIPFS_PATH=$1 "$BIN" config --json Addresses.Swarm '["/ip4/127.0.0.1/tcp/0"]'
  CIPFS_PATH=$1 "$BIN" config --json Bootstrap "$2"
  CIPFS_PATH=$1 "$BIN" config Routing.Type dhtserver
}

start_stub() { # records.json [--silent]
  rm -f "$T/stub.pid"
  # (python3 may be a wrapper that forks: the stub writes its own pid.)
  python3 "$(dirname "$0")/lib/dns_stub.py" 127.0.0.1 "$T/stub.pid" "$@" \
    >"$T/stub.log" 2>&1 &
  disown
  for _ in $(seq 1 100); do
    [ -s "$T/stub.pid" ] && break
    sleep 0.05
  done
  [ -s "$T/stub.pid" ] || fail "DNS stub did not start: $(cat "$T/stub.log")"
  stub_pid=$(cat "$T/stub.pid")
}

# Each resolver try waits 30 s: a node that waited for DNS at Ctrl-C would
# take that long to stop.
printf 'nameserver 127.0.0.1\noptions timeout:30 attempts:1\n' >"$T/resolv.conf"
mount --bind "$T/resolv.conf" /etc/resolv.conf

A=$T/a
B=$T/b
mkrepo "$A" '[]'
start_daemon "$A" "$T/a.log"
pidA=$daemon_pid
idA=$(CIPFS_PATH=$A "$BIN" config Identity.PeerID)
addrA=$(sed -n 's/^Swarm listening on //p' "$T/a.log" | head -1)
[[ $addrA == /ip4/127.0.0.1/tcp/*/p2p/$idA ]] || fail "A listens on '$addrA'"
other=12D3KooWAhRVBVoXaiVwMRtHYbUR1P43zKEH9tTmMmkQdkUHrrS2
cat >"$T/records.json" <<JSON
{
  "_dnsaddr.boot.cipfs.test": [
    "dnsaddr=/dnsaddr/a.boot.cipfs.test/p2p/$idA",
    "dnsaddr=/dnsaddr/nowhere.cipfs.test/p2p/$other"
  ],
  "_dnsaddr.a.boot.cipfs.test": [
    "dnsaddr=/ip4/127.0.0.1/tcp/1/p2p/$other",
    "dnsaddr=$addrA"
  ]
}
JSON
start_stub "$T/records.json"

# B knows A only by the /dnsaddr/ name.
mkrepo "$B" "[\"/dnsaddr/boot.cipfs.test/p2p/$idA\"]"
start_daemon "$B" "$T/b.log"
pidB=$daemon_pid
ok=0
for _ in $(seq 1 100); do
  if CIPFS_PATH=$B "$BIN" swarm peers | grep -qx "$addrA"; then ok=1; break; fi
  sleep 0.1
done
[ $ok = 1 ] || fail "B never reached A through /dnsaddr/: $(cat "$T/b.log")"
if grep -q 'no bootstrap peer reachable' "$T/b.log"; then
  fail "B says no bootstrap peer was reachable: $(cat "$T/b.log")"
fi
# A sees B in its DHT: a lookup from A for B's ID ends at B.
idB=$(CIPFS_PATH=$B "$BIN" config Identity.PeerID)
CIPFS_PATH=$A "$BIN" routing findpeer "$idB" | grep -q "/ip4/127.0.0.1/tcp/" ||
  fail "A cannot find B"
kill -INT "$pidB"
wait "$pidB" || fail "B exited non-zero on SIGINT"

# DNS that never answers: the node starts, serves, and stops at once.
kill -KILL "$stub_pid"
start_stub "$T/records.json" --silent
start_daemon "$B" "$T/b2.log"
pidB=$daemon_pid
sleep 0.5 # the resolver is now waiting on the silent stub
stop_daemon "$pidB" INT
kill -INT "$pidA"
wait "$pidA" || fail "A exited non-zero"
daemon_pids=()
echo "dht_dnsaddr: ok"
