#!/bin/sh
# A full mirror on three nodes sharing one PostgreSQL (the mirrors part
# of the high-availability issue): the writer node syncs, every node
# serves what it stored; the writer is killed in the middle of the full
# sync, and the node that takes the lease goes on from the progress
# stored, not from the start; every node ends at the upstream's tree
# with its data tiles and a real module's upstream record, and fsck is
# clean.
SUMDBD_STORE=pg
. "$(dirname "$0")/lib.sh"

UP=sumdb.upstream.example
N=${SUMDB_HAMIRROR_RECORDS:-200000}
upkey=$("$B/sumdbd" keygen -o "$T/up.key" $UP 2>/dev/null) || fail "keygen"
realmod_hashes xtools >"$T/mods"
start_upstream -gen $N -mods "$T/mods"
U=http://127.0.0.1:$UPORT
# Its tree: the generated records and the real module's.
N=$(curl -sf "$U/latest" | sed -n 2p)
[ -n "$N" ] || fail "the upstream's tree"
"$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example >/dev/null 2>&1 ||
    fail "keygen"
mkdir -p "$T/proxy"
CL_DB=$(db_target "$T/ha.db")
CL_EXTRA="[mirror $UP]
key = $upkey
url = $U
mode = full
poll = 1s"
full() {
	db_sql "$T/ha.db" "SELECT full_next FROM log WHERE name = '$UP'" 2>/dev/null
}
cl_node 1
cl_node 2
cl_node 3
w=$(cl_writer)
[ -n "$w" ] || fail "no writer"
# Killed in the middle of the sync.
i=0
until f=$(full) && [ -n "$f" ] && [ "$f" -ge 65536 ]; do
	i=$((i + 1)); [ $i -lt 3000 ] || fail "the full sync did not start: $(full)"
	sleep 0.1
done
kill -9 "$(cl_pid $w)"
at_kill=$(full)
[ "$at_kill" -lt "$N" ] || fail "the sync ended before the kill"
until nw=$(cl_writer) && [ -n "$nw" ] && [ "$nw" != "$w" ]; do
	sleep 0.05
done
cl_node "$w"
i=0
until [ "$(full)" = "$N" ]; do
	i=$((i + 1)); [ $i -lt 3000 ] || fail "the sync did not finish on n$nw: $(full)"
	sleep 0.1
done
# n$nw went on from where n$w stopped: it fetched no data tile below it.
grep -q "cluster: node 'n$nw' is the writer" "$T/n$nw.log" || fail "n$nw never wrote"
from=$(sed -n "s/.*mirror '$UP': full sync from record \([0-9]*\) .*/\1/p" "$T/n$nw.log" | head -n 1)
[ -n "$from" ] && [ "$from" -ge "$at_kill" ] ||
    fail "n$nw did not go on from record $at_kill: $(grep 'full sync' "$T/n$nw.log" | head -3)"
for k in 1 2 3; do
	[ "$k" = "$w" ] || [ "$k" = "$nw" ] || ! grep -q "full sync" "$T/n$k.log" ||
	    fail "n$k, never the writer, synced: $(grep 'full sync' "$T/n$k.log" | head -3)"
done
curl -s "$U/latest" >"$T/up.latest"
for k in 1 2 3; do
	wait_for sh -c "curl -s '$(cl_url $k)/sumdb/$UP/latest' | cmp -s - '$T/up.latest'" ||
	    fail "n$k does not serve the upstream's tree"
	for t in 000 100 $(printf %03d $((N / 256 - 1))); do
		curl -s "$U/tile/8/data/$t" >"$T/u"
		curl -s "$(cl_url $k)/sumdb/$UP/tile/8/data/$t" | cmp -s - "$T/u" ||
		    fail "n$k: data tile $t differs"
	done
done
echo "$NAME: a full mirror of $N records on three nodes: writer n$w killed at record $at_kill, n$nw went on from record $from, the third node never synced; every node serves the upstream's tree and data tiles: ok"

for k in 1 2 3; do
	realmod_lookup "$(cl_url $k)/sumdb/$UP" xtools
done
stop_all() {
	for k in 1 2 3; do
		kill "$(cl_pid $k)"
		while kill -0 "$(cl_pid $k)" 2>/dev/null; do sleep 0.05; done
	done
}
stop_all
"$B/sumdbd" fsck -c "$T/n1.conf" >"$T/out" 2>&1 || fail "fsck: $(cat "$T/out")"
grep -q "$UP: $N records, 0 problems" "$T/out" || fail "fsck: $(cat "$T/out")"
echo "$NAME: x/tools's upstream record served by each node; fsck clean on PostgreSQL: ok"
