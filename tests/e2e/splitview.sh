#!/bin/sh
# Mirrors that witness each other (c2sp.org/tlog-witness): each cosigns
# the trust bases it accepts, and /latest carries the cosignatures (the
# go command 1.19 and 1.24 verifies through it).  A third mirror of the
# same history gets the first mirror's cosignature for every trust base.
# Then a split view: one upstream key, two histories of the same size
# (history A to mirror 1, B to mirror 2).  Both detect it, freeze, and
# keep evidence that x/mod alone proves; the go command through either
# still gets the last good checkpoint and the records stored.
# Acceptance 3 of the witness issue.
. "$(dirname "$0")/lib.sh"

UP=sumdb.upstream.example
ORIGIN="go.sum database tree"
mkdir -p "$T/home"
"$B/xmodref" modtree "$T/proxy" example.com/hello@v1.0.0 \
    example.com/Upper/Mixed@v1.0.0 example.com/legacy@v2.0.0+incompatible \
    >"$T/hashes" || fail "module tree"
upkey=$("$B/sumdbd" keygen -o "$T/up.key" $UP 2>/dev/null) || fail "keygen"
for i in 1 2 3; do
	eval "w$i=\$(\"\$B/sumdbd\" keygen --witness -o \"\$T/w$i.key\" \
	    witness$i.test.example 2>/dev/null)" || fail "keygen --witness $i"
done
# History A, and history B: the same key and size, other records from
# the 250th generated one on.
start_upstream -gen 300 -mods "$T/hashes"
UA=$UPORT
start_upstream -gen 300 -mods "$T/hashes" -fork 250
UB=$UPORT
for i in 1 2 3; do eval "P$i=$(randport)"; done

# dconf N UPSTREAMPORT [PEER...]: daemon N's config; a peer is "K"
# for daemon K's witness.
dconf() {
	n=$1 up=$2
	shift 2
	{
		echo "[server]"
		echo "listen = 127.0.0.1:$(eval echo \$P$n)"
		echo "database = $T/d$n.db"
		echo "[witness]"
		echo "name = witness$n.test.example"
		echo "key = $T/w$n.key"
		echo "[witness-log $UP]"
		echo "origin = $ORIGIN"
		echo "key = $upkey"
		echo "[mirror $UP]"
		echo "key = $upkey"
		echo "url = http://127.0.0.1:$up"
		echo "mode = full"
		echo "poll = 1s"
		for k in "$@"; do
			echo "witness = http://127.0.0.1:$(eval echo \$P$k)/witness $(eval echo \$w$k)"
		done
	} >"$T/d$n.conf"
}
dstart() {
	start_sumdbd "$T/d$1.conf" "$(eval echo \$P$1)"
	eval "D$1=$SPID"
}
dstop() {
	eval "kill \$D$1; wait \$D$1"
}
M() { echo "http://127.0.0.1:$(eval echo \$P$1)/sumdb/$UP"; }
W() { echo "http://127.0.0.1:$(eval echo \$P$1)/witness"; }
size() { curl -s "$(M "$1")/latest" | sed -n 2p; }
sigs() { curl -s "$(M "$1")/latest" | grep -c '^— '; }
frozen() { curl -s "http://127.0.0.1:$(eval echo \$P$1)/metrics" |
    grep -q "^sumdbd_frozen{db=\"$UP\"} 1"; }
splits() { sqlite3 "$T/d$1.db" "SELECT count(*) FROM evidence WHERE kind = 'split'"; }
sizeis() { [ "$(size "$1")" = "$2" ]; }
full() { [ "$(sqlite3 "$T/d$1.db" "SELECT full_next FROM log WHERE name = '$UP'")" = "$2" ]; }
gosum() {	# gosum N: the go command through mirror N, fresh caches
	c=$T/c$1.$GOV
	rm -rf "$c" "$T/gp$1.$GOV"
	consumer "$c"
	(cd "$c" && goenv "$T/gp$1.$GOV" GOPROXY="file://$T/proxy" \
	    GOSUMDB="$upkey $(M "$1")" go mod download all) >"$T/out" 2>&1 ||
	    fail "go mod download through mirror $1: $(cat "$T/out")"
	while read -r p v zh mh; do
		grep -qxF "$p $v $zh" "$c/go.sum" || fail "go.sum $1: no '$p $v $zh'"
	done <"$T/hashes"
}

# 1. Mirror 1 of A cosigns its trust bases; mirror 3 of A submits to
# witness 1 and keeps its cosignatures.
dconf 1 "$UA"
dstart 1
dconf 3 "$UA" 1
dstart 3
wait_for sizeis 1 303 || fail "mirror 1 did not sync"
wait_for full 1 303 || fail "mirror 1: no full sync"
[ "$(sigs 1)" = 2 ] || fail "mirror 1's /latest: $(sigs 1) signatures, want the upstream's and its own"
"$B/xmodref" witness check "$(W 1)" "$w1" "$upkey" "$UP" 303 >/dev/null ||
    fail "witness 1's checkpoint of the mirror"
wait_for sizeis 3 303 || fail "mirror 3 did not sync"
three() { [ "$(sigs 3)" = 3 ]; }
wait_for three || fail "mirror 3's /latest lacks witness 1's cosignature: $(curl -s "$(M 3)/latest")"
curl -s "$(M 3)/latest" | grep -q "^— witness1.test.example " ||
    fail "no cosignature of witness 1 on mirror 3"
