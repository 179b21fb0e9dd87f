#!/bin/sh
# sumdbd client-config and client-check.  Each way client-config prints
# is run as a script into its own GOENV, and the real go command then
# downloads modules and verifies them against sumdbd with nothing else
# set; client-check passes those settings, and reports each
# misconfiguration and each cached checkpoint that is ahead, forked or
# unprovable, after proving an older one through the server's tiles.
# With [log] public = NAME: one GOSUMDB for every module, and any
# GONOSUMDB or GOPRIVATE pattern is unnecessary and weakening.
. "$(dirname "$0")/lib.sh"
each_go

NT=$B/tests/notetool
[ -x "$NT" ] || fail "$NT is not built (make $NT)"
mkdir -p "$T/home"
# The consumer's three modules, and two more to grow the log with later.
mods="hello@v1.0.0 Upper/Mixed@v1.0.0 legacy@v2.0.0+incompatible"
"$B/xmodref" modtree "$T/proxy" $(for m in $mods later@v1.0.0 hello@v1.1.0; do
	echo "example.com/$m"; done) >"$T/hashes" || fail "building the module tree"
# And a real-size one, x/tools (2.4 MB), hashed by the go command.
realmod_add "$T/proxy" xtools
# The log's key, and another of the same name.
for k in log other; do
	"$B/sumdbd" keygen -o "$T/$k.key" sumdb.test.example >"$T/$k.vkey" \
	    2>/dev/null || fail "keygen $k"
done
vkey=$(cat "$T/log.vkey") okey=$(cat "$T/other.vkey")
PRIVATE='git.corp.example/*'
# No mirror here: the log hashes public modules from the GOPROXY.
start_daemon "public = goproxy"

# gosum DIR WHAT: DIR/go.sum has the hashes x/mod computes for the
# consumer's three modules.
gosum() {
	awk '$1 == "example.com/later" || $2 == "v1.1.0" { next }
	    { print $1 " " $2 " " $3; print $1 " " $2 "/go.mod " $4 }' \
	    "$T/hashes" | sort >"$T/want"
	sort "$1/go.sum" | comm -23 "$T/want" - >"$T/missing"
	[ -s "$T/want" ] && [ ! -s "$T/missing" ] ||
	    fail "$2: go.sum lacks: $(cat "$T/missing")"
}

# way WAY: client-config's lines for WAY, run into $T/goenv.WAY.
way() {
	"$B/sumdbd" client-config -c "$T/sumdbd.conf" --url "$URL/" --way "$1" \
	    >"$T/way.$1" 2>"$T/err" || fail "client-config --way $1: $(cat "$T/err")"
	bad=$(grep -v '^#' "$T/way.$1" | grep -v '^$' | grep -v '^go env -w ') &&
	    fail "client-config --way $1: not a go env -w line: $bad"
	goenv "$T/gp.$1" GOENV="$T/goenv.$1" sh -e "$T/way.$1" >"$T/err" 2>&1 ||
	    fail "running the --way $1 lines: $(cat "$T/err")"
	[ -s "$T/goenv.$1" ] || fail "--way $1: go env -w wrote nothing"
}

# 1a. Way 1: GOSUMDB with the URL; GOPROXY only serves the modules.
way url
grep -qxF "go env -w 'GOSUMDB=$vkey $URL'" "$T/way.url" ||
    fail "way url: no GOSUMDB line with the key and URL: $(cat "$T/way.url")"
grep -q GOPROXY "$T/way.url" && fail "way url sets GOPROXY"
consumer "$T/c1"
realmod_require "$T/c1" xtools
(cd "$T/c1" && goenv "$T/gp1" GOENV="$T/goenv.url" \
    GOPROXY="file://$T/proxy" go mod download all) >"$T/out" 2>&1 ||
    fail "go mod download with the way url lines: $(cat "$T/out")"
gosum "$T/c1" "way url"
realmod_gosum xtools "$T/c1/go.sum"
cmp -s "$T/gp1/pkg/sumdb/sumdb.test.example/latest" - <<EOF2 ||
$(curl -s "$URL/latest")
EOF2
    fail "way url: the go command did not verify against sumdbd"
echo "$NAME: client-config --way url, run, then go mod download verifies against sumdbd: ok"

