#!/bin/sh
# `make bench-ha`: the mixed load of tests/load.lua (/latest, lookups,
# hash and data tiles) against one node on SQLite, one node on
# PostgreSQL, and three nodes on that PostgreSQL (one wrk per node, at
# once), all holding the same log (sumdbd migrate copied the SQLite
# store); then appends/s: versions the log does not hold yet, asked of
# the SQLite node, of the PostgreSQL writer, and of a node that forwards
# them to the writer.  Everything runs on this machine, so the ratios to
# the SQLite node matter, not the absolute figures.  PostgreSQL runs
# with fsync on, as the SQLite store syncs its signatures.
# Usage: bench-ha.sh BUILDDIR
set -eu
B=$(cd "$1" && pwd)
S=$(cd "$(dirname "$0")" && pwd)
DUR=${BENCH_SECONDS:-10}
N=${BENCH_RECORDS:-3000}
NADMIT=${BENCH_ADMIT:-600}
CONNS=${BENCH_CONNS:-64}
T=$(mktemp -d /tmp/sumdbd-benchha.XXXXXX)
PIDS=
PGDIR=
fail() {
	echo "bench-ha: $*" >&2
	exit 1
}
. "$S/peers.sh"
trap 'for p in $PIDS; do kill $p 2>/dev/null || :; done; stop_pg; rm -rf "$T"' EXIT

i=0
while [ $i -lt "$N" ]; do
	echo "example.com/load/m$((i % 20))@v1.0.$i"
	i=$((i + 1))
done >"$T/load.mods"
i=0
while [ $i -lt $((3 * NADMIT)) ]; do
	echo "example.com/admit$((i % 10))@v1.0.$i"
	i=$((i + 1))
done >"$T/admit.mods"
cat "$T/load.mods" "$T/admit.mods" | xargs "$B/xmodref" modtree "$T/proxy" >/dev/null
"$B/sumdbd" keygen -o "$T/log.key" sumdb.load.example >/dev/null 2>&1
# conf NAME PORT DATABASE [NODE]: a node's config.
conf() {
	mkdir -p "$T/$1"
	cat >"$T/$1.conf" <<EOC
[server]
listen = 127.0.0.1:$2
max_connections_per_client = 100000
database = $3
state_dir = $T/$1
[log]
name = sumdb.load.example
key = $T/log.key
goproxy = file://$T/proxy
max_fetches = 1024
max_fetches_per_client = 1024
EOC
	[ -z "${4:-}" ] || printf '[cluster]\nnode = %s\n' "$4" >>"$T/$1.conf"
}
conf sqlite 18921 "$T/sumdbd.db"
xargs "$B/sumdbd" add -c "$T/sqlite.conf" <"$T/load.mods" >/dev/null
PG_FSYNC=on start_pg "$(mktemp -d /tmp/sumdbd-pg.XXXXXX)"
"$B/sumdbd" migrate "$T/sumdbd.db" "$PGURL" >"$T/migrate" 2>&1 ||
    fail "migrate: $(cat "$T/migrate")"
conf n1 18922 "$PGURL" n1
conf n2 18923 "$PGURL" n2
conf n3 18924 "$PGURL" n3

