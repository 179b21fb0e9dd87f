#!/bin/sh
# A witnessed private log: [log] witness lists three witnesses (three
# sumdbd instances) and witness_quorum = 2.  A checkpoint is published
# (served by /latest, used for lookups) only once two cosigned it, and
# /latest carries their cosignatures.  With one witness down it still
# publishes; with two down it keeps serving the last published
# checkpoint, new records wait (503 after fetch_timeout) and /healthz
# says why; once a witness is back they are served.  The go command
# (1.19 and 1.24) verifies through it throughout.  Acceptance 4 of the
# witness issue.
. "$(dirname "$0")/lib.sh"

LOG=sumdb.test.example
mkdir -p "$T/home"
mods="example.com/hello@v1.0.0 example.com/Upper/Mixed@v1.0.0 example.com/legacy@v2.0.0+incompatible"
for m in a b c d; do mods="$mods example.com/w$m@v1.0.0"; done
"$B/xmodref" modtree "$T/proxy" $mods >"$T/hashes" || fail "module tree"
vkey=$("$B/sumdbd" keygen -o "$T/log.key" $LOG 2>/dev/null) || fail "keygen"
for i in 1 2 3; do
	eval "w$i=\$(\"\$B/sumdbd\" keygen --witness -o \"\$T/w$i.key\" \
	    witness$i.test.example 2>/dev/null)" || fail "keygen --witness $i"
	eval "P$i=$(randport)"
	cat >"$T/w$i.conf" <<EOC
[server]
listen = 127.0.0.1:$(eval echo \$P$i)
database = $T/w$i.db
[witness]
name = witness$i.test.example
key = $T/w$i.key
[witness-log $LOG]
origin = go.sum database tree
key = $vkey
EOC
done
wstart() {
	start_sumdbd "$T/w$1.conf" "$(eval echo \$P$1)"
	eval "WP$1=$SPID"
}
wstop() { eval "kill \$WP$1; wait \$WP$1"; }
for i in 1 2 3; do wstart $i; done
tufjs_setup
write_config "$T/sumdbd.conf" 1 "[tuf]" "keys = $T/tuf.keys"
"$B/sumdbd" tuf init -c "$T/sumdbd.conf" -n 1 -t 1 "$T/root1" >/dev/null ||
    fail "tuf init"
start_daemon "fetch_timeout = 3s" \
    "witness = http://127.0.0.1:$P1/witness $w1" \
    "witness = http://127.0.0.1:$P2/witness $w2" \
    "witness = http://127.0.0.1:$P3/witness $w3" \
    "witness_quorum = 2" "[tuf]" "keys = $T/tuf.keys"
curl -sf "$URL/tuf/1.root.json" >"$T/1.root.json" || fail "1.root.json"
cosigned() {	# cosigned K: /latest has K cosignatures; prints its size
	"$B/xmodref" witness cosigned "$URL" "$vkey" "$1" "$w1" "$w2" "$w3" |
	    cut -d' ' -f1
}
gomod() {	# gomod MODULE: the go command looks it up through the log
	c=$T/c.$GOV.$1
	rm -rf "$c"
	mkdir -p "$c"
	printf 'module example.com/consumer\n\ngo 1.19\n\nrequire example.com/%s v1.0.0\n' \
	    "$1" >"$c/go.mod"
	(cd "$c" && goenv "$T/gp.$GOV" GOPROXY="file://$T/proxy" \
	    GOSUMDB="$vkey $URL" go mod download all) >"$T/out" 2>&1
}
found() {	# found MODULE: its go.sum line is the go command's
	grep -qxF "example.com/$1 v1.0.0 $(grep "^example.com/$1 " "$T/hashes" | cut -d' ' -f3)" \
	    "$T/c.$GOV.$1/go.sum"
}

