#!/bin/sh
# Unpack Debian 13's go 1.24 and x/mod 0.19 into DIR (build/go124), the
# second go command and the newer x/mod of the tests, without installing
# anything: apt-get downloads the packages from trixie with a private
# sources list, lists and cache (in DIR.apt, removed afterwards), and
# dpkg -x unpacks them.  The go command is then
# DIR/usr/lib/go-1.24/bin/go; its GOROOT follows from where it lies
# (the package's symlinks into /usr/share/go-1.24 are relative), and
# DIR/usr/share/gocode is a GOPATH holding golang.org/x/mod.  Does
# nothing when DIR is complete.  DEBIAN_MIRROR overrides the archive,
# which is by default the one this machine's own release comes from.
set -eu
[ $# -eq 1 ] || { echo "usage: go124.sh DIR" >&2; exit 2; }
dir=$1
go=$dir/usr/lib/go-1.24/bin/go
xmod=$dir/usr/share/gocode/src/golang.org/x/mod/sumdb/client.go
PKGS="golang-1.24-go golang-1.24-src golang-golang-x-mod-dev"

if [ -f "$xmod" ] && [ -x "$go" ] &&
    "$go" version 2>/dev/null | grep -q ' go1\.24'; then
	touch "$go"	# newer than this script, for make
	exit 0
fi

mirror=${DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	mirror=$(apt-get indextargets --no-release-info \
	    --format '$(REPO_URI) $(RELEASE)' 'Identifier: Packages' |
	    awk -v c="$codename" '$2 == c { print $1; exit }')
fi
mirror=${mirror:-http://deb.debian.org/debian/}

apt=$dir.apt
rm -rf "$apt" "$dir.tmp"
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs" \
    "$dir.tmp"
apt=$(cd "$apt" && pwd)
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" \
    >"$apt/sources.list"
# Only the private list: no system sources, pins or package state.
set -- -q -o Dir::Etc::sourcelist="$apt/sources.list" \
    -o Dir::Etc::sourceparts=- -o Dir::Etc::preferences=- \
    -o Dir::Etc::preferencesparts=- -o Dir::State::Lists="$apt/lists" \
    -o Dir::Cache="$apt/cache"
[ "$(id -u)" -ne 0 ] || set -- "$@" -o APT::Sandbox::User=root
echo "go124: fetching $PKGS from $mirror trixie into $dir"
apt-get "$@" update >"$apt/update.log" 2>&1 ||
    { cat "$apt/update.log" >&2; echo "go124: apt-get update failed" >&2; exit 1; }
pkgs=
for p in $PKGS; do pkgs="$pkgs $p/trixie"; done
(cd "$apt/debs" && apt-get "$@" download $pkgs) >"$apt/download.log" 2>&1 ||
    { cat "$apt/download.log" >&2; echo "go124: apt-get download failed" >&2; exit 1; }
for deb in "$apt"/debs/*.deb; do
	echo "go124: unpacking ${deb##*/}"
	dpkg -x "$deb" "$dir.tmp"
done
"$dir.tmp/usr/lib/go-1.24/bin/go" version | grep ' go1\.24' ||
    { echo "go124: the unpacked go command does not run" >&2; exit 1; }
rm -rf "$dir" "$apt"
mv "$dir.tmp" "$dir"
touch "$go"
