#!/bin/sh
# SIGKILL at random moments during a full mirror's sync: a full-mode
# mirror of tests/upstream (x/mod's tlog and note) is killed
# SUMDB_CRASH_ROUNDS times (default 50), at a random moment after each
# restart, while it downloads, verifies and stores segments of data
# tiles.  Between kills the upstream grows, so the mirror's trust base
# moves on and there is always more to sync.  After each kill: fsck of
# the store the kill left is clean, and after the restart every /latest
# the mirror served before any kill is proven contained (x/mod, through
# the mirror's tiles) in the tree it serves now.  At the end the sync
# runs to completion: the upstream's exact checkpoint and every tile
# byte for byte.  Acceptance 1 of the proof-under-pressure issue.
. "$(dirname "$0")/lib.sh"

UP=sumdb.upstream.example
ROUNDS=${SUMDB_CRASH_ROUNDS:-50}
N0=${SUMDB_CRASHSYNC_RECORDS:-300000}
SEG=65536	# records the mirror verifies and stores in one transaction
mkdir -p "$T/notes" "$T/round"
upkey=$("$B/sumdbd" keygen -o "$T/up.key" $UP 2>/dev/null) || fail "keygen"
"$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example >/dev/null 2>&1
start_upstream -gen "$N0"
U=http://127.0.0.1:$UPORT
start_daemon "[mirror $UP]" "key = $upkey" "url = $U" "mode = full" "poll = 1s"
M=$URL/sumdb/$UP
q() { sqlite3 "$T/sumdbd.db" "$1" 2>/dev/null; }
next() { q "SELECT full_next FROM log WHERE name = '$UP'" || echo 0; }
upsize() { curl -sf "$U/latest" | sed -n 2p; }
rnd() { echo $(( $(od -An -N4 -tu4 /dev/urandom) % $1 )); }
keep() {
	h=$(sha256sum "$1" | cut -c1-16)
	[ -e "$T/notes/$h" ] || cp "$1" "$T/notes/$h"
}

