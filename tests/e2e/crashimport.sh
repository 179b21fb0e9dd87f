#!/bin/sh
# SIGKILL at random moments during `sumdbd import`: instance A, a full
# mirror of tests/upstream, exports a chain of differential bundles as
# the upstream grows; each is imported into B's store by `sumdbd import`
# killed at a random moment (SUMDB_CRASH_ROUNDS kills in all, default
# 50), while B, an offline mirror daemon, serves that store.  After each
# kill: fsck is clean, and the store holds exactly the state before or
# after that import (records, trust base, tiles, no evidence), compared
# with store C, into which the same bundles were imported without
# kills.  B keeps serving checkpoints that are all consistent (x/mod,
# through B's tiles) and never one of an import that did not commit.
# Re-running each import completes; at the end B serves the upstream's
# tree, tile for tile.  Acceptance 1 of the proof-under-pressure issue.
. "$(dirname "$0")/lib.sh"

UP=sumdb.upstream.example
KILLS=${SUMDB_CRASH_ROUNDS:-50}
PERBUNDLE=5	# kills of one bundle's import before it is left to finish
mkdir -p "$T/notes" "$T/home"
upkey=$("$B/sumdbd" keygen -o "$T/up.key" $UP 2>/dev/null) || fail "keygen"
"$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example >/dev/null 2>&1
rnd() { echo $(( $(od -An -N4 -tu4 /dev/urandom) % $1 )); }
ms() { echo $(( $(date +%s%N) / 1000000 )); }

# A: a full mirror of the upstream.
start_upstream -gen $((5000 + $(rnd 10000)))
U=http://127.0.0.1:$UPORT
start_daemon "[mirror $UP]" "key = $upkey" "url = $U" "mode = full" "poll = 1s"
APID=$DPID
full() { sqlite3 "$T/sumdbd.db" "SELECT full_next FROM log WHERE name = '$UP'" 2>/dev/null || echo 0; }
upsize() { curl -sf "$U/latest" | sed -n 2p; }

# C: the same bundles imported without kills (the state after each one);
# B: the store whose imports are killed, served by an offline mirror.
for s in b c; do
	cat >"$T/$s.conf" <<EOC
[server]
listen = 127.0.0.1:1
database = $T/$s.db
[mirror $UP]
key = $upkey
offline = yes
EOC
done
state() {
	sqlite3 "$1" "SELECT (SELECT count(*) FROM record) || ' ' ||
	    (SELECT coalesce(max(size), 0) FROM checkpoint) || ' ' ||
	    (SELECT count(*) FROM tile) || ' ' || (SELECT count(*) FROM evidence)" 2>/dev/null ||
	    echo "0 0 0 0"
}
# offline NAME: an offline mirror daemon serving store NAME; sets OPID
# and OM.  C runs one too, so that imports into C and into B take as
# long (the last connection to close a store checkpoints its WAL).
offline() {
	start_conf "$T/$1.conf" "$T/$1.log" healthz
	OM=http://127.0.0.1:$OPORT/sumdb/$UP
}
offline c
offline b
BPID=$OPID BM=$OM
# B's /latest, polled throughout; each checkpoint kept once.
(while [ ! -e "$T/stop" ]; do
	if curl -sf -o "$T/poll" "$BM/latest"; then
		h=$(sha256sum "$T/poll" | cut -c1-16)
		[ -e "$T/notes/$h" ] || cp "$T/poll" "$T/notes/$h"
		echo >>"$T/polls"
	fi
	sleep 0.02
done) &
POLLER=$!
PIDS="$PIDS $POLLER"

