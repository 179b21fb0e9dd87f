#!/bin/sh
# `make bench-sync`: a full mirror of a 1,000,000-record upstream
# (BENCH_RECORDS) on loopback (tests/upstream), timed from start to the
# last record verified, stored and indexed for lookups; printed as
# records/s and as a ratio to the in-memory tree recompute
# (tests/bench_core tree: every record hashed, every stored hash made)
# measured in the same run, goal at least 0.40; then the store's bytes
# on disk against the log's own (record texts and level-0 hash tiles),
# goal at most 1.2.
# Then the same log as a static tree (tests/upstream -dir) from Debian's
# nginx over TLS and HTTP/2, once on loopback and once across a link
# with a 50 ms round trip: nginx in a network namespace of its own,
# joined to ours by a veth pair with `tc netem delay 25ms` on each side,
# or, on a kernel without netem, by a TUN pair through tests/netdelay.py
# (25 ms each way); both made and removed here, so this needs root.
# Printed as records/s each and their ratio (goal: at least 0.5).
set -eu
B=$(cd "$1" && pwd)
. "$(dirname "$0")/peers.sh"
fail() { echo "bench-sync: $*" >&2; exit 1; }
N=${BENCH_RECORDS:-1000000}
T=$(mktemp -d /tmp/sumdbd-bench.XXXXXX)
PIDS=
NS=
# Under set -e: a kill of a process gone already must not end the trap.
trap 'for p in $PIDS; do kill $p 2>/dev/null || :; done; wait 2>/dev/null
	[ -z "$NS" ] || ip netns del "$NS"; rm -rf "$T"' EXIT
UP=sumdb.upstream.example
upkey=$("$B/sumdbd" keygen -o "$T/up.key" $UP 2>/dev/null)
"$B/upstream" -gen "$N" 127.0.0.1:18921 "$T/up.key" 2>"$T/up.log" &
UPID=$!
PIDS="$PIDS $UPID"
until curl -sf -o /dev/null http://127.0.0.1:18921/latest; do sleep 0.2; done
tree=$("$B/tests/bench_core" tree)

# timed_sync URL: a full mirror of URL into a new database; prints the
# seconds from sumdbd's start to the last record stored.
timed_sync() {
	rm -f "$T/sumdbd.db" "$T/sumdbd.db-wal" "$T/sumdbd.db-shm"
	cat >"$T/sumdbd.conf" <<EOC
[server]
listen = 127.0.0.1:18922
database = $T/sumdbd.db
[mirror $UP]
key = $upkey
url = $1
mode = full
EOC
	t0=$(date +%s.%N)
	SSL_CERT_FILE=$T/ca.pem "$B/sumdbd" -d -c "$T/sumdbd.conf" \
	    2>>"$T/sumdbd.log" &
	spid=$!
	until [ "$(sqlite3 "$T/sumdbd.db" "SELECT indexed FROM log WHERE name = '$UP'" 2>/dev/null || echo 0)" = "$N" ]; do
		kill -0 $spid 2>/dev/null || fail "sumdbd exited: $(tail -5 "$T/sumdbd.log")"
		sleep 0.05
	done
	t1=$(date +%s.%N)
	kill $spid
	wait $spid || :
	echo "$t0 $t1" | awk '{ print $2 - $1 }'
}