kills=0
midsync=0	# kills that came with the sync unfinished
resumed=0	# kills that came after at least one segment stored since the restart
served=0	# /latest answers before the kills (with repeats)
grown=0		# upstream growths between kills
round=0
while [ $round -lt $ROUNDS ]; do
	rm -rf "$T/round"
	mkdir "$T/round"
	before=$(next)
	# /latest polled until the kill.
	(j=0; while [ $j -lt 1000 ]; do
		curl -sf -o "$T/round/n.$j" "$M/latest" || { rm -f "$T/round/n.$j"; break; }
		j=$((j + 1))
	done) &
	POLL=$!
	# Every tenth round, first wait for a segment to be stored, so the
	# sync moves on and the kills also find it resuming from stored
	# tiles.
	if [ $((round % 10)) = 9 ]; then
		i=0
		until [ "$(next)" -gt "$before" ]; do
			i=$((i + 1)); [ $i -lt 1200 ] || fail "round $round: the sync stored nothing: $(next)"
			sleep 0.05
		done
	fi
	# Then a random moment, 0 to 599 ms on: at this machine's rate of a
	# segment in about half a second, anywhere in the daemon's start, a
	# segment's fetches, its verification, its transaction, or the next.
	sleep "0.$(printf %03d "$(rnd 600)")"
	kill -9 "$DPID"
	wait "$DPID" "$POLL" 2>/dev/null
	kills=$((kills + 1))
	# The store as the kill left it (its WAL recovered by whoever opens
	# it first: fsck).
	"$B/sumdbd" fsck -c "$T/sumdbd.conf" >"$T/out" 2>&1 ||
	    fail "round $round: fsck after the kill: $(cat "$T/out")"
	after=$(next)
	size=$(q "SELECT max(c.size) FROM checkpoint c JOIN log l ON c.log = l.id WHERE l.name = '$UP'")
	[ "$after" -ge "$before" ] || fail "round $round: full_next went back from $before to $after"
	[ "$after" -le "${size:-0}" ] || fail "round $round: full_next $after beyond the trust base ${size:-0}"
	[ "$after" -lt "$(upsize)" ] && midsync=$((midsync + 1))
	[ "$after" -gt "$before" ] && resumed=$((resumed + 1))
	for f in "$T"/round/n.*; do
		[ -s "$f" ] || continue
		keep "$f"
		served=$((served + 1))
	done
	# Keep the upstream ahead: more than a segment to sync at every
	# restart, and often a new tree for the mirror's trust base.
	up=$(upsize)
	if [ $((up - after)) -le $SEG ]; then
		curl -sf -o /dev/null "$U/admin/grow?n=$((SEG + 1 + $(rnd SEG)))" || fail "grow"
		grown=$((grown + 1))
	elif [ "$(rnd 2)" = 0 ]; then
		curl -sf -o /dev/null "$U/admin/grow?n=$((1 + $(rnd 3000)))" || fail "grow"
		grown=$((grown + 1))
	fi
	restart_daemon
	# Nothing served before a kill is contradicted by what it serves now.
	if [ -n "$(ls "$T/notes")" ]; then
		"$B/xmodref" consistent "$upkey" "$M" "$T"/notes/* >"$T/out" 2>&1 ||
		    fail "round $round: $(cat "$T/out")"
	fi
	round=$((round + 1))
done
notes=$(ls "$T/notes" | wc -l)
[ "$notes" -gt 0 ] || fail "no /latest answered before any of the kills"

# SIGTERM while segments are fetched, verified and stored on the store
# thread: the daemon stops cleanly (the sanitizers find nothing left),
# what it stored is consistent, and the sync resumes from it.
stop_daemon
curl -sf -o /dev/null "$U/admin/grow?n=$((6 * SEG))" || fail "grow"
restart_daemon
before=$(next)
i=0
until [ "$(next)" -gt "$before" ]; do
	i=$((i + 1)); [ $i -lt 1200 ] || fail "SIGTERM round: the sync stored nothing: $(next)"
	sleep 0.02
done
[ "$(next)" -lt "$(upsize)" ] || fail "SIGTERM round: the sync ended before the stop"
kill "$DPID"
rc=0; wait "$DPID" || rc=$?
[ $rc = 0 ] || fail "SIGTERM during the sync: exit status $rc: $(tail -5 "$T/daemon.log")"
"$B/sumdbd" fsck -c "$T/sumdbd.conf" >"$T/out" 2>&1 ||
    fail "fsck after SIGTERM during the sync: $(cat "$T/out")"
stopped=$(next)
restart_daemon

# And the work completes: the upstream's exact tree.
N=$(upsize)
i=0
until [ "$(next)" = "$N" ]; do
	i=$((i + 1)); [ $i -lt 3000 ] || fail "full sync did not finish: $(next) of $N"
	sleep 0.1
done
i=0
until [ "$(curl -s "$M/latest")" = "$(curl -s "$U/latest")" ]; do
	i=$((i + 1)); [ $i -lt 50 ] || fail "not the upstream's checkpoint"
	sleep 0.1
done
"$B/xmodref" consistent "$upkey" "$M" "$T"/notes/* >"$T/out" 2>&1 ||
    fail "final: $(cat "$T/out")"
[ "$(q "SELECT indexed FROM log WHERE name = '$UP'")" = "$N" ] ||
    fail "not $N records indexed"
# Keys as rows and as 16-byte entries of the current blocks.
[ "$(q "SELECT (SELECT count(*) FROM lookup k JOIN log l ON k.log = l.id WHERE l.name = '$UP') + (SELECT coalesce(sum(length(b.data)), 0) / 16 FROM lookup_block b JOIN log l ON b.log = l.id AND b.gen = l.blocks WHERE l.name = '$UP')")" = "$N" ] ||
    fail "not $N lookup keys"
tiles=$(python3 "$(dirname "$0")/../tilecmp.py" "$M" "$U" "$N" 2>"$T/out") ||
    fail "tiles: $(cat "$T/out")"
stop_daemon
"$B/sumdbd" fsck -c "$T/sumdbd.conf" >"$T/out" 2>&1 || fail "final fsck: $(cat "$T/out")"
grep -q "$UP: $N records, 0 problems" "$T/out" || fail "final fsck: $(cat "$T/out")"
echo "$NAME: $kills kills with SIGKILL during a full sync ($midsync with the sync unfinished, $resumed after a segment was stored), fsck clean after each; $served checkpoints served before them ($notes distinct trees, the upstream grown $grown times) all contained in the later trees; a SIGTERM during the sync at record $stopped clean; the sync completed: $N records, the upstream's checkpoint and all $tiles tiles byte for byte: ok"
