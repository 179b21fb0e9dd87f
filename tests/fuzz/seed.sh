#!/bin/sh
# Rebuild the seed files (seed-*) of tests/fuzz/corpus/*/ from real data:
# sum.golang.org's notes, lookups and records in tests/testdata/real,
# x/mod's answers in tests/testdata/kat.txt, a private log, its bundles
# and its TUF repository made by the build in $1 (build-fuzzgcc or
# build), plus a few edge cases by hand.  Files found by fuzzing
# (crash-*) are kept.  Usage: seed.sh BUILDDIR
set -eu
B=$(cd "$1" && pwd)
cd "$(dirname "$0")/../.."
. tests/e2e/lib.sh
C=tests/fuzz/corpus
R=tests/testdata/real
KAT=tests/testdata/kat.txt

for d in note key tilepath lookuppath record datatile lookup tufjson bundle \
    config audit; do
	mkdir -p "$C/$d"
	rm -f "$C/$d"/seed-*
done
unhex() {
	python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' "$1"
}
# kat KIND FIELD N TARGET: field FIELD of the first N lines of KIND.
kat() {
	grep "^$1 " "$KAT" | head -n "$3" | awk -v f="$2" '{ print $f }' |
	    sort -u | while read -r h; do
		[ "$h" != - ] || h=
		unhex "$h" >"$C/$4/seed-kat-$(echo "$h" | md5sum | cut -c1-8)"
	done
}
lookups=$(find "$R" -path '*/lookup/*' -type f | sort)

# note: real signed tree heads, x/mod's notes, and edge cases.
cp "$R/cache-2022-tree9039468/latest" "$C/note/seed-2022-latest"
cp "$R/cache-2025-tree42965376/latest" "$C/note/seed-2025-latest"
cp "$R/notes/sth-35225469.note" "$C/note/seed-sth"
kat noteopen 3 72 note
grep '^signed ' "$KAT" | awk '{ print $4 }' | head -n 6 | while read -r h; do
	unhex "$h" >"$C/note/seed-signed-$(echo "$h" | md5sum | cut -c1-8)"
done
printf '\n\n' >"$C/note/seed-empty-text"
printf 'text\n\n\342\200\224 name\n' >"$C/note/seed-no-sig"
printf 'text\n\n\342\200\224 name AAAAAAAA\n\342\200\224 name AAAAAAAA\n' \
    >"$C/note/seed-unknown-twice"

# key: verifier and signer keys that x/mod takes or refuses.
kat vkey 2 40 key
kat skey 2 20 key
grep '^keypair ' "$KAT" | head -n 2 | while read -r _ sk vk; do
	printf '%s' "$sk" >"$C/key/seed-$(echo "$sk" | md5sum | cut -c1-8)"
	printf '%s' "$vk" >"$C/key/seed-$(echo "$vk" | md5sum | cut -c1-8)"
done
printf 'PRIVATE+KEY+' >"$C/key/seed-prefix"

# tilepath: x/mod's canonical and refused paths, and the real ones.
grep '^tileparse ' "$KAT" | awk '{ print $2 }' | while read -r p; do
	printf '%s' "$p" >"$C/tilepath/seed-$(echo "$p" | md5sum | cut -c1-8)"
done
find "$R" -path '*/tile/*' -type f | sed 's|.*/tile/|tile/|' | sort |
    head -n 8 | while read -r p; do
	printf '%s' "$p" >"$C/tilepath/seed-$(echo "$p" | md5sum | cut -c1-8)"
done

# lookuppath: the real lookups' M@V, escaped as in their URLs.
for f in $lookups; do
	p=${f#*/lookup/}
	printf '%s' "$p" >"$C/lookuppath/seed-$(echo "$p" | md5sum | cut -c1-8)"
done
printf 'example.com/m@v1.0.0@v2' >"$C/lookuppath/seed-two-at"
printf 'gopkg.in/yaml.v3@v3.0.1' >"$C/lookuppath/seed-gopkgin"
printf 'example.com/!m@v1.0.0-!r!c1' >"$C/lookuppath/seed-escaped"

# record, lookup, datatile: the real lookup answers and their records.
for f in $lookups; do
	h=$(md5sum <"$f" | cut -c1-8)
	cp "$f" "$C/lookup/seed-$h"
	sed -n '2,3p' "$f" >"$C/record/seed-$h"
done
kat parserecord 2 20 lookup
printf 'a v1.0.0 h1:xx\na v1.0.0/go.mod h1:xx\n' >"$C/record/seed-short-hash"
head -n 1 "$C/record/$(ls "$C/record" | head -n 1)" >"$C/record/seed-one-line"
n=0
: >"$T/tile"
for f in $(ls "$C/record"/seed-* | head -n 8); do
	n=$((n + 1))
	cat "$f" >>"$T/tile"
	printf '\n' >>"$T/tile"
	case $n in 1|2|3|8) cp "$T/tile" "$C/datatile/seed-$n";; esac