s=$(timed_sync http://127.0.0.1:18921)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
# The store as the stopped daemon left it, against the log's own bytes:
# record texts and level-0
# hash tiles.
db=$(stat -c %s "$T/sumdbd.db")
[ ! -f "$T/sumdbd.db-wal" ] || db=$((db + $(stat -c %s "$T/sumdbd.db-wal")))
logb=$(sqlite3 "$T/sumdbd.db" "SELECT (SELECT sum(length(text)) FROM rtext WHERE k >> 40 = l.id) + (SELECT sum(length(data)) FROM tile WHERE log = l.id AND level = 0) FROM log l WHERE l.name = '$UP'")
echo "bench-sync: full mirror of $N records over loopback, $(nproc) cores ($cpu)"
echo "$s $N $tree $db $logb" | awk '{ s = $1; r = $2 / s;
	printf "%-44s %12.2f\n", "seconds", s;
	printf "%-44s %12.0f\n", "records/s verified, stored and indexed", r;
	printf "%-44s %12.0f\n", "tree recompute, records/s (bench_core)", $3;
	printf "%-44s %12.3f\n", "ratio records/s : tree recompute", r / $3;
	printf "%-44s %12.0f\n", "store bytes on disk", $4;
	printf "%-44s %12.0f\n", "log bytes (record texts + level-0 tiles)", $5;
	printf "%-44s %12.1f\n", "store bytes a record", $4 / $2;
	printf "%-44s %12.3f\n", "ratio store : log", $4 / $5;
	printf "goal: sync at least 0.40 of the tree recompute: %s\n",
	    (r / $3 >= 0.40) ? "met" : "MISSED";
	printf "goal: store at most 1.2 of the log: %s\n",
	    ($4 / $5 <= 1.2) ? "met" : "MISSED" }'
# Its memory back for what follows (and no "Terminated" line).
{ kill $UPID; wait $UPID; } 2>/dev/null || :

# The same log, static, from nginx over TLS and HTTP/2 on loopback.
"$B/upstream" -gen "$N" -dir "$T/www" "$T/up.key" 2>>"$T/up.log"
test_ca
mkcert 127.0.0.1 "$T/srv" "$T/ca" 127.0.0.1 10.213.0.2
# static IP: $T/static.conf, a server block for $T/www on IP.
static() {
	printf 'server {\n%s\n\troot %s;\n}\n' "$(nginx_tls "$1")" "$T/www" \
	    >"$T/static.conf"
}
static 127.0.0.1
start_nginx lo "$T/static.conf" "https://127.0.0.1:@PORT@/latest"
lo=$(timed_sync "https://127.0.0.1:$NGPORT")

# Across the 50 ms link.
[ "$(id -u)" = 0 ] ||
    fail "the 50 ms link needs root (ip netns): not measured"
NS=sumdbd-bench-$$
ip netns add $NS
ip -n $NS link set lo up
if ip netns exec $NS tc qdisc add dev lo root netem delay 0ms 2>/dev/null; then
	how="veth, tc netem delay 25ms each side"
	ip link add sbd0-$$ type veth peer name sbd1-$$
	ip link set sbd1-$$ netns $NS
	tc qdisc add dev sbd0-$$ root netem delay 25ms
	ip netns exec $NS tc qdisc add dev sbd1-$$ root netem delay 25ms
else
	how="no netem: TUN pair, netdelay.py 25 ms each way"
	python3 "$(dirname "$0")/netdelay.py" $NS sbd0-$$ sbd1-$$ 25 >"$T/netdelay.out" &
	PIDS="$PIDS $!"
	until grep -qs ready "$T/netdelay.out"; do sleep 0.05; done
fi
ip addr add 10.213.0.1 peer 10.213.0.2 dev sbd0-$$
ip link set sbd0-$$ up
ip -n $NS addr add 10.213.0.2 peer 10.213.0.1 dev sbd1-$$
ip -n $NS link set sbd1-$$ up
static 10.213.0.2
start_nginx far "$T/static.conf" "https://10.213.0.2:@PORT@/latest" \
    ip netns exec $NS
rtt=$(curl -s --cacert "$T/ca.pem" -o /dev/null -w '%{time_connect}' \
    "https://10.213.0.2:$NGPORT/latest")
far=$(timed_sync "https://10.213.0.2:$NGPORT")
echo "bench-sync: the same log, a static tree from nginx over TLS and HTTP/2"
echo "$lo $far $N $rtt" | awk -v how="$how" '{ a = $3 / $1; b = $3 / $2;
	printf "%-40s %12.0f\n", "records/s, loopback", a;
	printf "%-40s %12.0f\n", "records/s, 50 ms round trip", b;
	printf "%-40s %12.1f  (%s)\n", "round trip, TCP connect (ms)", $4 * 1000, how;
	printf "%-40s %12.3f\n", "ratio 50 ms : loopback", b / a;
	if (b / a >= 0.5) g = "met"; else g = "MISSED";
	printf "goal: 50 ms link at least half the loopback rate: %s\n", g }'
