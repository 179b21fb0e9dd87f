#!/bin/sh
# `make bench-scale`: a full mirror of a 1,000,000-record upstream
# (tests/upstream on loopback), which then grows to BENCH_RECORDS
# (default 10,000,000) and is synced again.  At each size: the sync's
# records/s (to the last record stored and indexed), the store's bytes
# against the log's own (record texts and level-0 hash tiles), peak RSS
# while syncing (goal at most 128 MiB) and while serving (at most 64
# MiB), the start time, `sumdbd fsck`'s time, and the mixed serving load
# of tests/load.lua (wrk -t2 -c64 for BENCH_SECONDS, default 20): the
# throughput and p99 at BENCH_RECORDS against those at 1,000,000 (goal:
# flat, a ratio of at least 0.9 and a p99 at most 1.5 times).  Not in
# `make check`.
set -eu
B=$(cd "$1" && pwd)
fail() { echo "bench-scale: $*" >&2; exit 1; }
N1=1000000
N=${BENCH_RECORDS:-10000000}
DUR=${BENCH_SECONDS:-20}
[ "$N" -gt "$N1" ] || fail "BENCH_RECORDS must be more than $N1"
T=$(mktemp -d /tmp/sumdbd-scale.XXXXXX)
PIDS=
trap 'for p in $PIDS; do kill $p 2>/dev/null || :; done; wait 2>/dev/null; rm -rf "$T"' EXIT
UP=sumdb.upstream.example
PORT=18951
upkey=$("$B/sumdbd" keygen -o "$T/up.key" $UP 2>/dev/null)
"$B/upstream" -gen "$N1" 127.0.0.1:$PORT "$T/up.key" 2>"$T/up.log" &
PIDS="$PIDS $!"
until curl -sf -o /dev/null http://127.0.0.1:$PORT/latest; do sleep 0.2; done
cat >"$T/sumdbd.conf" <<EOC
[server]
listen = 127.0.0.1:$((PORT + 1))
database = $T/sumdbd.db
[mirror $UP]
key = $upkey
url = http://127.0.0.1:$PORT
mode = full
poll = 1s
EOC
URL=http://127.0.0.1:$((PORT + 1))
q() { sqlite3 "$T/sumdbd.db" "$1" 2>/dev/null || echo 0; }
hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }

# start: sumdbd in the background, $spid; st, the seconds to its first
# answer.
start() {
	s0=$(date +%s.%N)
	"$B/sumdbd" -d -c "$T/sumdbd.conf" >>"$T/sumdbd.log" 2>&1 </dev/null &
	spid=$!
	until curl -s -o /dev/null "$URL/healthz"; do
		kill -0 $spid 2>/dev/null || fail "sumdbd exited: $(tail -3 "$T/sumdbd.log")"
		sleep 0.01
	done
	st=$(echo "$s0 $(date +%s.%N)" | awk '{ print $2 - $1 }')
}
stop() { kill $spid; wait $spid || :; }

