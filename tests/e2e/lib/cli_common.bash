# Shared setup for the CLI end-to-end scripts (sourced, not a test).
# Gives: $BIN, $T (temp dir, removed on exit), $CIPFS_PATH (a fresh repo
# path inside $T, not yet initialized), and helpers that fail loudly.
set -euo pipefail

BIN=${CIPFS_BIN:?CIPFS_BIN must point at the cipfs binary}
T=$(mktemp -d "${TMPDIR:-/tmp}/cipfs-e2e.XXXXXX")
export CIPFS_PATH=$T/repo
unset HOME_OVERRIDE || true

cleanup_hooks=()
cleanup() {
  local h
  for h in "${cleanup_hooks[@]+"${cleanup_hooks[@]}"}"; do eval "$h" || true; done
  rm -rf "$T"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# expect_eq WHAT GOT WANT
expect_eq() {
  [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# expect_fail WANT_STATUS PATTERN CMD...: the command exits with
# WANT_STATUS (or any non-zero for "nz"), prints exactly one line on stderr
# that matches PATTERN (grep -E), and does not crash.
expect_fail() {
  local want=$1 pat=$2 st=0
  shift 2
  "$@" >"$T/.out" 2>"$T/.err" || st=$?
  if [ "$want" = nz ]; then
    [ "$st" -ne 0 ] || fail "'$*' succeeded, expected failure"
  else
    [ "$st" -eq "$want" ] || fail "'$*' exit $st, want $want; stderr: $(cat "$T/.err")"
  fi
  [ "$st" -lt 128 ] || fail "'$*' died from a signal ($st)"
  local errlines
  errlines=$(wc -l <"$T/.err")
  [ "$errlines" -eq 1 ] || fail "'$*' printed $errlines error lines: $(cat "$T/.err")"
  grep -qE "$pat" "$T/.err" || fail "'$*' stderr '$(cat "$T/.err")' does not match /$pat/"
  if grep -q 'AddressSanitizer\|runtime error' "$T/.err"; then
    fail "'$*' sanitizer report"
  fi
}

# Deterministic pseudo-random bytes: rand_file PATH BYTES SEED
rand_file() {
  head -c "$2" /dev/zero |
    openssl enc -aes-128-ctr -pass "pass:$3" -nosalt -pbkdf2 -iter 1 >"$1" 2>/dev/null
}

# Bytes [OFF, OFF+LEN) of FILE on stdout. Not "tail | head": under
# pipefail the writer's SIGPIPE would fail the pipeline.
slice() {
  dd if="$1" iflag=skip_bytes,count_bytes skip="$2" count="$3" bs=65536 status=none
}

cipfs_init() {
  "$BIN" init >/dev/null
}

# Daemons started by start_daemon are killed when the test exits; a test
# that stopped them itself may clear daemon_pids.
daemon_pids=()
cleanup_hooks+=('for p in "${daemon_pids[@]+"${daemon_pids[@]}"}"; do kill -KILL "$p" 2>/dev/null; done')

# start_daemon REPO LOG [NETNS]: `cipfs daemon` on REPO (SIGINT stops it,
# as Ctrl-C would), its output in LOG, in network namespace NETNS if
# given; returns once it is ready, its pid in $daemon_pid.
start_daemon() {
  local in=()
  [ $# -lt 3 ] || in=(ip netns exec "$3")
  # ip and env exec what follows: $! is the daemon itself.
  "${in[@]+"${in[@]}"}" env --default-signal=INT CIPFS_PATH="$1" "$BIN" daemon >"$2" 2>&1 &
  daemon_pid=$!
  daemon_pids+=("$daemon_pid")
  for _ in $(seq 1 200); do
    grep -q '^Daemon is ready$' "$2" && return 0
    kill -0 "$daemon_pid" 2>/dev/null || fail "daemon exited: $(cat "$2")"
    sleep 0.05
  done
  fail "daemon not ready: $(cat "$2")"
}

# stop_daemon PID SIGNAL: the daemon must exit within 10 s, with status 0.
stop_daemon() {
  kill "-$2" "$1"
  for _ in $(seq 1 100); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$1" 2>/dev/null && fail "daemon $1 still running 10 s after SIG$2"
  local st=0
  wait "$1" || st=$?
  expect_eq "daemon exit status after SIG$2" "$st" 0
}