# 1b. Way 2: the key alone, sumdbd first in GOPROXY, modules from the
# next proxy ([log] goproxy).
way proxy
grep -qxF "go env -w GOSUMDB=$vkey" "$T/way.proxy" &&
    grep -qxF "go env -w GOPROXY=$URL,file://$T/proxy" "$T/way.proxy" ||
    fail "way proxy: GOSUMDB or GOPROXY line: $(cat "$T/way.proxy")"
consumer "$T/c2"
realmod_require "$T/c2" xtools
(cd "$T/c2" && goenv "$T/gp2" GOENV="$T/goenv.proxy" \
    go mod download all) >"$T/out" 2>&1 ||
    fail "go mod download with the way proxy lines: $(cat "$T/out")"
gosum "$T/c2" "way proxy"
realmod_gosum xtools "$T/c2/go.sum"
realmod_lookup "$URL" xtools
[ -s "$T/gp2/pkg/sumdb/sumdb.test.example/latest" ] ||
    fail "way proxy: the go command did not verify through sumdbd"
echo "$NAME: client-config --way proxy, run, then go mod download verifies through GOPROXY: ok"

# check GOPATH GOENV [VAR=VALUE...]: client-check on those settings;
# its output in $T/ck and its exit status in $rc.
CONF=$T/sumdbd.conf
check() {
	cgp=$1 cge=$2
	shift 2
	goenv "$cgp" GOENV="$cge" "$@" "$B/sumdbd" client-check -c "$CONF" \
	    --url "$URL" ${DB:+--db "$DB"} >"$T/ck" 2>&1
	rc=$?
}
# clean WHAT: exit 0 and no finding.
clean() {
	[ "$rc" = 0 ] || fail "$1: exit $rc, want 0: $(cat "$T/ck")"
	grep -q '^client-check: ok: no findings' "$T/ck" ||
	    fail "$1: no summary: $(cat "$T/ck")"
}
# found WHAT LINE: exit 1 and a finding that starts with LINE (a regex).
found() {
	[ "$rc" = 1 ] || fail "$1: exit $rc, want 1: $(cat "$T/ck")"
	grep -q "^client-check: $2" "$T/ck" ||
	    fail "$1: no finding '$2' in: $(cat "$T/ck")"
	grep -q '^client-check: [0-9]* findings* for ' "$T/ck" ||
	    fail "$1: no summary: $(cat "$T/ck")"
}
U() { check "$T/gp1" "$T/goenv.url" GOPROXY="file://$T/proxy" "$@"; }
P() { check "$T/gp2" "$T/goenv.proxy" "$@"; }

# 2a. The settings client-config printed are clean.
U; clean "way url settings"
grep -q 'settings from go env -json' "$T/ck" || fail "not from go env: $(cat "$T/ck")"
P; clean "way proxy settings"
echo "$NAME: client-check: both ways' settings are clean: ok"

# 2b. Each misconfiguration, one at a time.
P GOSUMDB=off; found "GOSUMDB=off" 'GOSUMDB: off: checksum verification disabled'
P GONOSUMCHECK=1; found "GONOSUMCHECK" 'GONOSUMCHECK: not a go command variable'
P GONOVERIFY=1; found "GONOVERIFY" 'GONOVERIFY: not a go command variable'
P GOSUMDB="$okey"; found "another key" "GOSUMDB: '$okey' is not the key of sumdb.test.example"
U GOSUMDB="$okey $URL"; found "another key with the URL" "GOSUMDB: '$okey' is not the key"
P GOSUMDB=sum.golang.org; found "the default GOSUMDB" "GOSUMDB: 'sum.golang.org' is not the key"
U GOSUMDB="$vkey http://127.0.0.1:1"; found "another URL" "GOSUMDB: URL 'http://127.0.0.1:1' is not where sumdbd serves"
U GOSUMDB="$vkey $URL/sumdb/sumdb.test.example"; clean "the /sumdb/NAME URL"
P GONOSUMDB=example.com/hello
found "GONOSUMDB on a logged module" "GONOSUMDB: 'example.com/hello' covers logged module example.com/hello"
P GONOSUMDB='*'; found "GONOSUMDB=*" "GONOSUMDB: '\*' covers"
P GONOSUMDB=git.corp.example
found "GONOSUMDB on [log] private" "GONOSUMDB: 'git.corp.example' covers \[log\] private 'git.corp.example/\*'"
P GONOSUMDB=other.example/x; clean "GONOSUMDB elsewhere"
P GOPRIVATE='*.corp.example'
found "GOPRIVATE on [log] private" "GOPRIVATE: '\*.corp.example' covers \[log\] private .* GONOPROXY"
grep -q '^client-check: 1 finding for' "$T/ck" || fail "GOPRIVATE and the GONOSUMDB it implies are one finding: $(cat "$T/ck")"
P GOINSECURE=example.com; found "GOINSECURE" "GOINSECURE: 'example.com' covers logged module example.com/"
P GOPROXY="direct,$URL,file://$T/proxy"; found "direct first" "GOPROXY: 'direct' comes before $URL"
P GOPROXY="file://$T/proxy"; found "sumdbd not in GOPROXY" "GOPROXY: does not list $URL"
P GOPROXY=off; found "GOPROXY=off" "GOPROXY: off:"
U GOPROXY="direct"; clean "direct with a URL in GOSUMDB"
env -i PATH=/nonexistent HOME="$T/home" GOPATH="$T/gp2" GOSUMDB=off \
    "$B/sumdbd" client-check -c "$T/sumdbd.conf" --url "$URL" >"$T/ck" 2>&1
