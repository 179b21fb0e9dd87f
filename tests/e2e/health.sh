#!/bin/sh
# Health as a service manager and a monitor see it: sd_notify sends
# READY=1 with each tree in STATUS=, RELOADING=1 and READY=1 around a
# SIGHUP, STOPPING=1 on SIGTERM (to a NOTIFY_SOCKET of our own); a
# mirror with max_age turns /healthz 503 "stale" while its upstream
# does not answer and 200 once it does again; /metrics follows the
# upstream's tree.
. "$(dirname "$0")/lib.sh"

UP=sumdb.upstream.example
upkey=$("$B/sumdbd" keygen -o "$T/up.key" $UP 2>/dev/null) || fail "keygen"
"$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example >/dev/null 2>&1
start_upstream -gen 100

python3 - "$T/notify.sock" >"$T/notify.log" 2>&1 <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    print(s.recv(65536).decode().replace("\n", "|"), flush=True)
EOF
PIDS="$PIDS $!"
wait_for test -S "$T/notify.sock" || fail "no notify socket"
NOTIFY_SOCKET=$T/notify.sock
export NOTIFY_SOCKET
start_daemon "[mirror $UP]" "key = $upkey" "url = http://127.0.0.1:$UPORT" \
    "poll = 1s" "fetch_timeout = 1s" "max_age = 3s"
unset NOTIFY_SOCKET
M=$URL/sumdb/$UP

metric() {
	curl -s "$URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
wait_for grep -q "READY=1|STATUS=sumdb.test.example at tree 0, $UP at tree" \
    "$T/notify.log" || fail "no READY=1 with STATUS: $(cat "$T/notify.log")"
wait_for sh -c "[ \"\$(curl -s $M/latest | sed -n 2p)\" = 100 ]" ||
    fail "the mirror did not sync"
[ "$(status "$URL/healthz")" = 200 ] || fail "healthz while in sync"
curl -sf "http://127.0.0.1:$UPORT/admin/grow?n=50" >/dev/null ||
    fail "growing the upstream"
wait_for sh -c "[ \"\$(curl -s $M/latest | sed -n 2p)\" = 150 ]" ||
    fail "the mirror did not follow the upstream"
[ "$(metric "sumdbd_upstream_tree_size{db=\"$UP\"}")" = 150 ] ||
    fail "sumdbd_upstream_tree_size: $(metric "sumdbd_upstream_tree_size{db=\"$UP\"}")"
[ "$(metric "sumdbd_sync_lag_records{db=\"$UP\"}")" = 0 ] || fail "sync lag"
echo "$NAME: READY=1 with each tree in STATUS=; /metrics follows the upstream's tree: ok"

# The upstream stops answering: stale after max_age; back: healthy.
[ "$(status "$M/lookup/example.com/gen/m1@v1.0.1")" = 200 ] ||
    fail "a lookup through the mirror"
kill -STOP "$UPID"
i=0
until [ "$(status "$URL/healthz")" = 503 ]; do
	i=$((i + 1)); [ $i -lt 150 ] || fail "healthz did not turn 503"
	sleep 0.1
done
curl -s "$URL/healthz" | grep -q "^$UP stale: no checkpoint verified for [0-9]* s (max_age 3 s)$" ||
    fail "healthz reason: $(curl -s "$URL/healthz")"
[ "$(metric "sumdbd_verified_age_seconds{db=\"$UP\"}")" -ge 3 ] ||
    fail "sumdbd_verified_age_seconds"
[ "$(status "$M/lookup/example.com/gen/m1@v1.0.1")" = 200 ] ||
    fail "a stale mirror must still serve what it verified"
kill -CONT "$UPID"
i=0
until [ "$(status "$URL/healthz")" = 200 ]; do
	i=$((i + 1)); [ $i -lt 150 ] || fail "healthz did not recover"
	sleep 0.1
done
echo "$NAME: /healthz 503 'stale' while the upstream is away (max_age 3s), 200 when it is back: ok"

# SIGHUP: RELOADING=1 then READY=1; max_age is live.
write_config "$T/sumdbd.conf" "$PORT" "[mirror $UP]" "key = $upkey" \
    "url = http://127.0.0.1:$UPORT" "poll = 1s" "fetch_timeout = 1s" \
    "max_age = 1h"
kill -HUP "$DPID"
wait_for grep -q "SIGHUP: \[mirror $UP\] max_age changed: applied" \
    "$T/daemon.log" || fail "max_age not reloaded"
wait_for grep -q '^RELOADING=1' "$T/notify.log" || fail "no RELOADING=1"
[ "$(grep -c 'READY=1' "$T/notify.log")" -ge 2 ] || fail "no READY=1 after the reload"
kill -STOP "$UPID"
sleep 4
[ "$(status "$URL/healthz")" = 200 ] || fail "max_age = 1h not applied"
kill -CONT "$UPID"
kill -TERM "$DPID"
wait "$DPID" || fail "sumdbd did not exit 0 on SIGTERM"
wait_for grep -q '^STOPPING=1' "$T/notify.log" || fail "no STOPPING=1"
echo "$NAME: RELOADING=1 and READY=1 around SIGHUP, max_age live, STOPPING=1 on SIGTERM: ok"

# A mirror that never verified a checkpoint is not healthy under max_age.
okey=$("$B/sumdbd" keygen -o "$T/other.key" other.example 2>/dev/null) ||
    fail "keygen"
restart_daemon_with "[mirror $UP]" "key = $upkey" \
    "url = http://127.0.0.1:$UPORT" "[mirror other.example]" \
    "key = $okey" "offline = yes" "max_age = 1h"
[ "$(status "$URL/healthz")" = 503 ] || fail "healthz with a mirror never verified"
curl -s "$URL/healthz" | grep -qx 'other.example stale: no checkpoint verified yet (max_age 3600 s)' ||
    fail "healthz reason: $(curl -s "$URL/healthz")"
echo "$NAME: a mirror never verified is stale under max_age: ok"
