#!/bin/sh
# Differential bundles across an air gap: instance A (a private log)
# exports; instance B, an offline mirror of it with no route to A,
# imports, and the go command verifies through B; a later bundle
# advances B.  Bundles that fork from B's trust base, carry an altered
# record or tile, or are for another database are refused with nothing
# written.  Acceptance 3 and 4 of the TUF issue (bundle files).
. "$(dirname "$0")/lib.sh"
each_go

NAME_DB=sumdb.test.example
mkdir -p "$T/home"
"$B/xmodref" modtree "$T/proxy" example.com/hello@v1.0.0 \
    example.com/Upper/Mixed@v1.0.0 example.com/legacy@v2.0.0+incompatible \
    >"$T/hashes" || fail "modtree"
vkey=$("$B/sumdbd" keygen -o "$T/log.key" $NAME_DB 2>/dev/null) || fail "keygen"
write_config "$T/a.conf" 1
"$B/sumdbd" add -c "$T/a.conf" example.com/hello@v1.0.0 \
    example.com/Upper/Mixed@v1.0.0 example.com/legacy@v2.0.0+incompatible \
    >/dev/null 2>&1 || fail "add"
"$B/sumdbd" export -c "$T/a.conf" --db $NAME_DB "$T/b1" >"$T/out" ||
    fail "export: $(cat "$T/out")"

# B: its own store, offline, the same name and key.
mv "$T/sumdbd.db" "$T/a.db"
sed -i "s|$T/sumdbd.db|$T/a.db|" "$T/a.conf"
bconf() {
	cat >"$T/b.conf" <<EOC
[server]
listen = 127.0.0.1:1
database = $T/sumdbd.db
[mirror $NAME_DB]
key = $vkey
offline = yes
EOC
}
bconf
"$B/sumdbd" import -c "$T/b.conf" "$T/b1" >"$T/out" 2>&1 || fail "import: $(cat "$T/out")"
grep -q 'trust base 0 -> 3' "$T/out" || fail "import: $(cat "$T/out")"
start_conf "$T/b.conf" "$T/daemon.log" "sumdb/$NAME_DB/latest"
DPID=$OPID PORT=$OPORT URL=http://127.0.0.1:$OPORT
M=$URL/sumdb/$NAME_DB
consumer "$T/c"
(cd "$T/c" && goenv "$T/gp" GOPROXY="file://$T/proxy" \
    GOSUMDB="$vkey $M" go mod download all) >"$T/out" 2>&1 ||
    fail "go mod download through B: $(cat "$T/out")"
echo "$NAME: B, offline, imports A's bundle; the go command verifies through B: ok"

# A later bundle advances B incrementally, while B serves.
"$B/xmodref" modtree "$T/proxy" example.com/hello@v1.1.0 >/dev/null
"$B/sumdbd" add -c "$T/a.conf" example.com/hello@v1.1.0 >/dev/null 2>&1 || fail "add 2"
"$B/sumdbd" export -c "$T/a.conf" --db $NAME_DB --from 3 "$T/b2" >/dev/null ||
    fail "export 2"
"$B/sumdbd" import -c "$T/b.conf" "$T/b2" >"$T/out" 2>&1 || fail "import 2: $(cat "$T/out")"
grep -q 'trust base 3 -> 4, 1 records' "$T/out" || fail "import 2: $(cat "$T/out")"
# The same bundle again (a site importing everything it was handed): a
# no-op, not a refusal.
"$B/sumdbd" import -c "$T/b.conf" "$T/b2" >"$T/out" 2>&1 || fail "import 2 again: $(cat "$T/out")"
grep -q 'trust base 4 -> 4' "$T/out" || fail "import 2 again: $(cat "$T/out")"
i=0
until [ "$(curl -s "$M/latest" | sed -n 2p)" = 4 ]; do
	i=$((i + 1)); [ $i -lt 50 ] || fail "B does not serve the new trust base"
	sleep 0.1
done
printf 'module example.com/c2\n\ngo 1.19\n\nrequire example.com/hello v1.1.0\n' >"$T/c/go.mod"
rm -f "$T/c/go.sum"
(cd "$T/c" && goenv "$T/gp" GOPROXY="file://$T/proxy" \
    GOSUMDB="$vkey $M" go mod download all) >"$T/out" 2>&1 ||
    fail "go mod download after the second bundle: $(cat "$T/out")"
echo "$NAME: a second bundle advances B incrementally: ok"

