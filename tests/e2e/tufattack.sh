#!/bin/sh
# The TUF attacks, each refused by `sumdbd import` with nothing written:
# rollback of timestamp, snapshot and targets; expired metadata;
# mix-and-match; a bad signature; a threshold not met and one key
# counted twice; a target whose bytes differ; a root chain with a gap.
# Each repository is a copy of a real sumdbd's, edited and re-signed by
# tests/tuftool with the keys an attacker would hold.  Acceptance 2 of
# the TUF issue.
. "$(dirname "$0")/lib.sh"

"$B/xmodref" modtree "$T/proxy" example.com/hello@v1.0.0 example.com/hello@v1.1.0 >/dev/null || fail "modtree"
# And a real-size module (x/mod's tree), logged with the first record.
realmod_add "$T/proxy" xmod
vkey=$("$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example 2>/dev/null) || fail "keygen"
write_config "$T/sumdbd.conf" 1 "[tuf]" "keys = $T/tuf.keys"
"$B/sumdbd" tuf init -c "$T/sumdbd.conf" -n 2 -t 2 "$T/root1" >/dev/null || fail "tuf init"
"$B/sumdbd" add -c "$T/sumdbd.conf" example.com/hello@v1.0.0 $(realmod_mv xmod) \
    >/dev/null 2>&1 || fail "add"
start_daemon "[tuf]" "keys = $T/tuf.keys" "resign = 1h"
[ "$(status "$URL/lookup/example.com/hello@v1.1.0")" = 200 ] || fail "lookup"
i=0
until curl -s "$URL/tuf/timestamp.json" | grep -q '"version":2}'; do
	i=$((i + 1)); [ $i -lt 60 ] || fail "no second publication"
	sleep 0.1
done
stop_daemon

# The repository as files: every version of every role, and targets.
R=$T/repo
mkdir -p "$R/targets/sumdb.test.example/bundles"
sqlite3 "$T/sumdbd.db" "SELECT writefile('$R/' || version || '.' || role || '.json', bytes) FROM tuf" >/dev/null
sqlite3 "$T/sumdbd.db" "SELECT writefile('$R/targets/' || replace(path, substr(path, length(rtrim(path, replace(path, '/', ''))) + 1), '') || sha256 || '.' || substr(path, length(rtrim(path, replace(path, '/', ''))) + 1), bytes) FROM tuf_target" >/dev/null
top() { sqlite3 "$T/sumdbd.db" "SELECT max(version) FROM tuf WHERE role = '$1'"; }
TS=$(top timestamp) SN=$(top snapshot) TG=$(top targets)
cp "$R/$TS.timestamp.json" "$R/timestamp.json"
cp "$R/1.root.json" "$T/pinned.json"

cat >"$T/b.conf" <<EOC
[server]
database = $T/b.db
[mirror sumdb.test.example]
key = $vkey
offline = yes
EOC
# imp DIR [STATE]: import from file://DIR into b.db; prints the status.
# A time limit: a hostile repository must not hang us.
imp() {
	timeout 60 "$B/sumdbd" import -c "$T/b.conf" --root "$T/pinned.json" \
	    --state "${2:-$T/state.$$.$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}" \
	    "file://$1" >"$T/out" 2>&1
	echo $?
}
variant() { rm -rf "$T/v"; cp -r "$R" "$T/v"; }
signed() { python3 -c "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))['signed']))" "$1"; }
edit() {	# edit FILE PYTHON-EXPR-ON-s: rewrite the signed part
	python3 - "$1" "$2" <<'EOP'
import json, sys
s = json.load(open(sys.argv[1]))['signed']
exec(sys.argv[2])
print(json.dumps(s))
EOP
}
sha() { sha256sum "$1" | cut -c1-64; }
len() { wc -c <"$1" | tr -d ' '; }
resign() {	# resign ROLE OUT KEYSPEC...: stdin is the signed part
	role=$1 out=$2
	shift 2
	"$B/tests/tuftool" sign "$@" >"$out" || fail "tuftool"
}
DBF=$T/b.db
state_of() { sqlite3 "$DBF" "SELECT (SELECT count(*) FROM record) || ' ' || (SELECT coalesce(max(size), 0) FROM checkpoint)" 2>/dev/null || echo none; }
refused() {	# refused NAME STATUS PATTERN
	[ "$2" = 1 ] || fail "$1: import exited $2, want 1: $(cat "$T/out")"
	grep -q "$3" "$T/out" || fail "$1: $(cat "$T/out")"
	[ "$(state_of)" = "$before" ] || fail "$1: the store changed"
	# Kept as evidence: the reason, the URL, the last bytes fetched.
	nev=$(sqlite3 "$DBF" "SELECT count(*) FROM evidence WHERE kind = 'import' AND detail LIKE 'TUF: %' AND source LIKE 'file://%'")
	[ "$nev" -gt "${nev0:-0}" ] || fail "$1: no evidence kept"
	nev0=$nev
	echo "$NAME: $1: refused, evidence kept: ok"
}

# The good repository imports.
[ "$(imp "$R" "$T/good")" = 0 ] || fail "good repository: $(cat "$T/out")"
before=$(state_of)
[ "$before" = "3 3" ] || fail "good repository imported '$before'"
sqlite3 "$DBF" "SELECT CAST(text AS TEXT) FROM record" >"$T/b.sum" ||
    fail "reading the imported records"
realmod_gosum xmod "$T/b.sum"

# Rollback of the timestamp, against the trusted state.
variant
cp "$R/1.timestamp.json" "$T/v/timestamp.json"
refused "timestamp rollback" "$(imp "$T/v" "$T/good")" "timestamp rollback"
# Rollback of the snapshot: a newer timestamp naming an older snapshot.
variant
edit "$R/timestamp.json" "s['version'] += 1; s['meta']['snapshot.json'] = {'version': 1, 'length': $(len "$R/1.snapshot.json"), 'hashes': {'sha256': '$(sha "$R/1.snapshot.json")'}}" |
    resign timestamp "$T/v/timestamp.json" "$T/tuf.keys:timestamp"
refused "snapshot rollback" "$(imp "$T/v" "$T/good")" "snapshot rollback"
# Rollback of targets: a newer snapshot naming older targets.
variant
edit "$R/$SN.snapshot.json" "s['version'] += 1; s['meta']['targets.json'] = {'version': 1, 'length': $(len "$R/1.targets.json"), 'hashes': {'sha256': '$(sha "$R/1.targets.json")'}}" |
    resign snapshot "$T/v/$((SN + 1)).snapshot.json" "$T/tuf.keys:snapshot"
edit "$R/timestamp.json" "s['version'] += 1; s['meta']['snapshot.json'] = {'version': $((SN + 1)), 'length': $(len "$T/v/$((SN + 1)).snapshot.json"), 'hashes': {'sha256': '$(sha "$T/v/$((SN + 1)).snapshot.json")'}}" |
    resign timestamp "$T/v/timestamp.json" "$T/tuf.keys:timestamp"
refused "targets rollback" "$(imp "$T/v" "$T/good")" "snapshot rollback of 'targets.json'"
# Expired (freeze): a validly signed timestamp that has expired.
variant
edit "$R/timestamp.json" "s['version'] += 1; s['expires'] = '2020-01-01T00:00:00Z'" |
    resign timestamp "$T/v/timestamp.json" "$T/tuf.keys:timestamp"
refused "expired timestamp" "$(imp "$T/v")" "timestamp: expired"
# Mix and match: a snapshot other than the one the timestamp pins.
variant
cp "$R/1.snapshot.json" "$T/v/$SN.snapshot.json"
refused "mix-and-match" "$(imp "$T/v")" "mix-and-match"
# A bad signature.
variant
sed 's/"sig":"\(.\)/"sig":"0\1/; s/"sig":"0\(.\)\(.\)/"sig":"\1\2/' "$R/timestamp.json" >"$T/v/timestamp.json"
python3 - "$T/v/timestamp.json" <<'EOP'
import json, sys
md = json.load(open(sys.argv[1]))
s = md['signatures'][0]['sig']
md['signatures'][0]['sig'] = ('1' if s[0] == '0' else '0') + s[1:]
open(sys.argv[1], 'w').write(json.dumps(md))
EOP
refused "bad signature" "$(imp "$T/v")" "threshold not met"
# Threshold not met: root 2 signed by one of the two root keys only...
variant
edit "$R/1.root.json" "s['version'] = 2" |
    resign root "$T/v/2.root.json" "$(ls "$T/root1"/*.key | head -1)"
refused "root threshold not met" "$(imp "$T/v")" "not signed by a threshold"
# ...or by that one key counted twice.
variant
edit "$R/1.root.json" "s['version'] = 2" |
    resign root "$T/v/2.root.json" "$(ls "$T/root1"/*.key | head -1)" "$(ls "$T/root1"/*.key | head -1)"
refused "one key counted twice" "$(imp "$T/v")" "root 2: malformed\|not signed by a threshold"
# A target whose bytes differ from the signed length and hash, offered
# to a store that needs it.
variant
for f in "$T/v/targets/sumdb.test.example/bundles/"*; do printf 'x' >>"$f"; done
saved=$before savednev=$nev0
sed -i "s|$T/b.db|$T/fresh.db|" "$T/b.conf"
mv "$T/b.db" "$T/b.db.keep"
DBF=$T/fresh.db nev0=0
# An empty bundle is refused, after the store is made: a fresh store.
"$B/sumdbd" import -c "$T/b.conf" /dev/null >/dev/null 2>&1
[ "$(state_of)" = "0 0" ] || fail "a fresh store: $(state_of)"
before=$(state_of)
refused "target bytes differ" "$(imp "$T/v")" "length or hash differs from the signed targets"
[ "$before" = "0 0" ] || fail "the fresh store was not empty: $before"
# Validly signed but hostile targets (an attacker with the online keys):
# retarget EXPR rewrites targets with EXPR on its signed part s, then
# re-signs a snapshot and a timestamp that pin it.
retarget() {
	variant
	edit "$R/$TG.targets.json" "s['version'] += 1
bp = [p for p in s['targets'] if '/bundles/' in p][0]
t = s['targets'][bp]
$1" | resign targets "$T/v/$((TG + 1)).targets.json" "$T/tuf.keys:targets"
	pin_targets
}
# pin_targets: a snapshot and a timestamp that pin $T/v's new targets.
pin_targets() {
	edit "$R/$SN.snapshot.json" "s['version'] += 1; s['meta']['targets.json'] = {'version': $((TG + 1)), 'length': $(len "$T/v/$((TG + 1)).targets.json"), 'hashes': {'sha256': '$(sha "$T/v/$((TG + 1)).targets.json")'}}" |
	    resign snapshot "$T/v/$((SN + 1)).snapshot.json" "$T/tuf.keys:snapshot"
	edit "$R/timestamp.json" "s['version'] += 1; s['meta']['snapshot.json'] = {'version': $((SN + 1)), 'length': $(len "$T/v/$((SN + 1)).snapshot.json"), 'hashes': {'sha256': '$(sha "$T/v/$((SN + 1)).snapshot.json")'}}" |
	    resign timestamp "$T/v/timestamp.json" "$T/tuf.keys:timestamp"
}
retarget "del t['hashes']"
refused "target without sha256" "$(imp "$T/v")" "target '.*': no length of at least 0 and sha256"
retarget "t['hashes'] = {'sha512': t['hashes']['sha256'] * 2}"
refused "target with sha512 only" "$(imp "$T/v")" "no length of at least 0 and sha256"
retarget "t['hashes']['sha256'] = t['hashes']['sha256'][:40]"
refused "target with a short sha256" "$(imp "$T/v")" "no length of at least 0 and sha256"
# Canonical JSON has no negative numbers, so no key can sign a length of
# -1: written into signed targets (the snapshot pinning those bytes), it
# is refused as malformed before any download.
retarget "t['length'] = 1234567"
sed -i 's/"length":1234567/"length":-1/' "$T/v/$((TG + 1)).targets.json"
pin_targets
grep -q '"length":-1' "$T/v/$((TG + 1)).targets.json" || fail "no negative length written"
refused "target with a negative length" "$(imp "$T/v")" "targets: malformed metadata"
retarget "del t['length']"
refused "target without a length" "$(imp "$T/v")" "no length of at least 0 and sha256"
retarget "t['length'] = 1 << 40"
refused "target of 1 TiB" "$(imp "$T/v")" "over the limit of"
# A bundle listed under a name past the tree it holds ("0-N" holding a
# smaller tree): it would be picked again and again.
retarget "s['targets'][bp.rsplit('/', 1)[0] + '/0-9'] = s['targets'].pop(bp)"
for f in "$T/v/targets/sumdb.test.example/bundles/"*; do
	h=${f##*/}; h=${h%%.*}
	cp "$f" "$T/v/targets/sumdb.test.example/bundles/$h.0-9"
done
refused "target named past its tree" "$(imp "$T/v")" "does not hold the trees its name gives"
# The snapshot's and targets' meta lengths are bounded too.
variant
edit "$R/timestamp.json" "s['version'] += 1; s['meta']['snapshot.json']['length'] = 1 << 40" |
    resign timestamp "$T/v/timestamp.json" "$T/tuf.keys:timestamp"
refused "snapshot of 1 TiB" "$(imp "$T/v")" "snapshot .*: the timestamp lists .* over the limit"
sed -i "s|$T/fresh.db|$T/b.db|" "$T/b.conf"
mv "$T/b.db.keep" "$T/b.db"
DBF=$T/b.db
before=$saved nev0=$savednev
# A root chain with a gap: "2.root.json" is root 3, validly signed.
variant
edit "$R/1.root.json" "s['version'] = 3" |
    resign root "$T/v/2.root.json" $(ls "$T/root1"/*.key)
refused "root chain gap" "$(imp "$T/v")" "is version 3, not 2"
