#!/bin/sh
# Operations: /metrics parses as Prometheus text and its counters move
# with the requests made; SIGHUP under load (wrk) drops no request,
# applies a changed setting, names what needs a restart and keeps the
# running configuration when the file is broken; max_connections and
# request_timeout hold; SIGTERM under load exits 0 and leaves the store
# consistent (fsck) with every answered record kept.
. "$(dirname "$0")/lib.sh"

command -v wrk >/dev/null || fail "wrk is not installed"
PROM="python3 $(dirname "$0")/../promcheck.py"
mods="example.com/hello@v1.0.0"
i=0
while [ $i -lt 300 ]; do
	mods="$mods example.com/many@v1.0.$i"
	i=$((i + 1))
done
"$B/xmodref" modtree "$T/proxy" $mods >/dev/null || fail "module tree"
realmod_add "$T/proxy" xtools
"$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example >/dev/null 2>&1 ||
    fail "keygen"
start_daemon "[server]" "workers = 2"
DB=sumdb.test.example

# prom NAME{LABELS}...: fetch /metrics, check it, print the values.
prom() {
	curl -sf "$URL/metrics" >"$T/metrics.txt" || fail "GET /metrics"
	$PROM "$T/metrics.txt" "$@" >"$T/prom.out" 2>&1 ||
	    fail "/metrics is not Prometheus text: $(cat "$T/prom.out")"
	cat "$T/prom.out"
}

# 1. /metrics parses, and its counters move with requests.
set -- 'sumdbd_http_requests_total{code="200",route="lookup"}' \
    'sumdbd_http_requests_total{code="404",route="lookup"}' \
    'sumdbd_http_request_duration_seconds_count{route="lookup"}' \
    "sumdbd_records_added_total{db=\"$DB\"}" \
    "sumdbd_tree_size{db=\"$DB\"}" \
    'sumdbd_http_requests_total{code="200",route="latest"}'
prom "$@" | tr '\n' ' ' >"$T/before"
for v in 0 1 2 3 4 0 1 2; do
	[ "$(status "$URL/lookup/example.com/many@v1.0.$v")" = 200 ] ||
	    fail "lookup many@v1.0.$v"
done
for v in v1.9.9 v1.9.8; do
	[ "$(status "$URL/lookup/example.com/many@$v")" = 404 ] ||
	    fail "lookup of a missing version is not 404"
done
curl -sf -o /dev/null "$URL/latest" || fail "GET /latest"
prom "$@" | tr '\n' ' ' >"$T/after"
read -r ok0 nf0 cnt0 add0 size0 lat0 <"$T/before"
read -r ok1 nf1 cnt1 add1 size1 lat1 <"$T/after"
[ "$ok0" = absent ] && ok0=0
[ "$nf0" = absent ] && nf0=0
[ $((ok1 - ok0)) = 8 ] || fail "lookup 200s went $ok0 -> $ok1, want +8"
[ $((nf1 - nf0)) = 2 ] || fail "lookup 404s went $nf0 -> $nf1, want +2"
[ $((cnt1 - cnt0)) = 10 ] || fail "lookup latencies went $cnt0 -> $cnt1"
[ $((add1 - add0)) = 5 ] || fail "records added went $add0 -> $add1, want +5"
[ $((size1 - size0)) = 5 ] || fail "tree size went $size0 -> $size1"
[ "$lat1" -gt "${lat0#absent}" ] 2>/dev/null || [ "$lat0" = absent ] ||
    fail "latest 200s did not move"
for m in sumdbd_store_bytes sumdbd_http_connections \
    "sumdbd_checkpoint_age_seconds{db=\"$DB\"}" \
    'sumdbd_reloads_total{result="ok"}'; do
	[ "$(prom "$m")" != absent ] || fail "/metrics has no $m"
done
echo "$NAME: /metrics is Prometheus text; requests, latencies, records and tree size move: ok"

# The workers' cache: a repeated tile or lookup is a hit, byte for byte.
h0=$(prom 'sumdbd_cache_lookups_total{result="hit"}')
for p in /tile/8/0/000.p/5 /tile/8/data/000.p/5 \
    /lookup/example.com/many@v1.0.3; do
	for n in 1 2 3 4; do
		curl -sf "$URL$p" >"$T/c.$n" || fail "GET $p"
	done
	cmp -s "$T/c.1" "$T/c.4" || fail "$p: a cached answer differs"
