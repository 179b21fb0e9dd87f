#!/bin/sh
# A witness killed with SIGKILL 30 times while a log submits growing
# checkpoints: after every restart the checkpoint it serves is at least
# the one it served before, never below a size it acknowledged with a
# cosignature (the client checks each 409 too), and fsck is clean at
# the end.  Acceptance 5 of the witness issue.
. "$(dirname "$0")/lib.sh"

"$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example >/dev/null 2>&1
wkey=$("$B/sumdbd" keygen --witness -o "$T/w.key" witness.test.example/w1 \
    2>/dev/null) || fail "keygen --witness"
lvkey=$("$B/sumdbd" keygen -o "$T/l.key" log.witnessed.example 2>/dev/null) ||
    fail "keygen"
start_daemon "[witness]" "name = witness.test.example/w1" "key = $T/w.key" \
    "[witness-log log.witnessed.example]" "key = $lvkey"
W=$URL/witness
"$B/xmodref" witness push "$W" "$wkey" "$(cat "$T/l.key")" 25 \
    >"$T/acked" 2>"$T/push.err" &
PUSH=$!
PIDS="$PIDS $PUSH"
seen=0
kills=0
while [ $kills -lt 30 ]; do
	sleep "0.$(( $(od -An -N1 -tu1 /dev/urandom) % 4 + 1 ))"
	kill -9 "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	kills=$((kills + 1))
	restart_daemon
	# Nothing cosigned yet only before the first acknowledgement.
	if size=$("$B/xmodref" witness check "$W" "$wkey" "$lvkey" \
	    log.witnessed.example "$seen" 2>"$T/check.err"); then
		seen=$size
	elif [ "$seen" -gt 0 ]; then
		fail "after kill $kills: $(cat "$T/check.err")"
	fi
done
wait "$PUSH" || fail "the log's client: $(cat "$T/push.err")"
acked=$(cat "$T/acked")
[ "$acked" -gt 0 ] || fail "nothing cosigned"
final=$("$B/xmodref" witness check "$W" "$wkey" "$lvkey" \
    log.witnessed.example "$acked") ||
    fail "the witness is below $acked, the last size it acknowledged"
stop_daemon
"$B/sumdbd" fsck -c "$T/sumdbd.conf" >"$T/fsck" 2>&1 || fail "fsck: $(cat "$T/fsck")"
grep -q "witness: 'log.witnessed.example' at $final, 0 problems" "$T/fsck" ||
    fail "fsck: $(cat "$T/fsck")"
echo "$NAME: 30 SIGKILLs during submissions: the witness never went back (last acknowledged $acked, at $final), fsck clean: ok"