# Refusals: nothing written, exit 1, the reason on stderr.
state() { sqlite3 "$T/sumdbd.db" "SELECT (SELECT count(*) FROM record) || ' ' || (SELECT max(size) FROM checkpoint)"; }
before=$(state)
refused() {
	"$B/sumdbd" import -c "$T/b.conf" "$1" >"$T/out" 2>&1
	[ $? = 1 ] || fail "$2: not refused with exit 1: $(cat "$T/out")"
	grep -q "$3" "$T/out" || fail "$2: $(cat "$T/out")"
	[ "$(state)" = "$before" ] || fail "$2: B's store changed"
}
# Re-seal a bundle after editing it, as a forger would.
reseal() {
	head -c -69 "$1" >"$1.body"
	printf 'end %s\n' "$(sha256sum "$1.body" | cut -c1-64)" | cat "$1.body" - >"$1"
	rm -f "$1.body"
}
# A fork: the same key, another history.
mkdir -p "$T/fork"
cp "$T/log.key" "$T/fork/log.key"
sed "s|$T/a.db|$T/fork/f.db|; s|key = $T/log.key|key = $T/fork/log.key|" "$T/a.conf" >"$T/fork/f.conf"
"$B/xmodref" modtree "$T/proxy" example.com/other@v1.0.0 >/dev/null
"$B/sumdbd" add -c "$T/fork/f.conf" example.com/other@v1.0.0 example.com/hello@v1.0.0 \
    example.com/legacy@v2.0.0+incompatible example.com/Upper/Mixed@v1.0.0 \
    example.com/hello@v1.1.0 >/dev/null 2>&1 || fail "fork add"
"$B/sumdbd" export -c "$T/fork/f.conf" --db $NAME_DB "$T/bfork" >/dev/null || fail "fork export"
refused "$T/bfork" fork "forks from our trust base"
# An altered record inside a validly sealed bundle.
sed 's/^example.com\/hello v1.1.0 h1:./example.com\/hello v1.1.0 h1:0/' "$T/b2" >"$T/brec"
cmp -s "$T/b2" "$T/brec" && sed -i 's/^example.com\/hello v1.1.0 h1:0/example.com\/hello v1.1.0 h1:1/' "$T/brec"
reseal "$T/brec"
refused "$T/brec" "altered record" "is not in tree"
# An altered tile.
python3 - "$T/b2" "$T/btile" <<'EOP'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
i = b.index(b'\ntiles ')
j = b.index(b'\n', b.index(b'tile/8/0/', i)) + 1
b[j + 5] ^= 1
open(sys.argv[2], 'wb').write(b)
EOP
reseal "$T/btile"
refused "$T/btile" "altered tile" "does not authenticate"
# Damaged without resealing.
cp "$T/b2" "$T/bdmg"
python3 - "$T/bdmg" <<'EOP'	# one byte flipped, whatever it was
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
d[200] ^= 0x01
open(sys.argv[1], 'wb').write(d)
EOP
refused "$T/bdmg" "damaged" "checksum does not match"
# Another database.
sed "s/^db $NAME_DB$/db sumdb.other.example/" "$T/b2" >"$T/bdb"
reseal "$T/bdb"
refused "$T/bdb" "another database" "which .* does not have"
# Each refusal for B's database is kept as evidence, bundle and all (a
# damaged or foreign bundle names no database of B's: logged only).
"$B/sumdbd" evidence -c "$T/b.conf" list >"$T/ev" || fail "evidence list"
[ "$(grep -c "	$NAME_DB	import	$T/b" "$T/ev")" = 3 ] || fail "import evidence: $(cat "$T/ev")"
grep -q "	import	$T/bfork	the to-checkpoint .* forks from our trust base" "$T/ev" ||
    fail "fork evidence: $(cat "$T/ev")"
id=$(grep "	$T/bfork	" "$T/ev" | cut -f1)
[ "$(sqlite3 "$T/sumdbd.db" "SELECT length(material) = $(stat -c %s "$T/bfork") AND length(new) > 0 FROM evidence WHERE id = $id")" = 1 ] ||
    fail "the forked bundle is not kept whole with its checkpoint"
echo "$NAME: forked, altered, damaged and foreign bundles refused, nothing written, evidence kept: ok"

# Into the private log itself: refused, A's store unchanged (it would
# skip A's own records unread and could store a tree that A's appended
# but unsigned records do not make).
astate() { sqlite3 "$T/a.db" "SELECT (SELECT count(*) FROM record) || ' ' || (SELECT max(size) FROM checkpoint)"; }
abefore=$(astate)
"$B/sumdbd" import -c "$T/a.conf" "$T/b2" >"$T/out" 2>&1
[ $? = 1 ] || fail "import into the private log: not refused with exit 1: $(cat "$T/out")"
grep -q "this server's own log" "$T/out" || fail "import into the private log: $(cat "$T/out")"
[ "$(astate)" = "$abefore" ] || fail "import into the private log changed A's store"
echo "$NAME: a bundle into the private log itself refused, nothing written: ok"

