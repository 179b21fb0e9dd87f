#!/bin/sh
# Load and abuse (acceptance 2 of the proof-under-pressure issue), on a
# private log of 3,000 records made with `sumdbd add`:
#  (a) wrk, 256 connections for LOAD_SECONDS (default 60) over /latest,
#      lookups of stored versions, full and partial hash tiles and full
#      and partial data tiles (tests/load.lua): every answer 200, no
#      socket error; requests/s and latency percentiles printed; two
#      real-size modules (x/tools, x/mod) fetched, hashed and logged
#      meanwhile, with the go command's records;
#  (b) 2,000 idle and slowloris connections held open do not stop 200
#      requests from being served, and none of them is dropped within
#      the timeouts; at max_connections = 64 (one worker) further
#      connections wait, the 64 served ones go on being served, and the
#      waiting ones are answered once those close;
#  (c) every protocol limit gets its status (400, 405 with Allow, 408,
#      413, 414, 431, 501, 505, 429 with Retry-After), a one-line text
#      body, and Connection: close with the connection closed after
#      errors that leave the framing in doubt (tests/loadconn.py).
. "$(dirname "$0")/lib.sh"

command -v wrk >/dev/null || fail "wrk is not installed"
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
[ "$(ulimit -n)" -ge 5000 ] || fail "ulimit -n is $(ulimit -n); 5000 or more is needed"
SECS=${LOAD_SECONDS:-60}
N=3000
LUA=$(dirname "$0")/../load.lua
PY="python3 $(dirname "$0")/../loadconn.py"
mods=
i=0
while [ $i -lt $N ]; do
	mods="$mods example.com/load/m$((i % 20))@v1.0.$i"
	i=$((i + 1))
done
"$B/xmodref" modtree "$T/proxy" $mods >"$T/hashes" || fail "module tree"
realmod_add "$T/proxy" xtools xmod
"$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example >/dev/null 2>&1 || fail "keygen"
write_config "$T/sumdbd.conf" 1
"$B/sumdbd" add -c "$T/sumdbd.conf" $mods >"$T/out" 2>&1 || fail "add: $(cat "$T/out")"
start_daemon "[server]" "max_connections = 10000" \
    "max_connections_per_client = 10000"

# (a) 256 connections, every route, no error; two real-size misses
# 5 s in.
(sleep 5
for n in xtools xmod; do
	curl -s -m 120 -o /dev/null -w '%{http_code} %{time_total}\n' \
	    "$URL/lookup/$(realmod_mv $n)"
done) >"$T/big" 2>&1 &
BIGPID=$!
wrk -t2 -c256 -d"${SECS}s" --timeout 60s -s "$LUA" "$URL" -- $N >"$T/wrk" 2>&1 ||
    fail "wrk: $(cat "$T/wrk")"
grep -q '^load: requests' "$T/wrk" || fail "wrk: $(cat "$T/wrk")"
sed -n 's/^load: //p' "$T/wrk" | sed "s/^/$NAME: /"
grep -q 'non-200 0, errors connect 0 read 0 write 0 status 0 timeout 0$' "$T/wrk" &&
    ! grep -q 'Socket errors\|Non-2xx' "$T/wrk" || fail "errors under load: $(cat "$T/wrk")"
kill -0 "$DPID" || fail "the daemon died under load"
nreq=$(sed -n 's/^load: requests \([0-9]*\),.*/\1/p' "$T/wrk")
wait "$BIGPID"
[ "$(cut -d' ' -f1 "$T/big" | tr '\n' ' ')" = "200 200 " ] ||
    fail "real-size lookups under load: $(cat "$T/big")"
realmod_lookup "$URL" xtools
realmod_lookup "$URL" xmod
echo "$NAME: (a) real-size x/tools and x/mod looked up under load in $(cut -d' ' -f2 "$T/big" | tr '\n' ' ')s: the go command's records: ok"
echo "$NAME: (a) $nreq requests on 256 connections in $SECS s, all 200, no socket error: ok"