rc=$?
found "no go command" 'GOSUMDB: off'
grep -q 'settings from the environment' "$T/ck" || fail "no go command: $(cat "$T/ck")"
echo "$NAME: client-check: each misconfiguration is a finding, exit 1: ok"

# 2c. The cached checkpoint (gp1's) against the server's.
L=$T/gp1/pkg/sumdb/sumdb.test.example/latest
cp "$L" "$T/latest.orig"
N=$(sed -n 2p "$L")
[ "$N" -ge 3 ] || fail "tree $N after three modules"
# cached SIZE KEY: a checkpoint of SIZE with a random root, as gp1's.
cached() {
	printf 'go.sum database tree\n%s\n%s\n' "$1" \
	    "$(head -c 32 /dev/urandom | base64)" >"$T/tree.txt"
	"$NT" sign "$2" "$T/tree.txt" >"$L" || fail "notetool sign"
}
U; clean "the cached checkpoint is the server's"
grep -q "info: $L: tree $N, the server's is $N" "$T/ck" || fail "same tree: $(cat "$T/ck")"
cached $((N + 5)) "$T/log.key"; U
found "ahead" "$L: client checkpoint (tree $((N + 5))) is ahead of the server's (tree $N)"
cached "$N" "$T/log.key"; U
found "a fork of the same size" "$L: inconsistent: same size $N, different root"
cached $((N - 1)) "$T/log.key"; U
found "an older tree the server's does not contain" "$L: inconsistent: the server's tree $N does not contain this tree $((N - 1))"
"$NT" sign "$T/other.key" "$T/tree.txt" >"$L"; U
found "signed by another key" "$L: does not verify as a checkpoint"
rm "$L"; U; clean "no cached checkpoint"
grep -q "info: no cached checkpoint at $L" "$T/ck" || fail "no cache: $(cat "$T/ck")"
# The log grows; the client's older tree is proven in the new one.
cp "$T/latest.orig" "$L"
for m in later@v1.0.0 hello@v1.1.0; do
	[ "$(status "$URL/lookup/example.com/$m")" = 200 ] || fail "lookup $m"
done
M=$(curl -s "$URL/latest" | sed -n 2p)
[ "$M" -gt "$N" ] || fail "the log did not grow"
U; clean "an older, consistent checkpoint"
grep -q "info: $L: tree $N, consistent with the server's tree $M" "$T/ck" ||
    fail "older tree: $(cat "$T/ck")"
# The server's tiles must prove it: a client tree of the same size with
# another root is refused through the proof as well.
cached "$N" "$T/log.key"; U
found "an older fork" "$L: inconsistent: the server's tree $M does not contain this tree $N"
cp "$T/latest.orig" "$L"
echo "$NAME: client-check: cached checkpoints ahead, forked, unsigned; older proven through tiles: ok"

# 2d. A mirror: its key, its URL, and [log] private kept out of it.
KEY=sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8
CONF=$T/mirror.conf
{ cat "$T/sumdbd.conf"; printf '[mirror sum.golang.org]\nkey = %s\n' "$KEY"
  printf 'url = http://127.0.0.1:9\noffline = yes\n'; } >"$CONF"
"$B/sumdbd" client-config -c "$CONF" --url "$URL" --db sum.golang.org \
    --way url >"$T/way.m" || fail "client-config for the mirror"