# The upstream grows: the next trust base is cosigned again, submitted
# from 303 with the proof stored in the chain.
curl -sf -o /dev/null "http://127.0.0.1:$UA/admin/grow?n=40" || fail "grow"
wait_for sizeis 3 343 || fail "mirror 3 did not follow"
wait_for three || fail "trust base 343 of mirror 3 not cosigned by witness 1"
grep -q "cosigned" "$T/daemon.log" || :
for_each_go gosum 1
for_each_go gosum 3
echo "$NAME: mirrors cosign their trust bases, and a peer's cosignatures reach /latest; the go command (1.19, 1.24) verifies through them: ok"
dstop 3

# 2. A split view: mirror 4 of history A (a new upstream at 303) and
# mirror 2 of B, each fully synced alone, then witnessing each other.
start_upstream -gen 300 -mods "$T/hashes"
UC=$UPORT
P4=$(randport)
w4=$("$B/sumdbd" keygen --witness -o "$T/w4.key" witness4.test.example \
    2>/dev/null) || fail "keygen --witness 4"
dconf 2 "$UB"
dstart 2
dconf 4 "$UC"
dstart 4
wait_for full 2 303 || fail "mirror 2: no full sync"
wait_for full 4 303 || fail "mirror 4: no full sync"
for_each_go gosum 2
for_each_go gosum 4
dstop 2
dstop 4
dconf 2 "$UB" 4
dconf 4 "$UC" 2
dstart 2
dstart 4
wait_for frozen 2 || fail "mirror 2 did not freeze on the split view"
wait_for frozen 4 || fail "mirror 4 did not freeze on the split view"
grep -q "SPLIT VIEW" "$T/daemon.log" || fail "the split view was not logged loudly"
for i in 2 4; do
	[ "$(splits $i)" -ge 1 ] || fail "mirror $i kept no split view evidence"
	curl -s "http://127.0.0.1:$(eval echo \$P$i)/metrics" |
	    grep -q "^sumdbd_refusals_total{db=\"$UP\",kind=\"split\"} [1-9]" ||
	    fail "mirror $i counted no split refusal"
	id=$(sqlite3 "$T/d$i.db" "SELECT max(id) FROM evidence WHERE kind = 'split'")
	"$B/sumdbd" evidence -c "$T/d$i.conf" export "$id" "$T/split$i.ev" ||
	    fail "evidence export $i"
	"$B/xmodref" checkevidence "$T/split$i.ev" >"$T/proof$i" 2>&1 ||
	    fail "x/mod does not prove mirror $i's evidence: $(cat "$T/proof$i")"
	grep -q "^proven: $UP signed two roots for tree 303" "$T/proof$i" ||
	    fail "evidence $i: $(cat "$T/proof$i")"
	# It keeps serving its last good tree, and what it stored.
	[ "$(size $i)" = 303 ] || fail "mirror $i serves $(size $i), not 303"
done
[ "$(curl -s "$(M 2)/latest" | sed -n 3p)" != "$(curl -s "$(M 4)/latest" | sed -n 3p)" ] ||
    fail "the two mirrors serve the same root: no split view to see"
for_each_go gosum 2
for_each_go gosum 4
# Unfrozen by the operator, mirror 2 asks its peer again: the split
# view is still there, and it freezes again with new evidence.
n2=$(splits 2)
"$B/sumdbd" unfreeze -c "$T/d2.conf" $UP >/dev/null || fail "unfreeze"
more() { [ "$(splits 2)" -gt "$n2" ]; }
wait_for more || fail "mirror 2 did not ask its peer again after the unfreeze"
wait_for frozen 2 || fail "mirror 2 did not freeze again"
echo "$NAME: a split view (tree 303 of A and B under one key) is detected by both mirrors, frozen, with evidence x/mod proves; the go command still verifies through both; after an unfreeze it is seen again: ok"

# 3. Sizes that differ: mirror 1 (A at 343) submits to witness 2 (B at
# 303) from 303 with its proof, which cannot verify against B's root:
# a split view too, proven with our root at 303 and that proof.
dstop 1
dconf 1 "$UA" 2
dstart 1
wait_for frozen 1 || fail "mirror 1 did not freeze"
id=$(sqlite3 "$T/d1.db" "SELECT max(id) FROM evidence WHERE kind = 'split'")
[ -n "$id" ] || fail "mirror 1 kept no split view evidence"
"$B/sumdbd" evidence -c "$T/d1.conf" export "$id" "$T/split1.ev" || fail "export 1"
"$B/xmodref" checkevidence "$T/split1.ev" >"$T/proof1" 2>&1 ||
    fail "x/mod does not prove mirror 1's evidence: $(cat "$T/proof1")"
grep -q "^proven: $UP signed tree 343, whose first 303 records" "$T/proof1" ||
    fail "evidence 1: $(cat "$T/proof1")"
[ "$(size 1)" = 343 ] || fail "mirror 1 serves $(size 1), not 343"
echo "$NAME: tree 343 of A against tree 303 of B: the refused proof is kept as evidence x/mod proves: ok"
