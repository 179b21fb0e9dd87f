#!/bin/sh
# The real go command verifies modules against sumdbd's private log:
# directly (GOSUMDB with a URL), through the GOPROXY /sumdb/ route, and
# it fails on altered records, retagged modules, wrong go.sum lines and
# a forked log.  Acceptance 1-3 of the private log issue.
. "$(dirname "$0")/lib.sh"
each_go

mkdir -p "$T/home"
"$B/xmodref" modtree "$T/proxy" example.com/hello@v1.0.0 \
    example.com/hello@v1.1.0 example.com/Upper/Mixed@v1.0.0 \
    example.com/legacy@v2.0.0+incompatible example.com/later@v1.0.0 \
    >"$T/hashes" || fail "building the module tree"
realmod_add "$T/proxy" xtools
vkey=$("$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example 2>/dev/null) ||
    fail "keygen"
start_daemon

# A consumer of three modules, one upper-case, one +incompatible, and a
# real-size one (x/tools, 2.4 MB in 1,267 files).
mkconsumer() {
	consumer "$1" v1.1.0
	realmod_require "$1" xtools
	cat >"$1/main.go" <<EOG
package main

import (
	hello "example.com/hello"
	legacy "example.com/legacy"
	mixed "example.com/Upper/Mixed"
)

func main() { println(hello.V(), mixed.V(), legacy.V()) }
EOG
}

# The go.sum lines must be exactly the hashes x/mod computes (and
# x/tools's those the go command computed from the tree alone).
check_gosum() {
	realmod_gosum xtools "$1/go.sum"
	while read -r p v zh mh; do
		case "$p $v" in
		"example.com/hello v1.0.0"|"example.com/later v1.0.0") continue;;
		esac
		grep -qxF "$p $v $zh" "$1/go.sum" || fail "go.sum: no '$p $v $zh'"
		grep -qxF "$p $v/go.mod $mh" "$1/go.sum" ||
		    fail "go.sum: no '$p $v/go.mod $mh'"
	done <"$T/hashes"
}

# 1. GOSUMDB with our key and URL, GOPROXY a file:// tree.
mkconsumer "$T/c1"
(cd "$T/c1" && goenv "$T/gp1" GOPROXY="file://$T/proxy" \
    GOSUMDB="$vkey $URL" go mod download all) >"$T/out1" 2>&1 ||
    fail "go mod download: $(cat "$T/out1")"
(cd "$T/c1" && goenv "$T/gp1" GOPROXY="file://$T/proxy" \
    GOSUMDB="$vkey $URL" go build -o "$T/c1/bin" .) >"$T/out1" 2>&1 ||
    fail "go build: $(cat "$T/out1")"
check_gosum "$T/c1"
(cd "$T/c1" && goenv "$T/gp1" GOPROXY="file://$T/proxy" \
    GOSUMDB="$vkey $URL" go mod verify) >"$T/out1" 2>&1 ||
    fail "go mod verify: $(cat "$T/out1")"
"$T/c1/bin" 2>&1 | grep -q 'example.com/hello@v1.1.0' || fail "consumer does not run"
cmp -s "$T/gp1/pkg/sumdb/sumdb.test.example/latest" - <<EOF2 || fail "the go command's cached latest is not ours"
$(curl -s "$URL/latest")
EOF2
realmod_lookup "$URL" xtools
echo "$NAME: go mod download, build and verify with GOSUMDB=\"KEY URL\": ok"

# 2. Through the GOPROXY route: only the key in GOSUMDB.
mkconsumer "$T/c2"
(cd "$T/c2" && goenv "$T/gp2" GOPROXY="$URL,file://$T/proxy" \
    GOSUMDB="$vkey" go mod download all) >"$T/out2" 2>&1 ||
    fail "go mod download via GOPROXY: $(cat "$T/out2")"
check_gosum "$T/c2"
[ -s "$T/gp2/pkg/sumdb/sumdb.test.example/latest" ] ||
    fail "the go command did not use the database through the proxy"
echo "$NAME: discovery through $URL/sumdb/sumdb.test.example/supported: ok"

# 3a. A wrong go.sum line: checksum mismatch.
fake=h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
sed "s|^example.com/hello v1.1.0 h1:.*|example.com/hello v1.1.0 $fake|" \
    "$T/c1/go.sum" >"$T/c1/go.sum.new"
