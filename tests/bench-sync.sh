#!/bin/sh
# `make bench-sync`: a full mirror of a 1,000,000-record upstream on
# loopback (tests/upstream), timed from start to the last record
# verified and stored; printed as records/s and as a ratio to raw
# SHA-256 (64-byte inputs through OpenSSL EVP) measured in the same run.
set -eu
B=$(cd "$1" && pwd)
N=${BENCH_RECORDS:-1000000}
T=$(mktemp -d /tmp/sumdbd-bench.XXXXXX)
PIDS=
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"' EXIT
UP=sumdb.upstream.example
upkey=$("$B/sumdbd" keygen -o "$T/up.key" $UP 2>/dev/null)
"$B/upstream" -gen "$N" 127.0.0.1:18921 "$T/up.key" 2>"$T/up.log" &
PIDS="$PIDS $!"
until curl -sf -o /dev/null http://127.0.0.1:18921/latest; do sleep 0.2; done
raw=$("$B/tests/bench_core" raw)
cat >"$T/sumdbd.conf" <<EOC
[server]
listen = 127.0.0.1:18922
database = $T/sumdbd.db
[mirror $UP]
key = $upkey
url = http://127.0.0.1:18921
mode = full
EOC
t0=$(date +%s.%N)
"$B/sumdbd" -d -c "$T/sumdbd.conf" 2>"$T/sumdbd.log" &
PIDS="$PIDS $!"
until [ "$(sqlite3 "$T/sumdbd.db" "SELECT full_next FROM log WHERE name = '$UP'" 2>/dev/null || echo 0)" = "$N" ]; do
	sleep 0.05
done
t1=$(date +%s.%N)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
echo "bench-sync: full mirror of $N records over loopback, $(nproc) cores ($cpu)"
echo "$t0 $t1 $N $raw" | awk '{ s = $2 - $1; r = $3 / s;
	printf "%-40s %12.2f\n", "seconds", s;
	printf "%-40s %12.0f\n", "records/s verified and stored", r;
	printf "%-40s %12.0f\n", "raw SHA-256/s, 64-byte inputs (EVP)", $4;
	printf "%-40s %12.3f\n", "ratio records/s : raw SHA-256/s", r / $4;
	if (r >= 300000) g = "met"; else g = "MISSED";
	printf "goal: 300000 records/s: %s\n", g }'
