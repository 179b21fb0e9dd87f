#!/bin/sh
# A hostile upstream and GOPROXY: endless header lines, a body longer
# than any limit (with a Content-Length and chunked), an upstream
# refused on every lookup, redirects to another host, a 503 with
# Retry-After (retried) and a dead
# upstream polled for over a minute.  Each is
# refused (502) with the daemon's memory bounded, the reason logged,
# and the daemon serving on (an honest HTTP GOPROXY's real-size module
# is then hashed right); a redirect to another host is followed
# only with redirect_other_hosts; the retry interval after failures
# stays capped at the poll interval.
. "$(dirname "$0")/lib.sh"

UP=up.test.example
upkey=$("$B/sumdbd" keygen -o "$T/up.key" $UP 2>/dev/null) || fail "keygen"
"$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example >/dev/null 2>&1
start_upstream -gen 100

# A mirror of a dead upstream, polled every second (the minimum): its
# failures are counted at the end, after more than 55 of them.  One
# request a poll (retries = 0): the polls' own backoff is what counts.
mkdir -p "$T/dead"
cat >"$T/dead/sumdbd.conf" <<EOC
[server]
listen = 127.0.0.1:1
database = $T/dead/sumdbd.db
[mirror $UP]
key = $upkey
url = http://127.0.0.1:1
poll = 1s
retries = 0
EOC
for try in 1 2 3 4 5; do
	DEADPORT=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000 ))
	sed -i "s|^listen = .*|listen = 127.0.0.1:$DEADPORT|" "$T/dead/sumdbd.conf"
	"$B/sumdbd" -d -c "$T/dead/sumdbd.conf" >"$T/dead/daemon.log" 2>&1 &
	DEADPID=$!
	PIDS="$PIDS $DEADPID"
	wait_for curl -s -o /dev/null "http://127.0.0.1:$DEADPORT/healthz" && break
	kill -9 "$DEADPID" 2>/dev/null
done
kill -0 "$DEADPID" 2>/dev/null || fail "the dead upstream's mirror did not start"
dead_t0=$(date +%s)

PROXY=http://127.0.0.1:$UPORT
# The upstream stands in for a hostile GOPROXY too: public paths are
# hashed from it (public = goproxy), not taken from the mirror.
start_daemon "public = goproxy" "[mirror $UP]" "key = $upkey" "url = http://127.0.0.1:$UPORT" \
    "poll = 1h" "fetch_timeout = 10s" "max_evidence = 2"
sed -i "s|^goproxy = .*|goproxy = $PROXY|" "$T/sumdbd.conf"
kill -HUP "$DPID"
wait_for grep -q "goproxy" "$T/daemon.log" || true
M=$URL/sumdb/$UP
attack() { curl -sf -o /dev/null "http://127.0.0.1:$UPORT/admin/attack?kind=$1" || fail "attack $1"; }
status() { curl -s -o /dev/null -w '%{http_code}' "$1"; }
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$DPID/status"; }

[ "$(status "$M/lookup/example.com/gen/m1@v1.0.1")" = 200 ] || fail "a first lookup"
rss0=$(rss)

# bomb KIND URL WHAT: the daemon refuses with 502, logs WHAT, and its
# RSS grows by less than 64 MiB.
bomb() {
	attack "$1"
	s=$(status "$2")
	attack none
	[ "$s" = 502 ] || fail "$1: got $s, want 502"
	grep -q "$3" "$T/daemon.log" || fail "$1: no '$3' in the log"
	rss1=$(rss)
	[ $((rss1 - rss0)) -lt 65536 ] ||
	    fail "$1: RSS grew from $rss0 to $rss1 KiB"
	kill -0 "$DPID" || fail "$1: the daemon died"
	[ "$(status "$M/lookup/example.com/gen/m1@v1.0.1")" = 200 ] ||
	    fail "$1: a stored lookup after it"
	echo "$NAME: $1 on $4: 502, RSS $rss0 -> $rss1 KiB: ok"
}
bomb headerbomb "$M/lookup/example.com/gen/m2@v1.0.2" \
    "response head, or larger than 65536 bytes" "the upstream"