mv "$T/c1/go.sum.new" "$T/c1/go.sum"
rm -rf "$T/gp1/pkg/mod/cache/download/example.com/hello" "$T/gp1/pkg/mod/example.com/hello@v1.1.0"
(cd "$T/c1" && goenv "$T/gp1" GOPROXY="file://$T/proxy" \
    GOSUMDB="$vkey $URL" go mod download all) >"$T/out3" 2>&1 &&
    fail "a wrong go.sum line was accepted"
grep -q 'checksum mismatch' "$T/out3" && grep -q 'SECURITY ERROR' "$T/out3" ||
    fail "wrong go.sum line: unexpected error: $(cat "$T/out3")"
echo "$NAME: wrong go.sum line: checksum mismatch, SECURITY ERROR: ok"

# 3b. A retagged module: the log keeps the first hash.
cp -r "$T/proxy" "$T/proxy.orig"
"$B/xmodref" modtree "$T/retag" example.com/later@v1.0.0 >/dev/null
printf '// retagged\n' >>"$T/retag/example.com/later/@v/v1.0.0.mod"
curl -s -o /dev/null "$URL/lookup/example.com/later@v1.0.0"
cp "$T/retag/example.com/later/@v/v1.0.0.mod" "$T/proxy/example.com/later/@v/v1.0.0.mod"
mkdir -p "$T/c3"
printf 'module example.com/c3\n\ngo 1.19\n\nrequire example.com/later v1.0.0\n' >"$T/c3/go.mod"
(cd "$T/c3" && goenv "$T/gp3" GOPROXY="file://$T/proxy" \
    GOSUMDB="$vkey $URL" go mod download all) >"$T/out3" 2>&1 &&
    fail "a retagged module was accepted"
grep -q 'checksum mismatch' "$T/out3" && grep -q 'SECURITY ERROR' "$T/out3" ||
    fail "retag: unexpected error: $(cat "$T/out3")"
echo "$NAME: retagged module: checksum mismatch, SECURITY ERROR: ok"
rm -rf "$T/proxy" && mv "$T/proxy.orig" "$T/proxy"

# 3c. A record altered in the database (at rest: a running daemon
# answers from its cache what it read before).
stop_daemon
db_sql "$T/sumdbd.db" "UPDATE record SET text = $(sql_blob "replace($(sql_text text), 'h1:', 'h1:A')") WHERE path = 'example.com/hello' AND version = 'v1.1.0'" >/dev/null ||
    fail "editing the database"
restart_daemon
mkconsumer "$T/c4"
(cd "$T/c4" && goenv "$T/gp4" GOPROXY="file://$T/proxy" \
    GOSUMDB="$vkey $URL" go mod download all) >"$T/out4" 2>&1 &&
    fail "an altered record was accepted"
grep -Eq 'cannot authenticate record data|SECURITY ERROR|checksum mismatch' "$T/out4" ||
    fail "altered record: unexpected error: $(cat "$T/out4")"
echo "$NAME: record altered in the store: refused by the go command: ok"

# 3d. A forked log under the same key: SECURITY ERROR, misbehavior.
stop_daemon
db_copy "$T/sumdbd.db" "$T/sumdbd.db.old" && db_rm "$T/sumdbd.db"
restart_daemon
curl -s -o /dev/null "$URL/lookup/example.com/later@v1.0.0"
curl -s -o /dev/null "$URL/lookup/example.com/hello@v1.0.0"
curl -s -o /dev/null "$URL/lookup/example.com/Upper/!mixed@v1.0.0"
mkdir -p "$T/c5"
printf 'module example.com/c5\n\ngo 1.19\n\nrequire example.com/hello v1.0.0\n' >"$T/c5/go.mod"
(cd "$T/c5" && goenv "$T/gp1" GOPROXY="file://$T/proxy" \
    GOSUMDB="$vkey $URL" go mod download all) >"$T/out5" 2>&1 &&
    fail "a forked log was accepted by a client that knew the old one"
grep -q 'SECURITY ERROR' "$T/out5" && grep -q 'misbehavior' "$T/out5" ||
    fail "fork: unexpected error: $(cat "$T/out5")"
echo "$NAME: forked log: SECURITY ERROR, server misbehavior detected: ok"