# A copy of B whose stored record 3 differs from the signed tree's: a
# re-import that overlaps it compares the bytes instead of skipping.
rm -f "$T/c.db"*; sqlite3 "$T/sumdbd.db" ".backup '$T/c.db'"
sed "s|$T/sumdbd.db|$T/c.db|" "$T/b.conf" >"$T/c.conf"
sqlite3 "$T/c.db" "UPDATE record SET text = CAST(replace(CAST(text AS TEXT), ' h1:', ' h1:A') AS BLOB) WHERE id = 3"
"$B/sumdbd" import -c "$T/c.conf" "$T/b2" >"$T/out" 2>&1
[ $? = 1 ] || fail "overlapping record with other bytes: not refused with exit 1: $(cat "$T/out")"
grep -q "record 3 is stored with other bytes" "$T/out" || fail "overlapping record: $(cat "$T/out")"
echo "$NAME: an overlapping record stored with other bytes refused: ok"

# A mirror missing records below its trust base (as a lazy one is):
# a bundle from that trust base does not mark the log complete.
rm -f "$T/c.db"*; sqlite3 "$T/sumdbd.db" ".backup '$T/c.db'"
sqlite3 "$T/c.db" "DELETE FROM record WHERE id = 2; UPDATE log SET full_next = 2"
"$B/xmodref" modtree "$T/proxy" example.com/hello@v1.2.0 >/dev/null
"$B/sumdbd" add -c "$T/a.conf" example.com/hello@v1.2.0 >/dev/null 2>&1 || fail "add 3"
"$B/sumdbd" export -c "$T/a.conf" --db $NAME_DB --from 4 "$T/b3" >/dev/null || fail "export 3"
"$B/sumdbd" import -c "$T/c.conf" "$T/b3" >"$T/out" 2>&1 || fail "import 3: $(cat "$T/out")"
grep -q 'trust base 4 -> 5, 1 records' "$T/out" || fail "import 3: $(cat "$T/out")"
fn=$(sqlite3 "$T/c.db" "SELECT full_next FROM log WHERE name = '$NAME_DB'")
[ "$fn" = 2 ] || fail "a bundle from 4 over a gap at 2 set full_next to $fn, want 2"
# Importing into B (complete up to 4) does advance it.
"$B/sumdbd" import -c "$T/b.conf" "$T/b3" >"$T/out" 2>&1 || fail "import 3 into B: $(cat "$T/out")"
fn=$(sqlite3 "$T/sumdbd.db" "SELECT full_next FROM log WHERE name = '$NAME_DB'")
[ "$fn" = 5 ] || fail "a bundle from 4 into a complete store set full_next to $fn, want 5"
echo "$NAME: full_next moves only when a bundle starts at or below it: ok"

# A real-size module (x/tools, 2.4 MB) added to A, carried by a fourth
# bundle: B serves the go command's record, and the go command verifies
# the module through B.
realmod_add "$T/proxy" xtools
"$B/sumdbd" add -c "$T/a.conf" $(realmod_mv xtools) >"$T/out" 2>&1 ||
    fail "add x/tools: $(cat "$T/out")"
"$B/sumdbd" export -c "$T/a.conf" --db $NAME_DB --from 5 "$T/b4" >/dev/null ||
    fail "export 4"
"$B/sumdbd" import -c "$T/b.conf" "$T/b4" >"$T/out" 2>&1 || fail "import 4: $(cat "$T/out")"
grep -q 'trust base 5 -> 6, 1 records' "$T/out" || fail "import 4: $(cat "$T/out")"
i=0
until [ "$(curl -s "$M/latest" | sed -n 2p)" = 6 ]; do
	i=$((i + 1)); [ $i -lt 50 ] || fail "B does not serve the fourth bundle's tree"
	sleep 0.1
done
realmod_lookup "$M" xtools
printf 'module example.com/c4\n\ngo 1.19\n' >"$T/c/go.mod"
realmod_require "$T/c" xtools
rm -f "$T/c/go.sum"
(cd "$T/c" && goenv "$T/gp" GOPROXY="file://$T/proxy" \
    GOSUMDB="$vkey $M" go mod download all) >"$T/out" 2>&1 ||
    fail "go mod download of x/tools through B: $(cat "$T/out")"
realmod_gosum xtools "$T/c/go.sum"
echo "$NAME: a real-size module carried by a bundle; the go command verifies it through B: ok"
