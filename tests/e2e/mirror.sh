#!/bin/sh
# The verifying mirror against an independent upstream (tests/upstream,
# on golang.org/x/mod's tlog and note): the go command verifies through
# it, directly and through the GOPROXY route; then every attack is
# refused with nothing bad stored or served and the evidence kept.
# Acceptance 1 and 3 of the mirror issue.
. "$(dirname "$0")/lib.sh"

UP=sumdb.upstream.example
mkdir -p "$T/home"
"$B/xmodref" modtree "$T/proxy" example.com/hello@v1.0.0 \
    example.com/Upper/Mixed@v1.0.0 example.com/legacy@v2.0.0+incompatible \
    >"$T/hashes" || fail "module tree"
# A real-size module (x/tools, 2.4 MB) with the go command's hashes: the
# upstream logs 4 modules, then GEN generated records.
realmod_add "$T/proxy" xtools
realmod_hashes xtools >>"$T/hashes"
upkey=$("$B/sumdbd" keygen -o "$T/up.key" $UP 2>/dev/null) || fail "keygen"
"$B/sumdbd" keygen -o "$T/other.key" evil.example >/dev/null 2>&1
"$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example >/dev/null 2>&1
GEN=2000
start_upstream -gen "$GEN" -mods "$T/hashes" -other "$T/other.key"
# The first URL is dead: every request falls through to the second.
start_daemon "[mirror $UP]" "key = $upkey" "url = http://127.0.0.1:1" \
    "url = http://127.0.0.1:$UPORT" "poll = 1s" "fetch_timeout = 1s" \
    "max_response = 1M"
M=$URL/sumdb/$UP
attack() { curl -sf -o /dev/null "http://127.0.0.1:$UPORT/admin/attack?kind=$1" || fail "attack $1"; }
grow() { curl -sf -o /dev/null "http://127.0.0.1:$UPORT/admin/grow?n=$1" || fail "grow"; GEN=$((GEN + $1)); }
evidence() { db_sql "$T/sumdbd.db" "SELECT count(*) FROM evidence WHERE kind = '$1'"; }
evidence_above() { [ "$(evidence "$1")" -gt "$2" ]; }
mlatest() { curl -s "$M/latest" | sed -n 2p; }

