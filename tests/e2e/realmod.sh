#!/bin/sh
# Real-size modules (tests/realmods.sh: x/mod ~150 KB, x/tools ~2.4 MB
# in 1,267 files, Go's standard library ~19 MB in 4,791 files), each
# hashed by the daemon from a file:// GOPROXY and from an HTTP one, and
# by `sumdbd add -p`, must give the records the go command computed,
# byte for byte; max_module_size holds at the zip's exact size and
# refuses it one byte below; and each go command verifies them against
# the private log.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || fail "python3 is not installed"
realmod_add "$T/proxy" xmod xtools gostd
vkey=$("$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example 2>/dev/null) ||
    fail "keygen"
for n in xmod xtools gostd; do
	echo "$NAME: $(realmod_mv $n): $(realmod_field $n 6) bytes," \
	    "$(realmod_field $n 7) files"
done

# 1. Lookups that fetch from file://: the daemon reads and hashes each.
start_daemon
t0=$(date +%s)
for n in xmod xtools gostd; do
	realmod_lookup "$URL" $n
done
echo "$NAME: file:// GOPROXY: 3 lookups hashed in $(( $(date +%s) - t0 )) s, records byte-exact: ok"
stop_daemon

# 2. sumdbd add -p file://, into a new database.
write_config "$T/add.conf" 1
sed -i "s|^database = .*|database = $T/add.db|" "$T/add.conf"
"$B/sumdbd" add -c "$T/add.conf" -p "file://$T/proxy" $(realmod_mv xmod) \
    $(realmod_mv xtools) $(realmod_mv gostd) >"$T/out" 2>&1 ||
    fail "sumdbd add -p file://: $(cat "$T/out")"
for n in xmod xtools gostd; do
	grep -qx "$(realmod_field $n 2) $(realmod_field $n 3): record [0-2]" \
	    "$T/out" || fail "sumdbd add: $n: $(cat "$T/out")"
done
sqlite3 "$T/add.db" "SELECT CAST(text AS TEXT) FROM record ORDER BY id" \
    >"$T/added" || fail "reading $T/add.db"
for n in xmod xtools gostd; do
	realmod_gosum $n "$T/added"
done
echo "$NAME: sumdbd add -p file://: the go command's records: ok"

# 3. The same over HTTP, the zips as real-size response bodies: lookups
# in the daemon (into another new database) and sumdbd add -p http://.
serve_http "$T/proxy" "$(realmod_field xmod 2)/@v/list"
SPORT=$HPORT
HPROXY=http://127.0.0.1:$SPORT
# with_goproxy URL [LINES]: restart on a config with goproxy = URL.
with_goproxy() {
	gp=$1
	shift
	write_config "$T/sumdbd.conf" "$PORT" "$@"
	sed -i "s|^goproxy = .*|goproxy = $gp|" "$T/sumdbd.conf"
	restart_daemon
}
mv "$T/sumdbd.db" "$T/file.db"
with_goproxy "$HPROXY"
t0=$(date +%s)
for n in gostd xtools; do
	realmod_lookup "$URL" $n
done
echo "$NAME: HTTP GOPROXY: 2 lookups hashed in $(( $(date +%s) - t0 )) s, records byte-exact: ok"
stop_daemon
rm -f "$T/add.db"*
"$B/sumdbd" add -c "$T/add.conf" -p "$HPROXY" $(realmod_mv gostd) \
    $(realmod_mv xmod) >"$T/out" 2>&1 ||
    fail "sumdbd add -p http://: $(cat "$T/out")"
sqlite3 "$T/add.db" "SELECT CAST(text AS TEXT) FROM record ORDER BY id" \
    >"$T/added" || fail "reading $T/add.db"
realmod_gosum gostd "$T/added"
realmod_gosum xmod "$T/added"
echo "$NAME: sumdbd add -p http://: the go command's records: ok"

# 4. max_module_size: the zip's exact size is allowed, one byte less is
# refused with 502 and logged, over file:// and HTTP alike.
size=$(realmod_field xtools 6)
for proxy in "file://$T/proxy" "$HPROXY"; do
	rm -f "$T/sumdbd.db"*
	with_goproxy "$proxy" "max_module_size = $((size - 1))"
	s=$(status "$URL/lookup/$(realmod_mv xtools)")
	[ "$s" = 502 ] || fail "$proxy: a zip 1 byte over max_module_size: $s, want 502"
	grep -q "larger than $((size - 1))" "$T/daemon.log" ||
	    fail "$proxy: the zip over max_module_size not logged"
	stop_daemon
	sed -i "s|^max_module_size = .*|max_module_size = $size|" "$T/sumdbd.conf"
	restart_daemon
	realmod_lookup "$URL" xtools
	stop_daemon
	: >"$T/daemon.log"
	echo "$NAME: ${proxy%%:*}: max_module_size = zip size - 1 refused, = zip size hashed: ok"
done

# 5. Each go command downloads all three and verifies them against the
# log (file:// records in $T/file.db): its go.sum is its own hashes.
rm -f "$T/sumdbd.db"*
cp "$T/file.db" "$T/sumdbd.db"
restart_daemon_with
verify_go() {
	mkdir -p "$T/c.$GOV"
	printf 'module example.com/consumer\n\ngo 1.19\n' >"$T/c.$GOV/go.mod"
	realmod_require "$T/c.$GOV" xmod xtools gostd
	(cd "$T/c.$GOV" && goenv "$T/gp.$GOV" GOPROXY="file://$T/proxy" \
	    GOFLAGS="-mod=mod -modcacherw" GOSUMDB="$vkey $URL" \
	    go mod download all) >"$T/out" 2>&1 ||
	    fail "go mod download with GOSUMDB: $(cat "$T/out")"
	for n in xmod xtools gostd; do
		realmod_gosum $n "$T/c.$GOV/go.sum"
	done
	[ -s "$T/gp.$GOV/pkg/sumdb/sumdb.test.example/latest" ] ||
	    fail "the go command did not ask the checksum database"
	rm -rf "$T/gp.$GOV"
}
for_each_go verify_go
echo "$NAME: the go commands ($GOVS) verify the real-size modules against the log: ok"
