#!/bin/sh
# realmods.sh [-f] B: the real-size test modules, in B/realmods.
# Each is a real Go source tree that a Debian package installs, zipped
# by `xmodref realmod` the way zip.CreateFromDir does (nested modules,
# vendored packages and symbolic links left out) under a test path:
#
#	xmod    example.com/real/xmod@v1.0.0    golang.org/x/mod (~150 KB)
#	xtools  example.com/real/xtools@v1.0.0  golang.org/x/tools (~2.4 MB,
#	                                        over 1,200 files)
#	gostd   example.com/real/gostd@v1.0.0   Go's standard library (~19 MB,
#	                                        over 4,700 files)
#
# B/realmods/proxy is their GOPROXY tree and B/realmods/hashes has one
# line per module, "NAME PATH VERSION ZIPH1 MODH1 ZIPBYTES FILES", with
# the hashes that the go command itself computed (go mod download
# -json; every go command of lib.sh's GODIRS that is there must agree),
# checked against x/mod's.  Nothing is done when the hashes
# exist already, unless -f.
set -eu
force=
[ "${1:-}" = -f ] && { force=1; shift; }
B=$(cd "$1" && pwd)
[ -n "$force" ] || [ ! -f "$B/realmods/hashes" ] || exit 0
NAME=realmods.sh
# lib.sh for goenv() and fail(): it makes and removes its own $T.
. "$(dirname "$0")/e2e/lib.sh"
set -e

out=$T/realmods
mkdir -p "$out/proxy" "$T/scratch"
t0=$(date +%s)
while read -r name mv src; do
	[ -f "$src/go.mod" ] ||
	    fail "no Go source tree in $src (a Debian package missing?)"
	"$B/xmodref" realmod "$out/proxy" "$mv" "$src" >"$T/xmod" ||
	    fail "xmodref realmod $mv $src"
	read -r path vers xziph xmodh files <"$T/xmod"
	# The go commands' own hashes, from the GOPROXY tree alone: each
	# one there is (go 1.19, and go 1.24 once built) must agree.
	ziph= modh=
	for GODIR in $GODIRS; do
		[ -x "$GODIR/bin/go" ] || continue
		(cd "$T/scratch" && goenv "$T/gp.$$" GOPROXY="file://$out/proxy" \
		    GOSUMDB=off GOFLAGS="-mod=mod -modcacherw" \
		    go mod download -json "$mv") </dev/null >"$T/json" 2>"$T/err" ||
		    fail "$GODIR/bin/go mod download $mv: $(cat "$T/err" "$T/json")"
		rm -rf "$T/gp.$$"
		sums=$(python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
print(j["Sum"], j["GoModSum"])' "$T/json") || fail "go mod download -json $mv"
		[ -z "$ziph" ] || [ "$sums" = "$ziph $modh" ] ||
		    fail "$mv: $GODIR/bin/go says $sums, another go $ziph $modh"
		ziph=${sums% *} modh=${sums#* }
		gos="${gos:-}${gos:+ }$(goenv "$T/gp" go env GOVERSION)"
	done
	[ -n "$ziph" ] || fail "no go command in $GODIRS"
	[ "$ziph $modh" = "$xziph $xmodh" ] ||
	    fail "$mv: the go command says $ziph $modh, x/mod $xziph $xmodh"
	size=$(wc -c <"$out/proxy/$path/@v/$vers.zip")
	echo "$name $path $vers $ziph $modh $size $files" >>"$out/hashes"
done <<EOL
xmod example.com/real/xmod@v1.0.0 /usr/share/gocode/src/golang.org/x/mod
xtools example.com/real/xtools@v1.0.0 /usr/share/gocode/src/golang.org/x/tools
gostd example.com/real/gostd@v1.0.0 $(readlink -f /usr/lib/go/src)
EOL
echo "realmods.sh: $(wc -l <"$out/hashes") real-size modules in $(( $(date +%s) - t0 )) s, hashed by $(echo "$gos" | tr ' ' '\n' | sort -u | tr '\n' ' ')and x/mod:" >&2
sed 's/^/  /' "$out/hashes" >&2
chmod -R go+rX "$out"
rm -rf "$B/realmods.old"
[ ! -e "$B/realmods" ] || mv "$B/realmods" "$B/realmods.old"
mv "$out" "$B/realmods"
rm -rf "$B/realmods.old"
