#!/bin/sh
# sumdbd provenance: for a public record of the private log, admitted
# as the mirror's verified record ([log] public = NAME), the export is
# checked with golang.org/x/mod alone (tests/xmodref provenance, x/mod
# 0.19 and 0.7.0) given the two verifier keys: both records proven in
# trees their databases signed, byte for byte the upstream's own record.
# A changed record, proof hash or checkpoint, or another key, fails.
# With a lazy mirror (also after the upstream grew) and a full one.
. "$(dirname "$0")/lib.sh"

UP=sumdb.upstream.example
"$B/xmodref" modtree "$T/proxy" example.com/hello@v1.0.0 \
    example.com/Upper/Mixed@v1.0.0 corp.example/secret@v1.0.0 \
    >"$T/hashes" || fail "modtree"
realmod_add "$T/proxy" xtools
realmod_hashes xtools >>"$T/hashes"
grep -v '^corp.example/' "$T/hashes" >"$T/up.hashes"
upkey=$("$B/sumdbd" keygen -o "$T/up.key" $UP 2>/dev/null) || fail "keygen"
okey=$("$B/sumdbd" keygen -o "$T/other.key" $UP 2>/dev/null) || fail "keygen"
vkey=$("$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example 2>/dev/null) ||
    fail "keygen"
# 4 modules, then 2000 generated records: the last ones end the tree.
start_upstream -gen 2000 -mods "$T/up.hashes"
U=http://127.0.0.1:$UPORT
MIRROR="[mirror $UP]
key = $upkey
url = $U
poll = 1s"
XTOOLS=$(realmod_mv xtools)
LAST=example.com/gen/m999@v1.0.1999

# lookup MV: MV (escaped) through the log answers 200.
lookup() {
	[ "$(status "$URL/lookup/$1")" = 200 ] ||
	    fail "lookup of $1 through the log: $(curl -s "$URL/lookup/$1")"
}

# prove MV WHAT: export MV's provenance to $T/prov, check it with both
# x/mod versions, and compare the record with the upstream's own.
prove() {
	"$B/sumdbd" provenance -c "$T/sumdbd.conf" -o "$T/prov" "$1" \
	    >"$T/out" 2>&1 || fail "$2: provenance $1: $(cat "$T/out")"
	for x in xmodref19 xmodref; do
		"$B/$x" provenance "$T/prov" "$vkey" "$upkey" >"$T/out" 2>&1 ||
		    fail "$2: $x provenance $1: $(cat "$T/out")"
		grep -q "^proven: $1 is record [0-9]* of sumdb.test.example (tree [0-9]*) and record [0-9]* of $UP (tree [0-9]*), byte for byte$" "$T/out" ||
		    fail "$2: $x: $(cat "$T/out")"
	done
	curl -s "$U/lookup/$(echo "$1" | sed 's/[A-Z]/!\L&/g')" |
	    sed -n '2,3p' >"$T/up.rec"
	awk '/^upstream /{u = 1} u && /^record /{n = 2; next} n-- > 0' \
	    "$T/prov" | cmp -s - "$T/up.rec" ||
	    fail "$2: $1: the export's record is not the upstream's: $(cat "$T/up.rec")"
	awk '/^record /{n = 2; next} n-- > 0' "$T/prov" | sed -n '1,2p' |
	    cmp -s - "$T/up.rec" || fail "$2: $1: the log's record is not the upstream's"
}

# refuted WHAT WHY [LOGKEY UPKEY]: xmodref (x/mod 0.19) refuses $T/bad,
# saying WHY (a regex).
refuted() {
	"$B/xmodref19" provenance "$T/bad" "${3:-$vkey}" "${4:-$upkey}" \
	    >"$T/out" 2>&1 && fail "$1: a tampered export verifies: $(cat "$T/out")"
	grep -q "^xmodref: $T/bad: $2" "$T/out" || fail "$1: $(cat "$T/out")"
	echo "$NAME: a tampered export ($1) fails: ok"
}

# 1. A lazy mirror.
PRIVATE='corp.example/*' start_daemon "$MIRROR"
for m in example.com/hello@v1.0.0 "$XTOOLS" "$LAST" corp.example/secret@v1.0.0; do
	lookup "$m"
done
prove example.com/hello@v1.0.0 "lazy"
prove "$LAST" "lazy, the upstream's last record"
prove "$XTOOLS" "lazy, real-size"
echo "$NAME: a lazy mirror: each export verifies with x/mod 0.19 and 0.7.0, byte for byte the upstream's: ok"

# Tampered exports of x/tools' record.
cp "$T/prov" "$T/good"
python3 - "$T/good" "$T/bad" <<'EOP'
import sys
d = open(sys.argv[1], 'rb').read()
i = d.index(b' h1:') + 4		# the log's record's zip hash
open(sys.argv[2], 'wb').write(d[:i] + bytes([d[i] ^ 1]) + d[i + 1:])
EOP
refuted "the log's record text changed" \
    "sumdb.test.example record [0-9]* in tree [0-9]*: invalid transparency proof"
python3 - "$T/good" "$T/bad" <<'EOP'
import sys
d = open(sys.argv[1], 'rb').read()
i = d.index(b'\nproof ', d.index(b'\nupstream ')) + 1
i = d.index(b'\n', i) + 1		# the upstream's first proof hash
c = b'A' if d[i:i + 1] != b'A' else b'B'
open(sys.argv[2], 'wb').write(d[:i] + c + d[i + 1:])
EOP
refuted "a proof hash changed" \
    "$UP record [0-9]* in tree [0-9]*: invalid transparency proof"
python3 - "$T/good" "$T/bad" <<'EOP'
import sys
d = open(sys.argv[1], 'rb').read()
i = d.rindex(b'go.sum database tree\n')	# the upstream's checkpoint
i = d.index(b'\n', d.index(b'\n', i) + 1) + 1	# its root hash
c = b'A' if d[i:i + 1] != b'A' else b'B'
open(sys.argv[2], 'wb').write(d[:i] + c + d[i + 1:])
EOP
refuted "the upstream's checkpoint root changed" \
    "$UP checkpoint: invalid signature"
cp "$T/good" "$T/bad"
refuted "another upstream key" \
    "upstream $UP: the export names key $upkey, not the one given" "$vkey" "$okey"
sed "s|$upkey|$okey|" "$T/good" >"$T/bad"
refuted "another upstream key, named in the export" \
    "$UP checkpoint: note has no verifiable signatures" "$vkey" "$okey"
refuted "the keys swapped" \
    "log sumdb.test.example: the export names key $vkey" "$upkey" "$vkey"

# What cannot be exported: exit 1 with the reason.
"$B/sumdbd" provenance -c "$T/sumdbd.conf" corp.example/secret@v1.0.0 \
    >"$T/out" 2>&1
[ $? = 1 ] && grep -q "^sumdbd provenance: corp.example/secret@v1.0.0: record [0-9]* has no provenance: a \[log\] private path" "$T/out" ||
    fail "a private record: $(cat "$T/out")"
"$B/sumdbd" provenance -c "$T/sumdbd.conf" example.com/never@v1.0.0 \
    >"$T/out" 2>&1
[ $? = 1 ] && grep -qx "sumdbd provenance: example.com/never@v1.0.0: not in sumdb.test.example" "$T/out" ||
    fail "a version not in the log: $(cat "$T/out")"
echo "$NAME: a private record and an absent one: exit 1 with the reason: ok"

# The upstream grows and the mirror follows: the exports still verify.
n0=$(curl -s "$URL/sumdb/$UP/latest" | sed -n 2p)
curl -sf -o /dev/null "$U/admin/grow?n=300" || fail "grow"
i=0
until [ "$(curl -s "$URL/sumdb/$UP/latest" | sed -n 2p)" -gt "$n0" ]; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "the mirror did not follow the upstream"
	sleep 0.1
done
lookup example.com/!upper/!mixed@v1.0.0
prove example.com/hello@v1.0.0 "lazy, after growth"
prove example.com/Upper/Mixed@v1.0.0 "lazy, admitted after growth"
stop_daemon
echo "$NAME: after the upstream grew: old and new exports verify: ok"

# 2. A full mirror, in a new store: records come from its own copy.
mkdir "$T/lazy" && mv "$T/sumdbd.db"* "$T/lazy/"
PRIVATE='corp.example/*' restart_daemon_with "$MIRROR" "mode = full"
N=$(curl -s "$U/latest" | sed -n 2p)
i=0
until [ "$(sqlite3 "$T/sumdbd.db" "SELECT full_next FROM log WHERE name = '$UP'" 2>/dev/null)" = "$N" ]; do
	i=$((i + 1)); [ $i -lt 600 ] || fail "the full mirror did not sync"
	sleep 0.1
done
for m in example.com/hello@v1.0.0 "$XTOOLS" example.com/gen/m299@v1.0.2299; do
	lookup "$m"
done
prove example.com/hello@v1.0.0 "full"
prove "$XTOOLS" "full, real-size"
prove example.com/gen/m299@v1.0.2299 "full, the upstream's last record"
stop_daemon
echo "$NAME: a full mirror: each export verifies with x/mod: ok"