# 1. The go command through the mirror, with the upstream's key.
through_mirror() {
	c1=$T/c1.$GOV c2=$T/c2.$GOV
	consumer "$c1"
	realmod_require "$c1" xtools
	(cd "$c1" && goenv "$T/gp1.$GOV" GOPROXY="file://$T/proxy" \
	    GOSUMDB="$upkey $M" go mod download all) >"$T/out" 2>&1 ||
	    fail "go mod download through the mirror: $(cat "$T/out")"
	while read -r p v zh mh; do
		grep -qxF "$p $v $zh" "$c1/go.sum" || fail "go.sum: no '$p $v $zh'"
		grep -qxF "$p $v/go.mod $mh" "$c1/go.sum" || fail "go.sum: no go.mod line of $p"
	done <"$T/hashes"
	mkdir -p "$c2"; cp "$c1/go.mod" "$c2/go.mod"
	(cd "$c2" && goenv "$T/gp2.$GOV" GOPROXY="$URL,file://$T/proxy" \
	    GOSUMDB="$upkey" go mod download all) >"$T/out" 2>&1 ||
	    fail "go mod download through the GOPROXY route: $(cat "$T/out")"
	cmp -s "$c1/go.sum" "$c2/go.sum" || fail "the two routes wrote different go.sum"
	realmod_gosum xtools "$c1/go.sum"
	realmod_lookup "$M" xtools
	[ "$(curl -s "$M/latest")" = "$(curl -s "http://127.0.0.1:$UPORT/latest")" ] ||
	    fail "the mirror's checkpoint is not the upstream's"
	echo "$NAME: the go command verifies through the mirror, directly and through GOPROXY: ok"
	# The go client's checkpoint, checked against the grown tree below.
	cp "$T/gp1.$GOV/pkg/sumdb/$UP/latest" "$T/note.old"
}
for_each_go through_mirror

# The upstream grows: the mirror follows, proving each step.
grow 300
wait_for sh -c "[ \"\$(curl -s $M/latest | sed -n 2p)\" = $((GEN + 4)) ]" ||
    fail "the mirror did not follow the upstream to $((GEN + 4))"
"$B/xmodref" consistent "$upkey" "$M" "$T/note.old" >/dev/null || fail "new tree inconsistent"
"$B/xmodref" client "$upkey" "$M" example.com/gen/m5@v1.0.5 example.com/gen/m200@v1.0.2200 >/dev/null ||
    fail "x/mod's client through the mirror"
[ "$(db_sql "$T/sumdbd.db" "SELECT count(*) FROM checkpoint c JOIN log l ON c.log = l.id WHERE l.name = '$UP' AND c.prev IS NOT NULL AND length(c.proof) > 0")" -ge 1 ] ||
    fail "no trust base stored with its consistency proof"
echo "$NAME: the mirror follows a growing upstream, trust bases stored with proofs: ok"

# 3. Attacks.  sync_attack KIND EVIDENCE: a refused /latest.
sync_attack() {
	wait_for sh -c "[ \"\$(curl -s $M/latest | sed -n 2p)\" = $((GEN + 4)) ]" ||
	    fail "$1: the mirror is not at the upstream's tree"
	before=$(mlatest)
	n0=$(evidence "$2")
	attack "$1"
	wait_for evidence_above "$2" "$n0" ||
	    fail "$1: no '$2' evidence"
	[ "$(mlatest)" = "$before" ] || fail "$1: the mirror moved to $(mlatest)"
	attack none
}
grow 10
sync_attack badsig signature
grow 10
sync_attack wrongkey signature
sync_attack rollback rollback
grow 10
attack forgedtile
n0=$(evidence tile)
wait_for evidence_above tile "$n0" ||
    fail "forgedtile: no 'tile' evidence"
[ "$(mlatest)" = $((GEN + 4 - 10)) ] || fail "forgedtile: the mirror moved to $(mlatest)"
attack none
[ "$(status "$URL/healthz")" = 200 ] || fail "healthz after refusals that do not freeze"
sync_attack forksame fork
sleep 1.5	# let a poll in flight finish
[ "$(status "$URL/healthz")" = 503 ] || fail "healthz while frozen"
curl -s "$URL/healthz" | grep -q "$UP frozen" || fail "healthz reason"
curl -s "$URL/metrics" | grep -q "sumdbd_frozen{db=\"$UP\"} 1" || fail "metrics frozen"
[ "$(status "$M/lookup/example.com/gen/m7@v1.0.7")" = 503 ] || fail "lookups while frozen"
[ "$(status "$M/lookup/example.com/hello@v1.0.0")" = 200 ] || fail "stored lookups while frozen"
db_sql "$T/sumdbd.db" "SELECT count(*) FROM evidence WHERE kind = 'fork' AND old IS NOT NULL AND new IS NOT NULL AND length(source) > 0" | grep -qv '^0$' ||
    fail "fork evidence lacks the notes or the source"
grep -q 'our note' "$T/daemon.log" && grep -q 'their note' "$T/daemon.log" ||
    fail "the fork's notes were not logged"
checkfork() {	# the newest fork's export convinces x/mod alone
	id=$(db_sql "$T/sumdbd.db" "SELECT max(id) FROM evidence WHERE kind = 'fork'")
	"$B/sumdbd" evidence -c "$T/sumdbd.conf" list | grep -q "^$id	.*	$UP	fork	" ||
	    fail "$1: evidence list"
	"$B/sumdbd" evidence -c "$T/sumdbd.conf" show "$id" | grep -q '^their note:' ||
	    fail "$1: evidence show"
	"$B/sumdbd" evidence -c "$T/sumdbd.conf" export "$id" "$T/fork.ev" || fail "$1: export"
	"$B/xmodref" checkevidence "$T/fork.ev" | grep -q '^proven: ' || fail "$1: not proven"
	# The checker is not a rubber stamp: our note twice proves nothing.
	python3 - "$T/fork.ev" "$T/nofork.ev" <<'PY' || fail "$1: rewriting the export"
import sys
d = open(sys.argv[1], 'rb').read()
head, rest = d.split(b'\nold ', 1)
n, rest = rest.split(b'\n', 1)
old = rest[:int(n)]
open(sys.argv[2], 'wb').write(head + b'\nold ' + n + b'\n' + old +
    b'new ' + n + b'\n' + old + b'material 0\n')
PY
	! "$B/xmodref" checkevidence "$T/nofork.ev" 2>/dev/null || fail "$1: a non-fork proven"
}
checkfork forksame
"$B/sumdbd" unfreeze -c "$T/sumdbd.conf" $UP >/dev/null || fail "unfreeze"
wait_for sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' $URL/healthz) = 200 ]" || fail "not unfrozen"
sync_attack forklarger fork
sleep 1.5	# let a poll in flight finish
checkfork forklarger
[ "$(db_sql "$T/sumdbd.db" "SELECT length(material) FROM evidence WHERE id = $id")" -gt 32 ] ||
    fail "forklarger: no proof material"
! "$B/sumdbd" evidence -c "$T/sumdbd.conf" show 999999 2>/dev/null || fail "show of no evidence"
"$B/sumdbd" unfreeze -c "$T/sumdbd.conf" $UP >/dev/null || fail "unfreeze"
wait_for sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' $URL/healthz) = 200 ]" || fail "not unfrozen"
wait_for sh -c "[ \"\$(curl -s $M/latest | sed -n 2p)\" = $((GEN + 4)) ]" ||
    fail "the mirror did not advance after unfreeze"
echo "$NAME: bad signature, wrong key, rollback, forged tile, forks refused, evidence kept, frozen and unfrozen: ok"

# lookup_attack KIND EXPECT EVIDENCE MODULE: a refused lookup.
lookup_attack() {
	n0=$(evidence "$3")
	attack "$1"
	s=$(status "$M/lookup/$4")
	[ "$s" = "$2" ] || fail "$1: lookup got $s, want $2"
	[ -z "$3" ] || [ "$(evidence "$3")" -gt "$n0" ] || fail "$1: no '$3' evidence"
	attack none
	[ "$(db_sql "$T/sumdbd.db" "SELECT count(*) FROM record WHERE path || '@' || version = '$4'")" = 0 ] ||
	    fail "$1: $4 was stored"
}
lookup_attack lookupother 502 unrelated example.com/gen/m11@v1.0.11
lookup_attack lookupempty 502 malformed example.com/gen/m12@v1.0.12
lookup_attack notintree 502 not_in_tree example.com/gen/m13@v1.0.13
lookup_attack oversized 502 "" example.com/gen/m14@v1.0.14
lookup_attack slow 502 "" example.com/gen/m15@v1.0.15
lookup_attack truncated 502 "" example.com/gen/m16@v1.0.16
lookup_attack close 502 "" example.com/gen/m17@v1.0.17
for m in 11 12 13 14 15 16 17; do
	[ "$(status "$M/lookup/example.com/gen/m$m@v1.0.$m")" = 200 ] || fail "m$m after the attack"
done
echo "$NAME: unrelated, empty, not-in-tree, oversized, slow, truncated and cut answers refused, nothing stored: ok"

# A second hash for a stored module version, in the upstream's log.
n0=$(evidence conflict)
attack duplicate
GEN=$((GEN + 1))
grow 0
wait_for sh -c "[ \"\$(curl -s $M/latest | sed -n 2p)\" = $((GEN + 4)) ]" || fail "duplicate: no sync"
n=$((GEN + 4))
s=$(status "$M/tile/8/data/$(printf '%03d' $(( (n - 1) / 256 ))).p/$(( n % 256 ))")
[ "$s" = 200 ] || fail "data tile with the duplicate: $s"
[ "$(evidence conflict)" -gt "$n0" ] || fail "duplicate: no conflict evidence"
[ "$(db_sql "$T/sumdbd.db" "SELECT CASE WHEN $(sql_text material) LIKE '%example.com/hello v1.0.0%' THEN 1 ELSE 0 END FROM evidence WHERE kind = 'conflict' ORDER BY id DESC LIMIT 1")" = 1 ] ||
    fail "duplicate: the conflict's evidence lacks the data tile's bytes"
[ "$(curl -s "$M/lookup/example.com/hello@v1.0.0" | head -1)" = 0 ] || fail "duplicate replaced the first record"
attack none
echo "$NAME: a second hash for a stored module version refused, the first kept: ok"

# The upstream goes away (stops answering), then comes back.
kill -STOP "$UPID"
[ "$(status "$M/lookup/example.com/hello@v1.0.0")" = 200 ] || fail "stored lookups without the upstream"
[ "$(status "$M/lookup/example.com/gen/m30@v1.0.30")" = 502 ] || fail "a miss without the upstream"
[ "$(status "$URL/healthz")" = 200 ] || fail "healthz without the upstream"
kill -CONT "$UPID"
wait_for sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' $M/lookup/example.com/gen/m30@v1.0.30) = 200 ]" ||
    fail "the mirror did not recover"
"$B/xmodref" client "$upkey" "$M" example.com/hello@v1.0.0 example.com/gen/m30@v1.0.30 >/dev/null ||
    fail "x/mod's client after recovery"
echo "$NAME: the upstream going away and coming back: ok"