done
h1=$(prom 'sumdbd_cache_lookups_total{result="hit"}')
# Two workers: each may miss once per path before it hits.
[ $((h1 - h0)) -ge 6 ] || fail "cache hits went $h0 -> $h1"
echo "$NAME: repeated tiles and lookups come from the cache, byte for byte: ok"

# 2. SIGHUP under load: no request lost, a changed setting applied.
big=$(python3 -c 'print("a" * 3000)')
[ "$(status -H "X-Big: $big" "$URL/latest")" = 200 ] ||
    fail "a 3000-byte header before the reload"
wrk -t2 -c32 -d6s "$URL/latest" >"$T/wrk1" 2>&1 &
WPID=$!
sleep 1
for n in 1 2 3; do
	kill -HUP "$DPID"
	sleep 0.5
done
write_config "$T/sumdbd.conf" "$PORT" "[server]" "workers = 2" \
    "max_header_size = 2k"
kill -HUP "$DPID"
sleep 0.5
kill -HUP "$DPID"
wait "$WPID" || fail "wrk failed: $(cat "$T/wrk1")"
grep -q 'requests in' "$T/wrk1" || fail "wrk: $(cat "$T/wrk1")"
if grep -q 'Non-2xx\|Socket errors' "$T/wrk1"; then
	fail "requests failed during SIGHUPs: $(cat "$T/wrk1")"
fi
nreq=$(awk '/requests in/ { print $1 }' "$T/wrk1")
wait_for grep -q 'SIGHUP: \[server\] max_header_size changed: applied' \
    "$T/daemon.log" || fail "the reload did not report max_header_size"
code=$(status -H "X-Big: $big" "$URL/latest")
case $code in
4*) ;;
*) fail "a 3000-byte header after max_header_size = 2k: $code" ;;
esac
[ "$(status -H "X-Small: b" "$URL/latest")" = 200 ] || fail "small header"
echo "$NAME: $nreq requests during 5 SIGHUPs, none failed; max_header_size applied (3000-byte header now $code): ok"

# A setting that needs a restart says so; a broken file changes nothing.
write_config "$T/sumdbd.conf" "$PORT" "[server]" "workers = 1" \
    "max_header_size = 2k"
kill -HUP "$DPID"
wait_for grep -q 'SIGHUP: \[server\] workers changed: needs a restart' \
    "$T/daemon.log" || fail "workers: no 'needs a restart'"
errs0=$(prom 'sumdbd_reloads_total{result="error"}')
write_config "$T/sumdbd.conf" "$PORT" "[server]" "workers = 1" \
    "max_header_size = 2k" "bogus = 1"
line=$(grep -n '^bogus' "$T/sumdbd.conf" | cut -d: -f1)
kill -HUP "$DPID"
wait_for grep -q "SIGHUP: $T/sumdbd.conf:$line: unknown key 'bogus'.*keeping the running configuration" \
    "$T/daemon.log" || fail "a broken config on SIGHUP: $(grep SIGHUP "$T/daemon.log" | tail -3)"
[ "$(status "$URL/latest")" = 200 ] || fail "not serving after a bad reload"
[ "$(prom 'sumdbd_reloads_total{result="error"}')" = $((errs0 + 1)) ] ||
    fail "sumdbd_reloads_total{result=\"error\"} did not move"
echo "$NAME: restart-only keys are named, a broken file is refused with its line and the old configuration kept: ok"

# 3. max_connections and request_timeout.
stop_daemon
write_config "$T/sumdbd.conf" "$PORT" "[server]" "workers = 1" \
    "max_connections = 4" "request_timeout = 1s" "idle_timeout = 60s"
restart_daemon
python3 - "$PORT" >"$T/limits" 2>&1 <<'EOF' || fail "limits: $(cat "$T/limits")"
import socket, sys, time
port = int(sys.argv[1])
def conn():
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(5)
    return s
req = b"GET /latest HTTP/1.1\r\nHost: x\r\n\r\n"
# Four idle connections fill max_connections = 4.
idle = [conn() for _ in range(4)]
time.sleep(0.3)
fifth = conn()
fifth.sendall(req)
fifth.settimeout(0.8)
try:
    got = fifth.recv(100)
    sys.exit("a fifth connection was served at max_connections = 4: %r" % got)
except socket.timeout:
    pass
idle[0].close()
fifth.settimeout(5)
got = fifth.recv(100)
if not got.startswith(b"HTTP/1.1 200"):
    sys.exit("the fifth connection, once one closed: %r" % got)