# (b) 2,000 idle and slowloris connections, timeouts long enough to
# hold them all through the check.
stop_daemon
restart_daemon_with "[server]" "max_connections = 10000" \
    "max_connections_per_client = 10000" "request_timeout = 300s" \
    "idle_timeout = 300s"
mkdir "$T/flood"
$PY flood 127.0.0.1 "$PORT" 2000 "$T/flood" >"$T/flood.out" 2>&1 &
FPID=$!
PIDS="$PIDS $FPID"
i=0
until [ -e "$T/flood/ready" ]; do
	kill -0 "$FPID" 2>/dev/null || fail "flood: $(cat "$T/flood.out")"
	i=$((i + 1)); [ $i -lt 1200 ] || fail "2,000 connections not open in 120 s"
	sleep 0.1
done
# All of them accepted: the daemon counts them (and this one).
conns() { curl -s "$URL/metrics" | sed -n 's/^sumdbd_http_connections //p'; }
i=0
until [ "$(conns)" -gt 2000 ] 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 600 ] || fail "the daemon counts $(conns) connections, not 2,000"
	sleep 0.1
done
held=$(conns)
# 200 requests of every kind, 16 at a time, all answered.
i=0
while [ $i -lt 200 ]; do
	case $((i % 5)) in
	0) echo "$URL/latest" ;;
	1) echo "$URL/lookup/example.com/load/m$((i % 20))@v1.0.$i" ;;
	2) echo "$URL/tile/8/0/00$((i % 10))" ;;
	3) echo "$URL/tile/8/data/011.p/$((i % 100 + 1))" ;;
	4) echo "$URL/sumdb/sumdb.test.example/tile/8/data/00$((i % 10))" ;;
	esac
	i=$((i + 1))
done >"$T/urls"
xargs -P 16 -n 1 curl -s -m 60 -o /dev/null -w '%{http_code}\n' <"$T/urls" >"$T/codes"
ok=$(grep -c '^200$' "$T/codes")
[ "$ok" = 200 ] || fail "with 2,000 idle and slow connections open, $ok of 200 requests answered 200: $(sort "$T/codes" | uniq -c | tr '\n' ' ')"
touch "$T/flood/stop"
wait "$FPID"
grep -q '^held 2000 of 2000, closed 0' "$T/flood.out" ||
    fail "idle and slow connections dropped within their timeouts: $(cat "$T/flood.out")"
[ "$(status "$URL/latest")" = 200 ] || fail "not serving after the flood"
echo "$NAME: (b) $held connections open (1,000 idle, 1,000 slowloris), 200 of 200 requests answered 200 meanwhile, none of them dropped: ok"

stop_daemon
restart_daemon_with "[server]" "workers = 1" "max_connections = 64" \
    "max_connections_per_client = 10000" \
    "request_timeout = 300s" "idle_timeout = 300s"
$PY maxconn 127.0.0.1 "$PORT" 64 200 >"$T/maxconn" 2>&1 || fail "$(cat "$T/maxconn")"
[ "$(status "$URL/latest")" = 200 ] || fail "not serving after max_connections"
echo "$NAME: (b) $(sed -n 's/^maxconn: //p' "$T/maxconn"): ok"

# (c) The limits, each status with its one-line body.
stop_daemon
restart_daemon_with "[server]" "workers = 1" "request_timeout = 1s" \
    "audit_max_body = 1k" "audit_rate = 2"
gosum=$(awk 'NR == 2 { print $1, $2, $3 }' "$T/hashes")
$PY limits 127.0.0.1 "$PORT" "$gosum" >"$T/limits" 2>&1
rc=$?
sed "s/^/$NAME: /" "$T/limits"
kill -0 "$DPID" || fail "the daemon died on the limits"
[ "$(status "$URL/latest")" = 200 ] || fail "not serving after the limits"
[ $rc = 0 ] || fail "$(grep -c '^FAIL' "$T/limits") limits without their proper answer"
echo "$NAME: (c) $(grep -c '^ok' "$T/limits") limits each with its status, one-line body and connection behaviour: ok"