# 1. All three up: each lookup is published at once with 2 or 3
# cosignatures on /latest.
all_up() {
	gomod hello || fail "go through the witnessed log: $(cat "$T/out")"
	found hello || fail "go.sum of hello"
}
for_each_go all_up
s1=$(cosigned 2) || fail "/latest lacks 2 cosignatures"
curl -s "$URL/latest" | grep -q '^— witness[123].test.example ' ||
    fail "no witness cosignature on /latest"
echo "$NAME: a checkpoint is published with its witnesses' cosignatures (tree $s1): ok"

# 2. Witness 3 down: 2 of 3 still publish.
wstop 3
one_down() {
	gomod wa || fail "one witness down: $(cat "$T/out")"
	found wa || fail "go.sum of wa"
}
for_each_go one_down
s2=$(cosigned 2) || fail "/latest lacks 2 cosignatures with one witness down"
[ "$s2" -gt "$s1" ] || fail "nothing published with one witness down"
# Clients that care check the policy: 2 of the 3 holds, 3 of 3 not.
"$B/sumdbd" verify-cosigned -q 2 -w "$w1" -w "$w2" -w "$w3" "$vkey" "$URL" \
    >"$T/vc" 2>&1 || fail "verify-cosigned 2 of 3: $(cat "$T/vc")"
grep -q "^verify-cosigned: tree $s2: 2 of 3 witnesses cosigned" "$T/vc" ||
    fail "verify-cosigned: $(cat "$T/vc")"
"$B/sumdbd" verify-cosigned -w "$w1" -w "$w2" -w "$w3" "$vkey" "$URL" \
    >"$T/vc" 2>&1
[ $? = 1 ] || fail "3 of 3 held with witness 3 down: $(cat "$T/vc")"
# The go command's own cached checkpoint carries the cosignatures.
cached=$(ls "$T"/gp.*/pkg/sumdb/$LOG/latest | head -1)
"$B/sumdbd" verify-cosigned -q 2 -w "$w1" -w "$w2" -w "$w3" "$vkey" \
    "$cached" >"$T/vc" 2>&1 || fail "the go command's checkpoint: $(cat "$T/vc")"
# A cosignature altered: the checkpoint is refused.
sed 's/^\(— witness1.test.example .\{20\}\)./\1A/' "$cached" >"$T/bad.note"
cmp -s "$cached" "$T/bad.note" && sed -i 's/^\(— witness2.test.example .\{20\}\)./\1A/' "$T/bad.note"
"$B/sumdbd" verify-cosigned -q 1 -w "$w1" -w "$w2" "$vkey" "$T/bad.note" \
    >"$T/vc" 2>&1
[ $? = 1 ] || fail "an altered cosignature accepted: $(cat "$T/vc")"
# client-check applies the config's policy to the server's checkpoint
# and the go command's cached one.
ccheck() {
	goenv "${cached%/pkg/sumdb/*}" GOENV=off GOSUMDB="$vkey $URL" \
	    GOPROXY="file://$T/proxy" "$B/sumdbd" client-check \
	    -c "$T/sumdbd.conf" --url "$URL" >"$T/ck" 2>&1
}
ccheck || fail "client-check: $(cat "$T/ck")"
[ "$(grep -c "cosigned by [23] of 3 witnesses (policy 2)" "$T/ck")" = 2 ] ||
    fail "client-check: $(cat "$T/ck")"
cp "$cached" "$T/cached.keep"
sed -i '/^— witness/d' "$cached"
ccheck && fail "client-check passed a checkpoint without cosignatures"
grep -q "0 of the 3 witnesses cosigned it, the policy wants 2" "$T/ck" ||
    fail "client-check: $(cat "$T/ck")"
cp "$T/cached.keep" "$cached"
echo "$NAME: with one witness down, tree $s2 is published; verify-cosigned and client-check check 2 of 3: ok"