fifth.close()
# A request trickling in: closed after request_timeout (1 s) although
# each byte comes well within idle_timeout.
slow = conn()
slow.sendall(b"GET /latest HTTP/1.1\r\n")
t0 = time.time()
closed = False
for i in range(40):
    try:
        slow.sendall(b"X-Slow: %d\r\n" % i)
    except OSError:
        closed = True
        break
    slow.settimeout(0.25)
    try:
        if slow.recv(100) == b"":
            closed = True
            break
    except socket.timeout:
        pass
    except OSError:
        closed = True
        break
if not closed:
    sys.exit("a slow request was not closed in %.1f s" % (time.time() - t0))
print("slow request closed after %.1f s" % (time.time() - t0))
for s in idle[1:]:
    s.close()
EOF
[ "$(status "$URL/latest")" = 200 ] || fail "not serving after the limits"
echo "$NAME: max_connections holds the fifth connection until one closes; $(cat "$T/limits"): ok"

# 4. SIGTERM under load (wrk, and lookups appending, the last of them
# a real-size module, x/tools, most likely still being hashed): exit 0,
# fsck clean, every record answered before it still there.
stop_daemon
write_config "$T/sumdbd.conf" "$PORT" "[server]" "workers = 2"
restart_daemon
wrk -t2 -c32 -d20s "$URL/latest" >"$T/wrk2" 2>&1 &
WPID=$!
(
	v=10
	while [ $v -lt 300 ]; do
		curl -s -o "$T/lk.$v" -w '%{http_code}\n' \
		    "$URL/lookup/example.com/many@v1.0.$v" >"$T/lk.$v.code" ||
		    break
		v=$((v + 1))
	done
) &
LPID=$!
(sleep 1.95; curl -s -o "$T/big" -w '%{http_code}' \
    "$URL/lookup/$(realmod_mv xtools)" >"$T/big.code") &
BIGPID=$!
sleep 2
kill -TERM "$DPID"
wait "$DPID"
rc=$?
kill "$WPID" 2>/dev/null
wait "$WPID" 2>/dev/null
wait "$LPID" 2>/dev/null
wait "$BIGPID" 2>/dev/null
[ $rc = 0 ] || fail "sumdbd exited $rc on SIGTERM under load"
grep -q 'stopping: no new connections' "$T/daemon.log" ||
    fail "no stopping message"
"$B/sumdbd" fsck -c "$T/sumdbd.conf" >"$T/fsck" 2>&1 ||
    fail "fsck after SIGTERM: $(cat "$T/fsck")"
restart_daemon
kept=0
for f in "$T"/lk.*.code; do
	[ "$(cat "$f")" = 200 ] || continue
	v=${f#"$T/lk."}
	v=${v%.code}
	curl -s "$URL/lookup/example.com/many@v1.0.$v" | head -3 >"$T/now"
	head -3 "$T/lk.$v" | cmp -s - "$T/now" ||
	    fail "many@v1.0.$v answered before SIGTERM differs after"
	kept=$((kept + 1))
done
[ $kept -gt 0 ] || fail "no lookup was answered before SIGTERM"
big=$(cat "$T/big.code")
if [ "$big" = 200 ]; then
	realmod_record xtools >"$T/big.want"
	sed -n 2,3p "$T/big" | cmp -s - "$T/big.want" ||
	    fail "x/tools answered before SIGTERM: $(head -3 "$T/big")"
fi
realmod_lookup "$URL" xtools
echo "$NAME: SIGTERM under load: exit 0, fsck clean, $kept records answered before it unchanged after a restart; x/tools in flight answered $big, then the go command's record: ok"

# Without -d it detaches: the command returns 0 and the daemon serves.
stop_daemon
"$B/sumdbd" -c "$T/sumdbd.conf" >"$T/out" 2>&1 || fail "sumdbd without -d: $(cat "$T/out")"
wait_for curl -sf -o /dev/null "$URL/latest" || fail "the detached daemon does not serve"
dpid=$(pgrep -f -- "-c $T/sumdbd.conf\$") || fail "no detached daemon"
PIDS="$PIDS $dpid"
[ "$(ps -o ppid= -p "$dpid" | tr -d ' ')" = 1 ] || [ -z "$(ps -o tty= -p "$dpid" | tr -d ' ?')" ] ||
    fail "the daemon did not detach"
kill -TERM "$dpid"
wait_for sh -c "! kill -0 $dpid 2>/dev/null" || fail "the detached daemon did not stop"
echo "$NAME: without -d the daemon detaches, serves and stops on SIGTERM: ok"
