#!/bin/sh
# One GOSUMDB for every module (issue 14): the private log hashes its
# private paths from the internal GOPROXY and admits public ones only as
# a test upstream's verified records, byte for byte, with provenance.
# The go commands (1.19, 1.24) build a consumer of both with only the
# org's key, directly and through the GOPROXY route; a poisoned GOPROXY
# is caught (verify_goproxy); a path the upstream lacks is refused; no
# private path reaches the upstream; go 1.24 switches to a toolchain
# verified through the log; public = goproxy and public = none.
# Acceptance 1, 2, 3, 4 and 7 of issue 14.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || fail "python3 is not installed"
command -v sqlite3 >/dev/null || fail "sqlite3 is not installed"
UP=sumdb.upstream.example
LOGN=sumdb.test.example
GOSRC=/usr/share/gocode/src/golang.org/x
mkdir -p "$T/home" "$T/proxy" "$T/genuine" "$T/tc/bin" "$T/empty"

# The internal GOPROXY ($T/proxy): small and real-size modules, public
# and private.  The upstream logs the public ones ($T/up.hashes).
"$B/xmodref" modtree "$T/proxy" example.com/hello@v1.0.0 \
    example.com/Upper/Mixed@v1.0.0 example.com/legacy@v2.0.0+incompatible \
    >"$T/pub.hashes" || fail "the public module tree"
realmod_add "$T/proxy" xtools
realmod_hashes xtools >>"$T/pub.hashes"
"$B/xmodref" modtree "$T/proxy" corp.example/lib@v1.0.0 >"$T/priv.hashes" ||
    fail "the private module tree"
# realmod DIR M@V SRC: a real-size M@V in the GOPROXY tree DIR; prints
# "PATH VERSION ZIPH1 MODH1" as x/mod computes them.
realmod() {
	"$B/xmodref" realmod "$1" "$2" "$3" >"$T/realmod.out" ||
	    fail "xmodref realmod $2 $3"
	cut -d' ' -f1-4 "$T/realmod.out"
}
realmod "$T/proxy" corp.example/real/xmod@v1.0.0 "$GOSRC/mod" >>"$T/priv.hashes"
# example.com/poison: the upstream logs x/mod's tree, the GOPROXY serves
# x/net's under the same path and version (the same go.mod).
realmod "$T/genuine" example.com/poison@v1.0.0 "$GOSRC/mod" >"$T/poison.up"
realmod "$T/proxy" example.com/poison@v1.0.0 "$GOSRC/net" >"$T/poison.proxy"
# A toolchain module: bin/go is a script that says it is go 1.99.0; the
# go command also makes bin/gofmt and what is in pkg/tool and lib
# executable (cmd/go/internal/toolchain), so they must be there.
GO124=$(echo $GODIRS | cut -d' ' -f2)
goarch=$(GODIR=$GO124 goenv "$T/gp" go env GOARCH) ||
    fail "go 1.24: go env GOARCH"
TCV=go1.99.0
TC=golang.org/toolchain@v0.0.1-$TCV.linux-$goarch
mkdir -p "$T/tc/pkg/tool/linux_$goarch" "$T/tc/lib"
printf '#!/bin/sh\necho "go version %s linux/%s"\n' $TCV "$goarch" >"$T/tc/bin/go"
printf '#!/bin/sh\nexit 0\n' >"$T/tc/bin/gofmt"
cp "$T/tc/bin/gofmt" "$T/tc/pkg/tool/linux_$goarch/vet"
echo "go1.99.0" >"$T/tc/lib/VERSION"
realmod "$T/proxy" "$TC" "$T/tc" >"$T/tc.hashes"
# In the GOPROXY only: the upstream does not have them.
"$B/xmodref" modtree "$T/proxy" example.com/notup@v1.0.0 \
    corp.example/later@v1.0.0 >"$T/other.hashes" || fail "module tree"
cat "$T/pub.hashes" "$T/poison.up" "$T/tc.hashes" >"$T/up.hashes"