grep -qxF "go env -w 'GOSUMDB=$KEY $URL/sumdb/sum.golang.org'" "$T/way.m" &&
    grep -qxF "go env -w 'GONOSUMDB=git.corp.example/*'" "$T/way.m" ||
    fail "mirror way url: $(cat "$T/way.m")"
grep -q 'sumdb.test.example' "$T/way.m" && fail "--db printed another database"
DB=sum.golang.org
M() { check "$T/gpm" "$T/goenv.m" "$@"; }
M GOSUMDB=sum.golang.org GOPROXY="$URL,https://proxy.golang.org" \
    GONOSUMDB='git.corp.example/*'
clean "mirror through the proxy route, bare sum.golang.org"
M GOSUMDB="$KEY $URL/sumdb/sum.golang.org" GOPROXY="file://$T/proxy" \
    GONOSUMDB=git.corp.example
clean "mirror with its URL"
M GOSUMDB="$KEY $URL/sumdb/sum.golang.org" GOPROXY=off
found "mirror: GOPROXY=off" "GOPROXY: off"
M GOSUMDB=sum.golang.org GOPROXY="$URL"
found "mirror: private modules asked" "GONOSUMDB: does not cover \[log\] private 'git.corp.example/\*'"
M GOSUMDB=sum.golang.org GOPROXY="https://proxy.golang.org,$URL" \
    GONOSUMDB='git.corp.example/*'
found "mirror: proxy.golang.org first" "GOPROXY: https://proxy.golang.org comes before $URL"
M GOSUMDB="$KEY $URL" GOPROXY="file://$T/proxy" \
    GONOSUMDB='git.corp.example/*'
found "mirror: not at the root" "GOSUMDB: URL '$URL' is not where sumdbd serves sum.golang.org"
DB=
echo "$NAME: a mirror: client-config's key and URL, client-check's findings: ok"

# 2e. [log] public = NAME (the one mirror): the log holds the mirror's
# verified records of public modules too, so client-config prints one
# GOSUMDB, the log's, with the organisation's GOPROXY and no GONOSUMDB;
# the go command verifies public and private modules through it, and
# client-check calls any GONOSUMDB, GOPRIVATE or GOFLAGS=-insecure
# unnecessary and weakening.
UP=sumdb.upstream.example
"$B/xmodref" modtree "$T/proxy" git.corp.example/lib@v1.0.0 >"$T/priv.hashes" ||
    fail "modtree"
{ cat "$T/hashes"; realmod_hashes xtools; } >"$T/up.hashes"
upkey=$("$B/sumdbd" keygen -o "$T/up.key" $UP 2>/dev/null) || fail "keygen"
start_upstream -gen 20 -mods "$T/up.hashes"
stop_daemon
mkdir "$T/tofu" && mv "$T/sumdbd.db"* "$T/tofu/"
restart_daemon_with "[mirror $UP]" "key = $upkey" "url = http://127.0.0.1:$UPORT"
CONF=$T/sumdbd.conf
"$B/sumdbd" client-config -c "$CONF" --url "$URL" >"$T/one" 2>"$T/err" ||
    fail "client-config with public = $UP: $(cat "$T/err")"
[ "$(grep -c '^go env -w .*GOSUMDB=' "$T/one")" = 2 ] &&
    [ "$(grep -c "^go env -w .*GOSUMDB=$vkey" "$T/one")" = 2 ] ||
    fail "public = $UP: not one GOSUMDB, the log's, per way: $(cat "$T/one")"
grep -q "$upkey\|sumdb/$UP" "$T/one" && fail "public = $UP: the mirror's lines printed: $(cat "$T/one")"
"$B/sumdbd" client-config -c "$CONF" --url "$URL" --way url >"$T/way.one" ||
    fail "client-config --way url"
grep -qxF "go env -w 'GOSUMDB=$vkey $URL'" "$T/way.one" &&
    grep -qxF "go env -w GOPROXY=file://$T/proxy" "$T/way.one" &&
    grep -qx "go env -w GONOSUMDB=" "$T/way.one" &&
    grep -qx "go env -w GOPRIVATE=" "$T/way.one" ||
    fail "public = $UP, way url: $(cat "$T/way.one")"
grep -q "GONOSUMDB=.\|GOPRIVATE=." "$T/way.one" && fail "public = $UP: a GONOSUMDB or GOPRIVATE pattern"
goenv "$T/gp3" GOENV="$T/goenv.one" sh -e "$T/way.one" >"$T/err" 2>&1 ||
    fail "running the public = $UP lines: $(cat "$T/err")"