# start NAME PORT: start node NAME; its pid in $SPID.
start() {
	curl -s -o /dev/null "http://127.0.0.1:$2/" && fail "127.0.0.1:$2 is in use"
	"$B/sumdbd" -d -c "$T/$1.conf" 2>"$T/$1.log" &
	SPID=$!
	PIDS="$PIDS $SPID"
	i=0
	until curl -sf -o /dev/null "http://127.0.0.1:$2/latest"; do
		i=$((i + 1)); [ $i -lt 100 ] || fail "$1 did not start: $(tail -3 "$T/$1.log")"
		sleep 0.1
	done
}
# mixed PORT CONNS: requests/s of the mixed load; any non-200 fails.
mixed() {
	wrk -t1 -c"$2" -d"${DUR}s" -s "$S/load.lua" "http://127.0.0.1:$1" -- "$N" \
	    >"$T/wrk.$1" 2>&1
	grep -q "non-200 0," "$T/wrk.$1" || fail "port $1: $(grep '^load:' "$T/wrk.$1")"
	awk '/^load: requests/ { sub(/\/s,$/, "", $4); print $4 }' "$T/wrk.$1"
}
# size: the log's signed tree size, read from the node at port $1.
size() {
	curl -sf "http://127.0.0.1:$1/latest" | sed -n 2p
}
# admit PORT FROM COUNT SIZEPORT: appends/s of COUNT versions from line
# FROM of admit.mods asked of PORT until the tree at SIZEPORT holds them.
admit() {
	sed -n "$2,$(($2 + $3 - 1))p" "$T/admit.mods" | sed 's|^|/lookup/|' >"$T/admit.$2"
	want=$(($(size "$4") + $3))
	t0=$(date +%s.%N)
	wrk -t2 -c"$CONNS" -d600s -s "$S/admit.lua" "http://127.0.0.1:$1" -- \
	    "$T/admit.$2" 2 >"$T/awrk" 2>&1 &
	wpid=$!
	i=0
	until [ "$(size "$4")" -ge "$want" ]; do
		i=$((i + 1)); [ $i -lt 12000 ] || fail "appends at $1 stuck at $(size "$4"), want $want"
		sleep 0.01
	done
	t1=$(date +%s.%N)
	kill "$wpid"
	wait "$wpid" 2>/dev/null || :
	echo "$t0 $t1 $3" | awk '{ printf "%.0f", $3 / ($2 - $1) }'
}
ratio() {
	echo "$1 $2" | awk '{ printf "%.2f", $1 / $2 }'
}

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
echo "bench-ha: $N records, ${DUR}s per run, $CONNS connections, $(nproc) cores ($cpu); PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') with fsync on, on this machine"
start sqlite 18921
sq_pid=$SPID
lite=$(mixed 18921 "$CONNS")
lite_adm=$(admit 18921 1 "$NADMIT" 18921)
kill "$sq_pid"
start n1 18922
pg1=$(mixed 18922 "$CONNS")
start n2 18923
start n3 18924
for p in 18922 18923 18924; do
	mixed $p $((CONNS / 3)) >"$T/rps.$p" &
	eval "w$p=\$!"
done
wait "$w18922" "$w18923" "$w18924"
pg3=$(cat "$T/rps.18922" "$T/rps.18923" "$T/rps.18924" | awk '{ s += $1 } END { printf "%.0f", s }')
wr=$(sed -n 's/.*node .n\([1-3]\). is the writer.*/\1/p' "$T"/n?.log | tail -n 1)
[ -n "$wr" ] || fail "no writer node"
wport=$((18921 + wr))
fport=$((18921 + wr % 3 + 1))
pg_adm=$(admit "$wport" $((NADMIT + 1)) "$NADMIT" "$wport")
fw_adm=$(admit "$fport" $((2 * NADMIT + 1)) "$NADMIT" "$wport")
printf '%-34s %10s %8s\n' "mixed load (requests/s)" value "/sqlite"
printf '%-34s %10s %8s\n' "1 node, SQLite" "$lite" 1.00
printf '%-34s %10s %8s\n' "1 node, PostgreSQL" "$pg1" "$(ratio "$pg1" "$lite")"
printf '%-34s %10s %8s\n' "3 nodes, PostgreSQL" "$pg3" "$(ratio "$pg3" "$lite")"
printf '%-34s %10s %8s\n' "appends/s ($NADMIT versions)" "" ""
printf '%-34s %10s %8s\n' "1 node, SQLite" "$lite_adm" 1.00
printf '%-34s %10s %8s\n' "PostgreSQL writer" "$pg_adm" "$(ratio "$pg_adm" "$lite_adm")"
printf '%-34s %10s %8s\n' "PostgreSQL, forwarded to writer" "$fw_adm" "$(ratio "$fw_adm" "$lite_adm")"
