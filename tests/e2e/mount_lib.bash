# Shared by the mount_*.sh end-to-end tests (sourced, not a test itself).
# Gives: $T (temp dir), $MNT, $CIPFS_PATH, cipfs(), start_node, stop_node,
# fail, and a trap that unmounts, kills the node and removes $T even when
# the test fails.
set -euo pipefail
: "${CIPFS_BIN:?CIPFS_BIN must point at the cipfs binary}"
if [ ! -e /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
  echo "SKIP: no FUSE on this machine" >&2
  exit 77
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/cipfs-mount.XXXXXX")
export CIPFS_PATH=$T/repo
MNT=$T/mnt
NODE_PID=
WATCHDOG=
: "${MOUNT_TEST_TIMEOUT:=300}"
mkdir -p "$MNT"

cipfs() { "$CIPFS_BIN" "$@"; }

fail() {
  echo "FAIL: $*" >&2
  if [ -f "$T/node.log" ]; then
    echo "--- node log (tail)" >&2
    tail -n 30 "$T/node.log" >&2 || true
  fi
  exit 1
}

# Unmount even when the node is wedged: the lazy unmount detaches the
# mount, and killing the node aborts the FUSE connection so that every
# process blocked on it gets an error instead of waiting forever.
force_down() {
  local pid
  pid=$(cat "$T/node.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  if grep -qs " $MNT " /proc/mounts; then
    fusermount3 -u -z "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true
  fi
}

cleanup() {
  local rc=$?
  trap - EXIT TERM
  [ -n "$WATCHDOG" ] && kill "$WATCHDOG" 2>/dev/null
  force_down
  rm -rf "$T"
  exit $rc
}
trap cleanup EXIT

# Every test is bounded: after $MOUNT_TEST_TIMEOUT seconds the watchdog
# takes the node and the mount down (which unblocks whatever waits on
# them) and stops this script, which then fails.
MAIN_PID=$$
on_timeout() {
  echo "FAIL: timed out after ${MOUNT_TEST_TIMEOUT}s" >&2
  [ -f "$T/node.log" ] && tail -n 30 "$T/node.log" >&2
  exit 124
}
trap on_timeout TERM
(
  for _ in $(seq "${MOUNT_TEST_TIMEOUT:-300}"); do
    sleep 1
    [ -d "$T" ] || exit 0
  done
  force_down
  kill -TERM "$MAIN_PID"
) >/dev/null 2>&1 </dev/null &
WATCHDOG=$!

is_mounted() { grep -qs " $MNT fuse" /proc/mounts; }

# Start the node in the background and wait for the mount to be live.
# A dead mount left by a crash is still listed until the node clears it:
# wait for this node's own "mounted at" line.
start_node() {
  local before
  before=$(grep -c "mounted at" "$T/node.log" 2>/dev/null || true)
  # A background job of a script starts with SIGINT ignored; a user's
  # foreground node has it, so give it back (stop_node INT is Ctrl-C).
  # MNT_DEFAULT=1: no directory argument, the node picks its default.
  local dir=("$MNT")
  [ -n "${MNT_DEFAULT:-}" ] && dir=()
  env --default-signal=INT "$CIPFS_BIN" mount "${dir[@]+"${dir[@]}"}" "$@" >>"$T/node.log" 2>&1 &
  NODE_PID=$!
  echo "$NODE_PID" >"$T/node.pid"
  for _ in $(seq 100); do
    if [ "$(grep -c "mounted at" "$T/node.log" 2>/dev/null || true)" -gt "${before:-0}" ] &&
      is_mounted && stat "$MNT" >/dev/null 2>&1; then return 0; fi
    kill -0 "$NODE_PID" 2>/dev/null || fail "node exited at start"
    sleep 0.1
  done
  fail "mount did not come up"
}

# SIGTERM (or the signal given, e.g. INT for Ctrl-C): the node must
# unmount and exit 0 by itself, within 20 s.
stop_node() {
  kill "-${1:-TERM}" "$NODE_PID"
  for _ in $(seq 200); do kill -0 "$NODE_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$NODE_PID" 2>/dev/null && fail "node still running 20 s after SIGTERM"
  local rc=0
  wait "$NODE_PID" || rc=$?
  NODE_PID=
  rm -f "$T/node.pid"
  [ "$rc" -eq 0 ] || fail "node exited with $rc on SIG${1:-TERM}"
  ! is_mounted || fail "still mounted after SIG${1:-TERM}"
}

# kill -9 the node (a crash): the mount is left dead behind it.
# The kernel aborts the connection when the last reference to the device
# goes, a moment after the process is reaped: wait for that (5 s at most).
crash_node() {
  kill -9 "$NODE_PID"
  wait "$NODE_PID" 2>/dev/null || true
  NODE_PID=
  rm -f "$T/node.pid"
  for _ in $(seq 50); do stat "$MNT" >/dev/null 2>&1 || break; sleep 0.1; done
}

# Wait for the given background jobs, at most $1 seconds; fails on a
# non-zero status or on timeout.
wait_jobs() {
  local limit=$1 p
  shift
  for _ in $(seq $((limit * 10))); do
    local alive=0
    for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for p in "$@"; do
    kill -0 "$p" 2>/dev/null && fail "job $p still running after ${limit}s"
    wait "$p" || return 1
  done
  return 0
}

cid_of() { getfattr --only-values -n user.ipfs.cid "$1" 2>/dev/null; }

# A file of $2 random bytes.
make_file() { head -c "$2" /dev/urandom >"$1"; }

cipfs init >/dev/null 2>&1 || fail "cipfs init"