consumer "$T/c3"
realmod_require "$T/c3" xtools
echo "require git.corp.example/lib v1.0.0" >>"$T/c3/go.mod"
(cd "$T/c3" && goenv "$T/gp3" GOENV="$T/goenv.one" go mod download all) \
    >"$T/out" 2>&1 || fail "go mod download with one GOSUMDB: $(cat "$T/out")"
gosum "$T/c3" "one GOSUMDB"
realmod_gosum xtools "$T/c3/go.sum"
set -- $(cat "$T/priv.hashes")
grep -qxF "$1 $2 $3" "$T/c3/go.sum" || fail "one GOSUMDB: the private module's line"
[ "$(sqlite3 "$T/sumdbd.db" "SELECT count(*) FROM provenance")" -ge 4 ] ||
    fail "one GOSUMDB: the public modules were not admitted as the mirror's records"
O() { check "$T/gp3" "$T/goenv.one" "$@"; }
O; clean "the public = $UP settings"
O GONOSUMDB='git.corp.example/*'
found "GONOSUMDB on [log] private" "GONOSUMDB: 'git.corp.example/\*' is unnecessary and weakening: sumdb.test.example verifies every module (\[log\] public = $UP"
O GONOSUMDB=other.example/x
found "GONOSUMDB on nothing logged" "GONOSUMDB: 'other.example/x' is unnecessary and weakening"
O GOPRIVATE='*.corp.example'
found "GOPRIVATE" "GOPRIVATE: '\*.corp.example' is unnecessary for checksums and weakening: .*GONOPROXY"
grep -q '^client-check: 1 finding for' "$T/ck" || fail "GOPRIVATE and the GONOSUMDB it implies are one finding: $(cat "$T/ck")"
O GOFLAGS='-mod=mod -insecure'
found "GOFLAGS=-insecure" "GOFLAGS: -insecure: go 1.16 and older skip checksum verification with it (newer ones ignore it): unnecessary and weakening"
O GOFLAGS=-mod=mod; clean "GOFLAGS without -insecure"
"$B/sumdbd" client-config -c "$CONF" --url "$URL" --db $UP --way url >"$T/way.m" ||
    fail "client-config --db $UP"
grep -qxF "go env -w 'GOSUMDB=$upkey $URL/sumdb/$UP'" "$T/way.m" ||
    fail "--db $UP: the mirror's own lines: $(cat "$T/way.m")"
echo "$NAME: public = $UP: one GOSUMDB verifies public and private modules; GONOSUMDB, GOPRIVATE, -insecure are findings: ok"

# 3. Usage.
"$B/sumdbd" client-config -c "$T/sumdbd.conf" --db nosuch >"$T/out" 2>"$T/err"
[ $? = 2 ] || fail "client-config --db nosuch: not exit 2"
grep -qx "sumdbd client-config: no database 'nosuch' in $T/sumdbd.conf" "$T/err" ||
    fail "--db nosuch: $(cat "$T/err")"
"$B/sumdbd" client-check -c "$T/sumdbd.conf" --db nosuch >/dev/null 2>&1
[ $? = 2 ] || fail "client-check --db nosuch: not exit 2"
"$B/sumdbd" client-config -c "$T/sumdbd.conf" --way both >/dev/null 2>&1
[ $? = 2 ] || fail "client-config --way both: not exit 2"
"$B/sumdbd" client-check -c "$T/sumdbd.conf" --way url >/dev/null 2>&1
[ $? = 2 ] || fail "client-check --way: not exit 2"
"$B/sumdbd" client-config -h >"$T/out" 2>&1 && grep -q '^usage: sumdbd client-config' "$T/out" ||
    fail "client-config -h"
"$B/sumdbd" client-check --help >"$T/out" 2>&1 && grep -q '^usage: sumdbd client-check' "$T/out" ||
    fail "client-check --help"
stop_daemon
goenv "$T/gp1" GOENV="$T/goenv.url" GOPROXY="file://$T/proxy" \
    "$B/sumdbd" client-check -c "$T/sumdbd.conf" --url "$URL" >"$T/ck" 2>"$T/err"
[ $? = 2 ] && grep -q '^sumdbd client-check: ' "$T/err" ||
    fail "an unreachable server is not exit 2 with one error line: $(cat "$T/err")"
echo "$NAME: exit 2 on an unknown database, bad options, no server; -h: ok"