bomb lengthbomb "$M/lookup/example.com/gen/m3@v1.0.3" \
    "body larger than" "the upstream"
bomb chunkbomb "$M/lookup/example.com/gen/m4@v1.0.4" \
    "body larger than" "the upstream"
# The same against the private log's GOPROXY (the zip's limit is
# max_module_size, 500M by default: the chunked bomb stops there).
bomb headerbomb "$URL/lookup/example.com/hostile@v1.0.0" \
    "GOPROXY: .*response head, or larger than 65536 bytes" "the GOPROXY"
bomb lengthbomb "$URL/lookup/example.com/hostile@v1.0.1" \
    "GOPROXY: .*body larger than" "the GOPROXY"

# After them, an honest HTTP GOPROXY serving a real-size module (x/tools,
# 2.4 MB): its body is read whole and hashed to the go command's record.
realmod_add "$T/proxy" xtools
serve_http "$T/proxy" "$(realmod_field xtools 2)/@v/list"
nreload=$(grep -c 'goproxy changed' "$T/daemon.log")
sed -i "s|^goproxy = .*|goproxy = http://127.0.0.1:$HPORT|" "$T/sumdbd.conf"
kill -HUP "$DPID"
wait_for sh -c "[ \$(grep -c 'goproxy changed' $T/daemon.log) -gt $nreload ]" ||
    fail "the new goproxy not reloaded"
realmod_lookup "$URL" xtools
rss1=$(rss)
[ $((rss1 - rss0)) -lt 65536 ] || fail "x/tools: RSS grew from $rss0 to $rss1 KiB"
echo "$NAME: then x/tools (2.4 MB) from an honest HTTP GOPROXY: the go command's record, RSS $rss0 -> $rss1 KiB: ok"

# An upstream that misbehaves on every lookup: the first max_evidence
# refusals of a kind are kept, the rest only logged.
attack lookupother
for m in 7 8 9 10; do
	s=$(status "$M/lookup/example.com/gen/m$m@v1.0.$m")
	[ "$s" = 502 ] || fail "lookupother m$m: got $s, want 502"
done
attack none
n=$(sqlite3 "$T/sumdbd.db" "SELECT count(*) FROM evidence WHERE kind = 'unrelated'")
[ "$n" = 2 ] || fail "$n pieces of unrelated evidence kept, want max_evidence = 2"
[ "$(grep -c "2 pieces of unrelated evidence kept already (max_evidence): not this one" "$T/daemon.log")" = 2 ] ||
    fail "the refusals past max_evidence not logged"
echo "$NAME: 4 refused lookups, 2 kept as evidence (max_evidence = 2): ok"

# Redirects: to another host, refused unless redirect_other_hosts.
attack redirect
s=$(status "$M/lookup/example.com/gen/m5@v1.0.5")
[ "$s" = 502 ] || fail "redirect to another host: got $s, want 502"
grep -q "refusing redirect to another host: 'http://127.0.0.2:$UPORT/" "$T/daemon.log" ||
    fail "redirect to another host: not logged"
echo "$NAME: a redirect to another host refused: ok"
echo "redirect_other_hosts = yes" >>"$T/sumdbd.conf"
kill -HUP "$DPID"
wait_for grep -q "redirect_other_hosts" "$T/daemon.log" || fail "reload not logged"
[ "$(status "$M/lookup/example.com/gen/m5@v1.0.5")" = 200 ] ||
    fail "redirect to another host with redirect_other_hosts = yes"
echo "$NAME: followed with redirect_other_hosts = yes: ok"
attack redirectrel
[ "$(status "$M/lookup/example.com/gen/m6@v1.0.6")" = 200 ] ||
    fail "a relative redirect on the same host"