# 3. Witnesses 2 and 3 down: the log keeps serving tree s2; a new
# module is logged but waits, and is refused with 503 after 3 s.
wstop 2
two_down() {
	gomod wb && fail "a record was served without its quorum"
	grep -q "503\|waits for 2 witness" "$T/out" ||
	    fail "two witnesses down: $(cat "$T/out")"
	[ "$(cosigned 2)" = "$s2" ] || fail "the served checkpoint moved"
	# What was published still verifies.
	gomod hello || fail "published records with two witnesses down: $(cat "$T/out")"
}
for_each_go two_down
code=$(curl -s -o "$T/health" -w '%{http_code}' "$URL/healthz")
held() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" = 503 ]; }
i=0
until held; do
	i=$((i + 1)); [ $i -lt 150 ] || fail "/healthz does not report the held checkpoint"
	sleep 0.1
done
curl -s "$URL/healthz" | grep -q "waits for its witnesses' cosignatures" ||
    fail "/healthz: $(curl -s "$URL/healthz")"
curl -s "$URL/metrics" | grep -q "^sumdbd_log_held_seconds{db=\"$LOG\"} [1-9]" ||
    fail "no held metric"
curl -s "$URL/metrics" | grep -q "^sumdbd_witness_peer_failures_total{db=\"$LOG\",peer=\"http://127.0.0.1:$P2/witness\"} [1-9]" ||
    fail "no failures counted for witness 2"
# TUF publishes the witnesses and the policy, and only the published
# checkpoint: an offline site learns them as it learns the log's key.
tufjs "$URL" "$T/1.root.json" $LOG/key $LOG/witnesses $LOG/latest \
    >"$T/tuf.out" 2>&1 || fail "tuf-js: $(cat "$T/tuf.out")"
grep -qx "quorum 2" "$T/targets/${LOG}_witnesses" ||
    fail "witnesses target: $(cat "$T/targets/${LOG}_witnesses")"
for i in 1 2 3; do
	grep -qxF "witness http://127.0.0.1:$(eval echo \$P$i)/witness $(eval echo \$w$i)" \
	    "$T/targets/${LOG}_witnesses" || fail "witness $i not in the TUF policy"
done
[ "$(sed -n 2p "$T/targets/${LOG}_latest")" = "$s2" ] ||
    fail "TUF published an unwitnessed checkpoint: $(sed -n 2p "$T/targets/${LOG}_latest")"
wk=$(sed 's/^witness [^ ]* //;/^quorum/d' "$T/targets/${LOG}_witnesses")
"$B/sumdbd" verify-cosigned -q "$(sed -n 's/^quorum //p' "$T/targets/${LOG}_witnesses")" \
    $(for k in $wk; do printf -- '-w %s ' "$k"; done) "$(cat "$T/targets/${LOG}_key")" \
    "$T/targets/${LOG}_latest" >"$T/vc" 2>&1 ||
    fail "the TUF latest against the TUF policy: $(cat "$T/vc")"
echo "$NAME: with two witnesses down, tree $s2 stays served, new records wait and /healthz says why; TUF carries the policy and only published checkpoints: ok"

# 4. Witness 2 back: the waiting record is published and served.
wstart 2
back() {
	gomod wb || fail "the quorum is back: $(cat "$T/out")"
	found wb || fail "go.sum of wb"
	gomod wc || fail "a new module with the quorum back: $(cat "$T/out")"
}
for_each_go back
s4=$(cosigned 2) || fail "/latest lacks 2 cosignatures"
[ "$s4" -gt "$s2" ] || fail "nothing published once the quorum was back"
curl -s -o /dev/null -w '%{http_code}' "$URL/healthz" | grep -q 200 ||
    fail "/healthz after the quorum came back: $(curl -s "$URL/healthz")"
# Restarted, the log keeps what it published and its cosignatures.
stop_daemon
restart_daemon
[ "$(cosigned 2)" = "$s4" ] || fail "after a restart"
"$B/sumdbd" fsck -c "$T/sumdbd.conf" >"$T/fsck" 2>&1 || fail "fsck: $(cat "$T/fsck")"
echo "$NAME: with the quorum back, waiting records are published (tree $s4) and served: ok"