upkey=$("$B/sumdbd" keygen -o "$T/up.key" $UP 2>/dev/null) || fail "keygen"
vkey=$("$B/sumdbd" keygen -o "$T/log.key" $LOGN 2>/dev/null) || fail "keygen"
start_upstream -gen 30 -mods "$T/up.hashes" -reqlog "$T/upreq.log"
UPURL=http://127.0.0.1:$UPORT
serve_http "$T/proxy" "example.com/hello/@v/list"
GP=http://127.0.0.1:$HPORT
# The daemon's [log] hashes private paths from the internal GOPROXY;
# "$@" is its one [mirror] section, so public defaults to it.
LOG_GOPROXY=$GP PRIVATE='corp.example/*'
set -- "[mirror $UP]" "key = $upkey" "url = $UPURL"
start_daemon "$@"

q() { sqlite3 "$T/sumdbd.db" "$1"; }
logid() { q "SELECT id FROM log WHERE name = '$LOGN'"; }
nrecords() { q "SELECT count(*) FROM record WHERE log = $(logid)"; }
# hexof: stdin in upper-case hex, as sqlite3's hex().
hexof() { od -An -v -tx1 | tr -d ' \n' | tr a-f A-F; }
# esc M@V: the escaped form for a /lookup URL.
esc() { echo "$1" | sed 's/[A-Z]/!\L&/g'; }
# rectext FILE: the record text of a /lookup answer in FILE.
rectext() {
	python3 -c 'import sys
b = open(sys.argv[1], "rb").read()
i = b.index(b"\n")
sys.stdout.buffer.write(b[i + 1:b.index(b"\n\n", i) + 1])' "$1"
}
# lookup BASE M@V FILE: BASE's /lookup answer in FILE; it must be 200.
lookup() {
	s=$(curl -s -o "$3" -w '%{http_code}' "$1/lookup/$(esc "$2")")
	[ "$s" = 200 ] || fail "$1/lookup/$2: $s: $(head -c 300 "$3")"
}
# check_public M@V: the log holds M@V (appended before this check asks),
# its record is the upstream's byte for byte, and it has a provenance
# row naming the upstream's record.
check_public() {
	p=${1%@*} v=${1##*@}
	[ "$(q "SELECT count(*) FROM record WHERE log = $(logid) AND
	    path = '$p' AND version = '$v'")" = 1 ] || fail "$1: not in the log"
	lookup "$URL" "$1" "$T/lk.log"
	lookup "$UPURL" "$1" "$T/lk.up"
	rectext "$T/lk.log" >"$T/rec.log"
	rectext "$T/lk.up" >"$T/rec.up"
	cmp -s "$T/rec.log" "$T/rec.up" || fail "$1: the log's record" \
	    "'$(cat "$T/rec.log")' is not the upstream's '$(cat "$T/rec.up")'"
	got=$(q "SELECT l.name, p.upstream_id, p.upstream_tree > p.upstream_id
	    FROM provenance p JOIN log l ON l.id = p.upstream
	    WHERE p.log = $(logid) AND p.id = $(head -1 "$T/lk.log")")
	[ "$got" = "$UP|$(head -1 "$T/lk.up")|1" ] ||
	    fail "$1: provenance '$got', want upstream record $(head -1 "$T/lk.up")"
}
# refused M@V REASON: the log's lookup of M@V answers 404 with the
# one-line REASON, and appends nothing.
refused() {
	n0=$(nrecords)
	s=$(curl -s -o "$T/body" -w '%{http_code}' "$URL/lookup/$1")
	if [ "$s" != 404 ] || [ "$(cat "$T/body")" != "$2" ]; then
		fail "$1: $s '$(cat "$T/body")', want 404 '$2'"
	fi
	[ "$(nrecords)" = "$n0" ] || fail "$1: the 404 appended a record"
}
# check_private M@V: in the log, hashed here: no provenance row.
check_private() {
	p=${1%@*} v=${1##*@}
	[ "$(q "SELECT count(*) FROM record r WHERE log = $(logid) AND
	    path = '$p' AND version = '$v' AND NOT EXISTS (SELECT 1 FROM
	    provenance p WHERE p.log = r.log AND p.id = r.id)")" = 1 ] ||
	    fail "$1: not in the log, or with a provenance row"
}
# each FILE FN: FN M@V for each line of FILE (modtree's format).
each() {
	while read -r p v zh mh; do "$2" "$p@$v"; done <"$1"
}

# The consumer: the three small public modules, x/tools, two private.
mkconsumer() {
	consumer "$1"
	realmod_require "$1" xtools
	echo "require corp.example/lib v1.0.0" >>"$1/go.mod"
	echo "require corp.example/real/xmod v1.0.0" >>"$1/go.mod"
	cat >"$1/main.go" <<EOG
package main

import (
	lib "corp.example/lib"
	hello "example.com/hello"
	legacy "example.com/legacy"
	mixed "example.com/Upper/Mixed"
)

func main() { println(hello.V(), mixed.V(), legacy.V(), lib.V()) }
EOG
}
# check_gosum DIR GOPATH: DIR/go.sum is exactly the modules' lines as
# x/mod computes them (x/tools's as the go command did), and each zip
# hash is the one the go command computed (its .ziphash).
check_gosum() {
	cat "$T/pub.hashes" "$T/priv.hashes" >"$T/gosum.mods"
	while read -r p v zh mh; do
		echo "$p $v $zh"
		echo "$p $v/go.mod $mh"
		zf=$2/pkg/mod/cache/download/$(esc "$p")/@v/$v.ziphash
		[ "$(cat "$zf")" = "$zh" ] ||
		    fail "$p@$v: the go command's zip hash '$(cat "$zf")', x/mod's $zh"
	done <"$T/gosum.mods" >"$T/gosum.lines"
	sort "$T/gosum.lines" >"$T/gosum.want"
	sort "$1/go.sum" | cmp -s - "$T/gosum.want" ||
	    fail "$1/go.sum: $(diff "$T/gosum.want" "$1/go.sum")"
	realmod_gosum xtools "$1/go.sum"
}
# build DIR GOPATH ENV...: go mod download all and go build in DIR.
build() {
	d=$1 gp=$2
	shift 2
	(cd "$d" && goenv "$gp" GOFLAGS="-mod=mod -modcacherw" "$@" \
	    go mod download all) >"$T/out" 2>&1 ||
	    fail "go mod download ($*): $(cat "$T/out")"
	(cd "$d" && goenv "$gp" GOFLAGS="-mod=mod -modcacherw" "$@" \
	    go build -o "$d/app" .) >"$T/out" 2>&1 ||
	    fail "go build ($*): $(cat "$T/out")"
	"$d/app" 2>&1 | grep -q 'corp.example/lib@v1.0.0' ||
	    fail "the consumer does not run"
	check_gosum "$d" "$gp"
	[ -s "$gp/pkg/sumdb/$LOGN/latest" ] ||
	    fail "the go command did not ask the log"
}

# 1. GOSUMDB="<org key> <url>" only; public defaults to the one mirror.
direct() {
	mkconsumer "$T/c1.$GOV"
	build "$T/c1.$GOV" "$T/gp1.$GOV" GOPROXY="$GP" GOSUMDB="$vkey $URL"
}
for_each_go direct
each "$T/pub.hashes" check_public
each "$T/priv.hashes" check_private
echo "$NAME: go mod download and go build ($GOVS) with GOSUMDB=\"KEY URL\", public records the upstream's with provenance: ok"

# 4. A public path the upstream lacks: 404 with the reason, nothing
# appended; no private path ever reaches the upstream.
YOURS="if this module is yours, add its path to [log] private"
refused example.com/notup@v1.0.0 \
    "not found: example.com/notup@v1.0.0 is not in $UP: $YOURS"
grep -qx '/lookup/example.com/notup@v1.0.0' "$T/upreq.log" ||
    fail "the upstream was not asked for example.com/notup"
[ "$(status "$URL/lookup/corp.example/missing@v1.0.0")" = 404 ] ||
    fail "a private path in no GOPROXY"
check_upreq() {
	grep -q 'lookup/example.com/hello@v1.0.0' "$T/upreq.log" ||
	    fail "the upstream request log lacks example.com/hello"
	! grep -q corp.example "$T/upreq.log" ||
	    fail "a private path reached the upstream: $(grep corp.example "$T/upreq.log" | head -3)"
}
check_upreq
echo "$NAME: a path not in the upstream 404 with its reason, nothing appended; no private path reached the upstream: ok"

# 7. go 1.24 switches to the toolchain $TCV: downloaded from the GOPROXY,
# checked against the log, which admitted it from the upstream.
out=$(cd "$T/empty" && GODIR=$GO124 goenv "$T/gp7" GOFLAGS=-modcacherw GOPROXY="$GP" \
    GOSUMDB="$vkey $URL" GOTOOLCHAIN=$TCV go version 2>&1) ||
    fail "GOTOOLCHAIN=$TCV go version: $out"
[ "$(echo "$out" | tail -1)" = "go version $TCV linux/$goarch" ] ||
    fail "GOTOOLCHAIN=$TCV go version: '$out'"
[ -f "$T/gp7/pkg/mod/cache/download/sumdb/$LOGN/lookup/$TC" ] ||
    fail "go 1.24 did not look $TC up in the log"
check_public "$TC"
echo "$NAME: go 1.24 runs toolchain $TC verified through the log: ok"

# 2. The GOPROXY route, into a new database, public = the mirror named:
# verify_goproxy compares each public version with the GOPROXY's.
stop_daemon
rm -f "$T/sumdbd.db"*
restart_daemon_with "public = $UP" "verify_goproxy = yes" "$@"
viaproxy() {
	mkconsumer "$T/c2.$GOV"
	build "$T/c2.$GOV" "$T/gp2.$GOV" GOPROXY="$URL,$GP" GOSUMDB="$vkey"
	cmp -s "$T/c1.$GOV/go.sum" "$T/c2.$GOV/go.sum" ||
	    fail "the two routes wrote different go.sum"
}
for_each_go viaproxy
each "$T/pub.hashes" check_public
each "$T/priv.hashes" check_private
check_upreq
echo "$NAME: the GOPROXY route ($GOVS) with GOSUMDB=KEY and public = $UP: ok"

# 3. The GOPROXY serves another zip for example.com/poison@v1.0.0: the
# log holds the upstream's hash, the go command refuses the GOPROXY's,
# and verify_goproxy keeps the evidence.
read -r pp pv pzh pmh <"$T/poison.proxy"
read -r _ _ uzh umh <"$T/poison.up"
[ "$pmh" = "$umh" ] && [ "$pzh" != "$uzh" ] || fail "poison: want only the zips to differ"
poisoned() {
	mkdir -p "$T/c3.$GOV"
	printf 'module example.com/c3\n\ngo 1.19\n\nrequire example.com/poison v1.0.0\n' \
	    >"$T/c3.$GOV/go.mod"
	! (cd "$T/c3.$GOV" && goenv "$T/gp3.$GOV" GOFLAGS="-mod=mod -modcacherw" \
	    GOPROXY="$GP" GOSUMDB="$vkey $URL" go mod download all) \
	    >"$T/out" 2>&1 || fail "poison: the go command took the GOPROXY's zip"
	grep -q 'SECURITY ERROR' "$T/out" && grep -q 'checksum mismatch' "$T/out" &&
	    grep -q "downloaded: $pzh" "$T/out" && grep -q "$LOGN: $uzh" "$T/out" ||
	    fail "poison: not the go command's checksum mismatch: $(cat "$T/out")"
}
for_each_go poisoned
check_public example.com/poison@v1.0.0
grep -qF "$uzh" "$T/rec.log" || fail "poison: the log lacks the upstream's hash"
[ "$(q "SELECT count(*) FROM evidence WHERE kind = 'goproxy'")" = 1 ] ||
    fail "poison: want one goproxy evidence row"
q "SELECT source FROM evidence WHERE kind = 'goproxy' AND log = $(logid)" |
    grep -qxF "$GP" || fail "poison: the evidence does not name the GOPROXY"
detail=$(q "SELECT detail FROM evidence WHERE kind = 'goproxy'")
case $detail in
"example.com/poison@v1.0.0: "*"zip hash"*"$pzh"*"$uzh"*) ;;
*) fail "poison: evidence detail '$detail' lacks the zip hashes";;
esac
[ "$(q "SELECT hex(new) FROM evidence WHERE kind = 'goproxy'")" = \
    "$(hexof <"$T/rec.up")" ] ||
    fail "poison: the evidence's new record is not the upstream's"
[ "$(q "SELECT hex(old) FROM evidence WHERE kind = 'goproxy'")" = \
    "$(printf '%s %s %s\n%s %s/go.mod %s\n' $pp $pv $pzh $pp $pv $pmh | hexof)" ] ||
    fail "poison: the evidence's old record is not the GOPROXY's"
curl -s "$URL/metrics" | grep -qx 'sumdbd_log_goproxy_mismatches_total 1' ||
    fail "metric: $(curl -s "$URL/metrics" | grep goproxy_mismatches)"
grep 'verify_goproxy' "$T/daemon.log" | grep -F "$pzh" | grep -qF "$uzh" ||
    fail "poison: no log line names both hashes"
echo "$NAME: a poisoned GOPROXY zip: the log holds the upstream's hash, the go command ($GOVS) fails, evidence, metric and log line name both hashes: ok"

# public = goproxy: a public path the upstream lacks is hashed from the
# GOPROXY (trust on first use), no provenance, the upstream not asked.
stop_daemon
restart_daemon_with "public = goproxy" "$@"
nup=$(grep -c 'example.com/notup' "$T/upreq.log")
lookup "$URL" example.com/notup@v1.0.0 "$T/lk.log"
rectext "$T/lk.log" >"$T/rec.log"
read -r np nv nzh nmh <"$T/other.hashes"
printf '%s %s %s\n%s %s/go.mod %s\n' $np $nv $nzh $np $nv $nmh |
    cmp -s - "$T/rec.log" || fail "public = goproxy: record '$(cat "$T/rec.log")'"
check_private example.com/notup@v1.0.0
[ "$(grep -c 'example.com/notup' "$T/upreq.log")" = "$nup" ] ||
    fail "public = goproxy: the upstream was asked"
echo "$NAME: public = goproxy hashes a public path from the GOPROXY, no provenance: ok"

# public = none: a public path 404 with its reason; private ones logged.
stop_daemon
restart_daemon_with "public = none" "$@"
refused example.com/nowhere@v1.0.0 "not found: example.com/nowhere is not a \
private path of this log ([log] public = none): $YOURS"
lookup "$URL" corp.example/later@v1.0.0 "$T/lk.log"
check_private corp.example/later@v1.0.0
! grep -q 'nowhere\|corp.example' "$T/upreq.log" || fail "public = none: the upstream was asked"
curl -s "$URL/metrics" | grep -qx 'sumdbd_log_public_refused_total{reason="none"} 1' ||
    fail "public = none: metric $(curl -s "$URL/metrics" | grep 'refused_total{reason="none"}')"
echo "$NAME: public = none refuses public paths with 404 and its reason, logs private ones: ok"

# Concurrent lookups of one new public version share one upstream
# lookup, and they count against the per-client cap of the hardening
# issue: with the upstream slow, another new version from the same
# client is refused with 503 while the first is being verified.
stop_daemon
restart_daemon_with "max_fetches_per_client = 1" "$@"
curl -sf -o /dev/null "$UPURL/admin/attack?kind=slow" || fail "attack slow"
SH=example.com/gen/m3@v1.0.3
CURLS=
for i in 1 2 3 4 5 6 7 8; do
	curl -s -o "$T/shared.$i" -w '%{http_code}' "$URL/lookup/$SH" \
	    >"$T/shared.$i.status" &
	CURLS="$CURLS $!"
done
wait_for grep -q "lookup/$SH" "$T/upreq.log" ||
    fail "shared: the upstream was not asked for $SH"
s=$(curl -s -o "$T/cap.out" -w '%{http_code}' "$URL/lookup/example.com/gen/m4@v1.0.4")
[ "$s" = 503 ] && grep -q 'max_fetches_per_client = 1' "$T/cap.out" ||
    fail "per-client cap: $s $(cat "$T/cap.out")"
wait $CURLS
curl -sf -o /dev/null "$UPURL/admin/attack?kind=none" || fail "attack none"
for i in 1 2 3 4 5 6 7 8; do
	[ "$(cat "$T/shared.$i.status")" = 200 ] ||
	    fail "shared lookup $i: $(cat "$T/shared.$i.status") $(cat "$T/shared.$i")"
	cmp -s "$T/shared.1" "$T/shared.$i" || fail "shared lookup $i differs"
done
[ "$(grep -c "lookup/$SH\$" "$T/upreq.log")" = 1 ] ||
    fail "shared: the upstream was asked $(grep -c "lookup/$SH\$" "$T/upreq.log") times for $SH"
check_public $SH
echo "$NAME: 8 concurrent lookups of a new public version share 1 upstream lookup; another version past max_fetches_per_client = 1 is 503: ok"