attack none
echo "$NAME: a relative redirect on the same host followed: ok"

# A transient failure: the upstream answers each path's first request
# with 503 and Retry-After: 1; the request is retried after it.  None
# of the bombs or refused redirects before was retried.
retries() {
	curl -s "$URL/metrics" | sed -n "s/^sumdbd_fetch_retries_total{target=\"mirror $UP\"} //p"
}
r0=$(retries)
[ "$r0" = 0 ] || fail "bombs and refused redirects were retried: $r0 retries"
gr=$(curl -s "$URL/metrics" | sed -n 's/^sumdbd_fetch_retries_total{target="goproxy"} //p')
[ "$gr" = 0 ] || fail "the GOPROXY's bombs were retried: $gr retries"
attack busy
[ "$(status "$M/lookup/example.com/gen/m11@v1.0.11")" = 200 ] ||
    fail "a lookup past a 503 with Retry-After: 1"
attack none
r1=$(retries)
[ "${r1:-0}" -gt "${r0:-0}" ] ||
    fail "the 503 was not counted as a retry ($r0 -> $r1)"
echo "$NAME: a 503 with Retry-After retried, $((r1 - r0)) retries counted: ok"

# Stopped while an upstream answer is slow (5 s) and shutdown_timeout is
# 0: the fetch in flight is answered as failed, so that the job waiting
# for it is freed (the sanitizer's leak check in cleanup sees the rest).
sed -i "/^\[server\]/a shutdown_timeout = 0s" "$T/sumdbd.conf"
hups() { [ "$(grep -c 'SIGHUP: rereading' "$T/daemon.log")" -ge "$1" ]; }
nhup=$(grep -c 'SIGHUP: rereading' "$T/daemon.log")
kill -HUP "$DPID"
wait_for hups $((nhup + 1)) || fail "no SIGHUP"
sleep 0.5
attack slow
curl -s -o /dev/null --max-time 30 "$M/lookup/example.com/gen/m12@v1.0.12" &
SLOWPID=$!
PIDS="$PIDS $SLOWPID"
# Two connections: the slow lookup's and the one asking.
inflight() {
	[ "$(curl -s "$URL/metrics" | sed -n 's/^sumdbd_http_connections //p')" -ge 2 ]
}
wait_for inflight || fail "the slow lookup never reached the daemon"
sleep 1
stop_daemon
attack none
kill "$SLOWPID" 2>/dev/null
grep -q "stopping: [0-9]* upstream fetch.* in flight answered as failed" "$T/daemon.log" ||
    fail "stopped with a slow upstream fetch: it was not answered: $(tail -3 "$T/daemon.log")"
echo "$NAME: stopped during a slow upstream fetch, the fetch answered as failed: ok"

# The dead upstream: more than 55 failed polls (the old doubling
# overflowed there), at most one a second, and the daemon alive.
dead_t=$(( $(date +%s) - dead_t0 ))
[ $dead_t -lt 62 ] && sleep $((62 - dead_t))
dead_t=$(( $(date +%s) - dead_t0 ))
kill -0 "$DEADPID" 2>/dev/null || fail "the dead upstream's mirror died: $(tail -3 "$T/dead/daemon.log")"
nfail=$(grep -c "mirror '$UP': '" "$T/dead/daemon.log")
[ "$nfail" -ge 50 ] || fail "only $nfail failed polls in $dead_t s"
[ "$nfail" -le $((dead_t + 5)) ] ||
    fail "$nfail failed polls in $dead_t s: the retry interval went below 1s"
if grep -q 'Sanitizer\|runtime error:' "$T/dead/daemon.log"; then
	grep -A 10 'Sanitizer\|runtime error:' "$T/dead/daemon.log" | head -20 >&2
	fail "sanitizer report from the dead upstream's mirror"
fi
echo "$NAME: $nfail failed polls of a dead upstream in $dead_t s, each 1s apart: ok"
