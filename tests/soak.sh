#!/bin/sh
# `make soak` (not part of `make check`): memory under sustained load.
# A full mirror of a SOAK_RECORDS-record upstream (default 1,000,000;
# tests/upstream), synced to the end, then wrk (at nice 10) on 64
# connections for SOAK_TIME seconds (default 600) over /latest, lookups
# of stored records, full and partial hash tiles and data tiles
# (tests/load.lua), while the daemon's VmRSS is read from /proc every
# 10 s.  Prints the RSS curve (seconds, MiB) and its maximum; fails if
# any answer was not 200, if RSS under load (the sync before it is
# reported apart) ever exceeds SOAK_MAX_MIB (default 64),
# or if the mean RSS of the last third of the run is more than 5% above
# that of the first third.  SOAK_RECORDS, SOAK_TIME, SOAK_MAX_MIB and
# SOAK_CONFIG (one more [server] line) change the run.
set -u
B=${1:?usage: soak.sh BUILDDIR}
export B
. "$(dirname "$0")/e2e/lib.sh"
NAME=soak.sh

UP=sumdb.upstream.example
N=${SOAK_RECORDS:-1000000}
SECS=${SOAK_TIME:-600}
MAXMIB=${SOAK_MAX_MIB:-64}
command -v wrk >/dev/null || fail "wrk is not installed"
upkey=$("$B/sumdbd" keygen -o "$T/up.key" $UP 2>/dev/null) || fail "keygen"
"$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example >/dev/null 2>&1
echo "$NAME: building a $N-record upstream"
start_upstream -gen "$N"
U=http://127.0.0.1:$UPORT
# SOAK_CONFIG: one more [server] line to try, e.g. "cache_size = 4M".
start_daemon "[mirror $UP]" "key = $upkey" "url = $U" "mode = full" "poll = 1s" \
    ${SOAK_CONFIG:+"[server]" "$SOAK_CONFIG"}
M=$URL/sumdb/$UP
next() { sqlite3 "$T/sumdbd.db" "SELECT full_next FROM log WHERE name = '$UP'" 2>/dev/null || echo 0; }
rss() { awk '/^VmRSS:/ { printf "%.1f\n", $2 / 1024 }' "/proc/$DPID/status"; }
i=0
until [ "$(next)" = "$N" ]; do
	i=$((i + 1)); [ $i -lt 6000 ] || fail "full sync did not finish: $(next) of $N"
	sleep 0.1
done
[ "$(curl -s "$M/latest")" = "$(curl -s "$U/latest")" ] || fail "not the upstream's checkpoint"
echo "$NAME: synced $N records; RSS $(rss) MiB; store $(du -m "$T/sumdbd.db" | cut -f1) MiB; wrk on 64 connections for $SECS s"

nice -n 10 wrk -t2 -c64 -d"${SECS}s" --timeout 60s -s "$(dirname "$0")/load.lua" \
    "$URL" -- "$N" gen "/sumdb/$UP" >"$T/wrk" 2>&1 &
WPID=$!
PIDS="$PIDS $WPID"
t0=$(date +%s)
: >"$T/rss"
while :; do
	now=$(($(date +%s) - t0))
	kill -0 "$DPID" 2>/dev/null || fail "the daemon died"
	echo "$now $(rss)" >>"$T/rss"
	kill -0 "$WPID" 2>/dev/null || break
	# The next multiple of 10 s.
	sleep $((10 - ($(date +%s) - t0) % 10))
done
wait "$WPID" || fail "wrk: $(cat "$T/wrk")"
sed -n 's/^load: //p' "$T/wrk" | sed "s/^/$NAME: /"
echo "$NAME: RSS curve (s MiB):"
awk '{ printf "  %4d %6.1f\n", $1, $2 }' "$T/rss"
# The maximum and the thirds are of the samples taken under load, not
# the one at 0 s, which the sync just before leaves (printed apart).
res=$(awk -v max="$MAXMIB" '
	$1 == 0 { printf "after the sync %.1f MiB; under load: ", $2 }
	$1 > 0 { n++; r[n] = $2; if ($2 > m) m = $2 }
	END {
		k = int(n / 3); if (k < 1) k = 1
		for (i = 1; i <= k; i++) a += r[i]
		for (i = n - k + 1; i <= n; i++) b += r[i]
		a /= k; b /= k
		g = (b - a) / a * 100
		printf "max %.1f MiB, first third %.1f MiB, last third %.1f MiB, growth %+.1f%%", m, a, b, g
		bad = ""
		if (m > max) bad = bad sprintf("; RSS over %d MiB", max)
		if (g > 5) bad = bad "; RSS grew more than 5%"
		print bad
	}' "$T/rss")
echo "$NAME: $res"
echo "$NAME: at the end: $(grep -E '^(VmRSS|RssAnon|RssFile|VmHWM)' "/proc/$DPID/status" | tr -s ' \t' ' ' | sed 's/ kB/ kB,/' | tr '\n' ' ')"
grep -q 'non-200 0, errors connect 0 read 0 write 0 status 0 timeout 0$' "$T/wrk" ||
    fail "errors under load: $(cat "$T/wrk")"
case $res in
*';'*) fail "${res#*; }" ;;
esac
echo "$NAME: ok"