kills=0 before_n=0 after_n=0 early=0 bundles=0 checks=0
from=0
while [ $kills -lt "$KILLS" ]; do
	# The next bundle: the upstream grows, A follows, A exports.
	if [ $bundles -gt 0 ]; then
		curl -sf -o /dev/null "$U/admin/grow?n=$((5000 + $(rnd 10000)))" || fail "grow"
	fi
	to=$(upsize)
	i=0
	until [ "$(full)" = "$to" ]; do
		i=$((i + 1)); [ $i -lt 600 ] || fail "A did not follow the upstream to $to: $(full)"
		sleep 0.05
	done
	bundles=$((bundles + 1))
	bf=$T/b.$bundles
	"$B/sumdbd" export -c "$T/sumdbd.conf" --db $UP --from $from --to "$to" "$bf" \
	    >"$T/out" 2>&1 || fail "export $from -> $to: $(cat "$T/out")"
	# C: how long an import of it takes, and the state after it.
	pre=$(state "$T/c.db")
	t0=$(ms)
	"$B/sumdbd" import -c "$T/c.conf" "$bf" >"$T/out" 2>&1 || fail "C: import $bf: $(cat "$T/out")"
	dur=$(( $(ms) - t0 ))
	post=$(state "$T/c.db")
	[ "$(state "$T/b.db")" = "$pre" ] || fail "B is not where C was before bundle $bundles: $(state "$T/b.db") vs $pre"
	# B: the import killed at random moments within its run, until it
	# commits (a kill after its commit, or it ended first) or has been
	# killed PERBUNDLE times.
	n=0 now=$pre
	while [ $n -lt $PERBUNDLE ] && [ $kills -lt "$KILLS" ] && [ "$now" = "$pre" ]; do
		"$B/sumdbd" import -c "$T/b.conf" "$bf" >"$T/imp" 2>&1 &
		IPID=$!
		d=$(rnd $((dur > 1 ? dur : 1)))
		sleep "$((d / 1000)).$(printf %03d $((d % 1000)))"
		kill -9 $IPID 2>/dev/null
		wait $IPID 2>/dev/null
		rc=$?
		now=$(state "$T/b.db")
		case $rc in
		137)
			kills=$((kills + 1))
			n=$((n + 1))
			if [ "$now" = "$pre" ]; then
				before_n=$((before_n + 1))
			elif [ "$now" = "$post" ]; then
				after_n=$((after_n + 1))
			else
				fail "bundle $bundles, kill $kills at $d ms of $dur: the store is '$now', neither before ('$pre') nor after ('$post')"
			fi
			"$B/sumdbd" fsck -c "$T/b.conf" >"$T/out" 2>&1 ||
			    fail "bundle $bundles, kill $kills: fsck: $(cat "$T/out")"
			;;
		0)
			early=$((early + 1))
			[ "$now" = "$post" ] || fail "bundle $bundles: imported, but the store is '$now', not '$post'"
			;;
		*)
			fail "bundle $bundles: import exited $rc: $(cat "$T/imp")"
			;;
		esac
		# B serves on, a committed tree only, consistent with all before.
		kill -0 "$BPID" 2>/dev/null || fail "B died"
		sz=$(curl -sf "$BM/latest" | sed -n 2p)
		bsz=$(echo "$now" | cut -d' ' -f2)
		[ "${sz:-0}" -le "$bsz" ] || fail "B serves tree $sz beyond its store's $bsz"
		if [ -n "$(ls "$T/notes")" ]; then
			"$B/xmodref" consistent "$upkey" "$BM" "$T"/notes/* >"$T/out" 2>&1 ||
			    fail "bundle $bundles, kill $kills: $(cat "$T/out")"
			checks=$((checks + $(ls "$T/notes" | wc -l)))
		fi
	done
	# Re-running the import completes (or finds it done).
	"$B/sumdbd" import -c "$T/b.conf" "$bf" >"$T/out" 2>&1 ||
	    fail "bundle $bundles: re-running the import: $(cat "$T/out")"
	grep -q "trust base [0-9]* -> $to" "$T/out" || fail "bundle $bundles: $(cat "$T/out")"
	[ "$(state "$T/b.db")" = "$post" ] || fail "bundle $bundles: B is '$(state "$T/b.db")', C '$post'"
	# B picks it up while it runs.
	i=0
	until [ "$(curl -sf "$BM/latest" | sed -n 2p)" = "$to" ]; do
		i=$((i + 1)); [ $i -lt 400 ] || fail "B does not serve tree $to"
		sleep 0.05
	done
	from=$to
done
touch "$T/stop"
wait "$POLLER"
notes=$(ls "$T/notes" | wc -l)
polls=$(wc -l <"$T/polls")
"$B/xmodref" consistent "$upkey" "$BM" "$T"/notes/* >"$T/out" 2>&1 || fail "final: $(cat "$T/out")"
[ "$(curl -s "$BM/latest")" = "$(curl -s "$U/latest")" ] || fail "B does not serve the upstream's checkpoint"
tiles=$(python3 "$(dirname "$0")/../tilecmp.py" "$BM" "$U" "$to" 2>"$T/out") ||
    fail "B's tiles: $(cat "$T/out")"
"$B/xmodref" client "$upkey" "$BM" "example.com/gen/m$(( (to - 1) % 1000 ))@v1.0.$((to - 1))" \
    >/dev/null || fail "x/mod's client through B"
"$B/sumdbd" fsck -c "$T/b.conf" >"$T/out" 2>&1 || fail "final fsck: $(cat "$T/out")"
grep -q "$UP: $to records, 0 problems" "$T/out" || fail "final fsck: $(cat "$T/out")"
grep -q 'http://\|connect' "$T/b.log" "$T/c.log" && fail "B or C tried to connect somewhere"
echo "$NAME: $kills kills with SIGKILL during imports of $bundles bundles ($before_n left the state before, $after_n the state after; $early imports ended before their kill), fsck clean after each; B served $polls checkpoints ($notes distinct, $checks proofs checked) all consistent; re-run imports completed to the upstream's $to records and all $tiles tiles: ok"