done
printf 'a\n\n\n\n' >"$C/datatile/seed-blank-record"

# audit: go.sum files made of real records, and odd lines.
cat $(ls "$C/record"/seed-* | head -n 12) >"$C/audit/seed-go.sum"
printf 'example.com/private/x v1.0.0 h1:AAAA\r\n\nexample.com/A v1.0.0/go.mod h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=\n' \
    >"$C/audit/seed-crlf"
printf 'example.com/m v1.0.0 h1:x\textra\n' >"$C/audit/seed-four-fields"
printf 'example.com/m v1.0.0 sha256:x' >"$C/audit/seed-not-h1"

# config: the example, the e2e configs, and broken ones.
cp config/sumdbd.conf.example "$C/config/seed-example"
cat >"$C/config/seed-mirrors" <<'EOF'
[server]
listen = 127.0.0.1:8080
max_header_size = 16k
idle_timeout = 500ms
[log]
name = sumdb.corp.example
key = log.key
private = example.com/private,*.corp.example
[mirror sum.golang.org]
key = sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8
url = https://sum.golang.org
url = https://sum.golang.google.cn
mode = full
max_age = 2h
[mirror offline.example]
key = offline.example+12345678+AAAA
offline = yes
EOF
cat >"$C/config/seed-tuf" <<'EOF'
[server]
database = sumdbd.db
tls_certificate = cert.pem
tls_key = key.pem
[tuf]
keys = tuf.keys
resign = 1h
timestamp_expiry = 24h
bundle_step = 1000
EOF
printf '[server]\nlisten\n' >"$C/config/seed-syntax"
printf '[mirror ]\nkey = x\n' >"$C/config/seed-empty-mirror"
printf '[server]\nworkers = 99999999999999999999\n' >"$C/config/seed-range"

# bundle and tufjson: a private log under a fixed key (the one
# tests/fuzz/bundle.c verifies), its bundles, and the TUF metadata the
# daemon publishes for it.
printf 'PRIVATE+KEY+sumdb.test.example+ef2cd172+Ae3UdRmYiOCHYIzVHlcP7sdd5OU2bo9UCy4JsZCZJzjH\n' \
    >"$T/log.key"
chmod 600 "$T/log.key"
"$B/xmodref" modtree "$T/proxy" example.com/hello@v1.0.0 \
    example.com/Upper/Mixed@v1.0.0 example.com/legacy@v2.0.0+incompatible \
    example.com/hello@v1.1.0 >/dev/null
write_config "$T/sumdbd.conf" 1 "[tuf]" "keys = $T/tuf.keys"
export_bundle() {
	"$B/sumdbd" export -c "$T/sumdbd.conf" --db sumdb.test.example "$@" \
	    >/dev/null
}
"$B/sumdbd" add -c "$T/sumdbd.conf" example.com/hello@v1.0.0 \
    example.com/Upper/Mixed@v1.0.0 example.com/legacy@v2.0.0+incompatible \
    >/dev/null 2>&1
export_bundle "$C/bundle/seed-0-3"
"$B/sumdbd" add -c "$T/sumdbd.conf" example.com/hello@v1.1.0 >/dev/null 2>&1
export_bundle --from 3 "$C/bundle/seed-3-4"
export_bundle "$C/bundle/seed-0-4"
head -c 200 "$C/bundle/seed-0-4" >"$C/bundle/seed-truncated"
"$B/sumdbd" tuf init -c "$T/sumdbd.conf" -n 2 -t 1 "$T/root" >/dev/null
start_daemon "[tuf]" "keys = $T/tuf.keys"
for f in timestamp 1.root 1.snapshot 1.targets; do
	curl -sf -o "$C/tufjson/seed-$f" "$URL/tuf/$f.json"
done
# The root's signed part, re-signed by a root key twice and by nothing.
python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["signed"]))' \
    "$C/tufjson/seed-1.root" >"$T/signed"
k=$(ls "$T/root"/*.key | head -n 1)
"$B/tests/tuftool" sign "$k" "$k" <"$T/signed" >"$C/tufjson/seed-root-twice"
printf '{"signed":{},"signatures":[]}' >"$C/tufjson/seed-empty"
printf '{"signed":{"_type":"root","spec_version":"1.0","version":1,"expires":"2030-02-30T00:00:00Z"},"signatures":[{"keyid":"a","sig":"b"}]}' \
    >"$C/tufjson/seed-feb30"
printf '{"a":"\\u00e9\\"\\\\/\\u007f","b":[1,true,false,null,{"c":{}}]}' \
    >"$C/tufjson/seed-escapes"
for d in $C/*/; do
	echo "$(basename "$d"): $(ls "$d" | wc -l) files, $(du -sk "$d" | cut -f1) KB"
done