# measure SIZE PREV: sync from PREV to SIZE records, then everything
# else; one line of figures.
measure() {
	t0=$(date +%s.%N)
	start
	until [ "$(q "SELECT indexed FROM log WHERE name = '$UP'")" = "$1" ]; do
		kill -0 $spid 2>/dev/null || fail "sumdbd exited: $(tail -3 "$T/sumdbd.log")"
		sleep 0.05
	done
	t1=$(date +%s.%N)
	synchwm=$(hwm $spid)
	stop
	db=$(stat -c %s "$T/sumdbd.db")
	[ ! -f "$T/sumdbd.db-wal" ] || db=$((db + $(stat -c %s "$T/sumdbd.db-wal")))
	logb=$(q "SELECT (SELECT sum(length(text)) FROM rtext WHERE k >> 40 = l.id) + (SELECT sum(length(data)) FROM tile WHERE log = l.id AND level = 0) FROM log l WHERE l.name = '$UP'")
	f0=$(date +%s.%N)
	"$B/sumdbd" fsck -c "$T/sumdbd.conf" >"$T/fsck" 2>&1 || fail "fsck: $(cat "$T/fsck")"
	f1=$(date +%s.%N)
	grep -q "$UP: $1 records, 0 problems" "$T/fsck" || fail "fsck: $(cat "$T/fsck")"
	start
	wrk -t2 -c64 -d"${DUR}s" --latency -s tests/load.lua "$URL" -- "$1" gen \
	    "/sumdb/$UP" >"$T/wrk" 2>&1
	servehwm=$(hwm $spid)
	stop
	grep -q 'non-200 0, errors connect 0 read 0 write 0 status 0 timeout 0$' "$T/wrk" &&
	    ! grep -q 'Socket errors\|Non-2xx' "$T/wrk" ||
	    fail "errors under load: $(cat "$T/wrk")"
	rps=$(sed -n 's/^load: requests [0-9]*, \([0-9]*\)\/s.*/\1/p' "$T/wrk")
	p99=$(sed -n 's/^load: latency ms.* p99 \([0-9.]*\) .*/\1/p' "$T/wrk")
	echo "$1 $2 $t0 $t1 $synchwm $db $logb $f0 $f1 $st $rps $p99 $servehwm"
}

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
measure $N1 0 >"$T/a"
curl -sf -o /dev/null "http://127.0.0.1:$PORT/admin/grow?n=$((N - N1))" || fail "grow"
measure $N $N1 >"$T/b"
a=$(cat "$T/a")
b=$(cat "$T/b")
echo "bench-scale: a full mirror of $N1, then $N records, loopback, $(nproc) cores ($cpu)"
printf '%s\n%s\n' "$a" "$b" | awk -v dur="$DUR" '
	{ n[NR] = $1; from[NR] = $2; sync[NR] = $4 - $3; shwm[NR] = $5;
	  db[NR] = $6; logb[NR] = $7; fsck[NR] = $9 - $8; st[NR] = $10;
	  rps[NR] = $11; p99[NR] = $12; vhwm[NR] = $13 }
	END {
	printf "%-44s %14s %14s\n", "", n[1] " rec", n[2] " rec";
	printf "%-44s %14.1f %14.1f\n", "sync seconds (from " from[1] ", " from[2] ")", sync[1], sync[2];
	printf "%-44s %14.0f %14.0f\n", "records/s synced", (n[1] - from[1]) / sync[1], (n[2] - from[2]) / sync[2];
	printf "%-44s %14.0f %14.0f\n", "store bytes", db[1], db[2];
	printf "%-44s %14.3f %14.3f\n", "ratio store : log", db[1] / logb[1], db[2] / logb[2];
	printf "%-44s %14.1f %14.1f\n", "peak RSS syncing (MiB)", shwm[1] / 1024, shwm[2] / 1024;
	printf "%-44s %14.2f %14.2f\n", "start, to the first answer (s)", st[1], st[2];
	printf "%-44s %14.1f %14.1f\n", "sumdbd fsck (s)", fsck[1], fsck[2];
	printf "%-44s %14.0f %14.0f\n", "load.lua, wrk -c64 " dur "s: requests/s", rps[1], rps[2];
	printf "%-44s %14.2f %14.2f\n", "load.lua: p99 (ms)", p99[1], p99[2];
	printf "%-44s %14.1f %14.1f\n", "peak RSS serving (MiB)", vhwm[1] / 1024, vhwm[2] / 1024;
	printf "%-44s %14.3f\n", "ratio requests/s, large : small", rps[2] / rps[1];
	printf "%-44s %14.3f\n", "ratio p99, large : small", p99[2] / p99[1];
	m = (shwm[1] > shwm[2]) ? shwm[1] : shwm[2];
	printf "goal: RSS syncing at most 128 MiB: %s\n", (m <= 131072) ? "met" : "MISSED";
	m = (vhwm[1] > vhwm[2]) ? vhwm[1] : vhwm[2];
	printf "goal: RSS serving at most 64 MiB: %s\n", (m <= 65536) ? "met" : "MISSED";
	printf "goal: store at most 1.2 of the log: %s\n", (db[2] / logb[2] <= 1.2) ? "met" : "MISSED";
	printf "goal: serving flat (requests/s >= 0.9, p99 <= 1.5x): %s\n",
	    (rps[2] / rps[1] >= 0.9 && p99[2] / p99[1] <= 1.5) ? "met" : "MISSED" }'
