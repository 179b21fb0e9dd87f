#!/bin/sh
# The private log's fetches from its GOPROXY are bounded, and hashing
# them never stalls the main loop:
#
# (c) twelve 8 MiB zips fetched and hashed at once raise the daemon's
#     peak RSS (VmHWM) by less than 64 MiB: zips go to a file, not
#     memory;
# (a) with max_fetches = 2 and a slow GOPROXY, two fetches run (the
#     GOPROXY sees at most two zips at once), ten more distinct
#     versions get 503 with Retry-After and a one-line reason, and
#     lookups of the two versions being fetched join them: every
#     accepted one has x/mod's hashes;
# (b) with max_fetches_per_client = 1 a second fetch from 127.0.0.1 is
#     refused while one from 127.0.0.2 is not;
# (d) while a zip inflating to 400 MiB is hashed, a new small module
#     is fetched, hashed, logged and answered: the big one is still
#     hashing when it returns;
# (e) [log] accept: another path gets 404 naming it, with no request to
#     the GOPROXY, in the daemon and in `sumdbd add`; a matching one is
#     logged;
# (f) zip bombs (over 500 MiB inflated, an entry larger than it says,
#     a 17 MiB LICENSE) and a chunked zip cut short are refused with 502 and
#     the daemon serves on, and hashes a real-size module (x/tools,
#     2.4 MB in 1,267 files) to the go command's record;
# (g) SIGTERM with shutdown_timeout = 0 while a zip is hashed: the
#     daemon stops at once, and cleanly (no report under SAN=1).
# The caps, the accept list and the GOPROXY change with SIGHUP.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || fail "python3 is not installed"
"$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example >/dev/null 2>&1 ||
    fail "keygen"
"$B/sumdbd" keygen -o "$T/up.key" up.test.example >/dev/null 2>&1 ||
    fail "keygen"

# mkmod PATH VERSION KIND [MIB]: a module in the GOPROXY tree $GP, with
# a go.mod, a LICENSE and: small, a Go file; random, MIB MiB of random
# bytes stored; zeros, MIB MiB of zeros deflated in files of 50 MiB;
# liar, 64 MiB of zeros in an entry that says it holds 1 MiB; license,
# a LICENSE of 17 MiB.  Paths are lower case: no escaping.
GP=$T/gp
cat >"$T/mkmod.py" <<'EOF'
import os, struct, sys, zipfile
gp, path, vers, kind = sys.argv[1:5]
mib = int(sys.argv[5]) if len(sys.argv) > 5 else 0
vdir = os.path.join(gp, path, "@v")
os.makedirs(vdir, exist_ok=True)
gomod = b"module %s\n\ngo 1.19\n" % path.encode()
open(os.path.join(vdir, vers + ".mod"), "wb").write(gomod)
open(os.path.join(vdir, vers + ".info"), "w").write('{"Version":"%s"}\n' % vers)
pre = "%s@%s/" % (path, vers)
zp = os.path.join(vdir, vers + ".zip")
zero = bytes(1 << 20)
with zipfile.ZipFile(zp, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr(pre + "go.mod", gomod)
    if kind == "license":
        with z.open(pre + "LICENSE", "w") as f:
            for i in range(17):
                f.write(zero)
    else:
        z.writestr(pre + "LICENSE", "test module\n")
    if kind == "small":
        z.writestr(pre + "a.go", "package a\n")
    elif kind == "random":
        z.writestr(pre + "data.bin", os.urandom(mib << 20),
                   compress_type=zipfile.ZIP_STORED)
    elif kind in ("zeros", "liar"):
        if kind == "liar":
            mib = 64
        n = 0
        while mib > 0:
            k = min(mib, 50)
            with z.open(pre + "zero%d.bin" % n, "w") as f:
                for i in range(k):
                    f.write(zero)
            mib -= k
            n += 1
if kind == "liar":
    # Both headers of zero0.bin say 1 MiB; it inflates to 64 MiB.
    b = bytearray(open(zp, "rb").read())
    name = (pre + "zero0.bin").encode()
    i = 0
    while True:
        i = b.find(b"PK\x03\x04", i)
        if i < 0:
            break
        if b[i + 30:i + 30 + len(name)] == name:
            struct.pack_into("<I", b, i + 22, 1 << 20)
        i += 4
    i = 0
    while True:
        i = b.find(b"PK\x01\x02", i)
        if i < 0:
            break
        if b[i + 46:i + 46 + len(name)] == name:
            struct.pack_into("<I", b, i + 24, 1 << 20)
        i += 4
    open(zp, "wb").write(b)
EOF
mkmod() {
	python3 "$T/mkmod.py" "$GP" "$@" || fail "mkmod $*"
}
# want PATH VERSION: x/mod's "ziph1 modh1" of a module in $GP.
want() {
	"$B/xmodref" hashzip "$GP/$1/@v/$2.zip" "$GP/$1/@v/$2.mod" ||
	    fail "xmodref hashzip $1@$2"
}

mkmod example.com/warm v1.0.0 small
for i in $(seq 1 12); do mkmod example.com/big/r$i v1.0.0 random 8; done
for i in $(seq 1 15); do mkmod example.com/cap v1.0.$i small; done
mkmod example.com/quick v1.0.0 small
mkmod example.com/zero v1.0.0 zeros 400
mkmod example.com/zero v1.0.1 zeros 400
mkmod example.com/acc/x v1.0.0 small
mkmod example.com/other/y v1.0.0 small
mkmod example.com/bomb v1.0.0 zeros 600
mkmod example.com/liar v1.0.0 liar
mkmod example.com/license v1.0.0 license
realmod_add "$GP" xtools

start_upstream -gen 20 -proxy "$GP"
# Under SAN=1, ASan's quarantine holds freed memory back (256 MiB by
# default): RSS would measure the quarantine, not the daemon.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4
export ASAN_OPTIONS
start_daemon "max_fetches = 12" "max_fetches_per_client = 12"
LURL=$URL/sumdb/sumdb.test.example

# reload: rewrite the config's KEY = VALUE lines given, then SIGHUP
# and wait until the daemon says it reloaded.
reload() {
	n0=$(grep -c "configuration reloaded" "$T/daemon.log")
	for kv in "$@"; do
		k=${kv%% =*}
		if grep -q "^$k = " "$T/sumdbd.conf"; then
			sed -i "s|^$k = .*|$kv|" "$T/sumdbd.conf"
		else
			echo "$kv" >>"$T/sumdbd.conf"
		fi
	done
	kill -HUP "$DPID"
	wait_for sh -c "[ \$(grep -c 'configuration reloaded' '$T/daemon.log') -gt $n0 ]" ||
	    fail "reload $* not logged"
}
attack() {
	curl -sf -o /dev/null "http://127.0.0.1:$UPORT/admin/attack?kind=$1" ||
	    fail "attack $1"
}
# metric NAME: its value in /metrics (NAME may hold a {label}).
metric() {
	curl -s "$URL/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}
# wait_metric NAME VALUE: up to 30 s for it.
wait_metric() {
	i=0
	until [ "$(metric "$1")" = "$2" ]; do
		i=$((i + 1))
		[ $i -lt 300 ] || fail "$1 never reached $2 (it is '$(metric "$1")')"
		sleep 0.1
	done
}
proxystat() {
	curl -s "http://127.0.0.1:$UPORT/admin/proxystats" | awk -v k="$1" '$1 == k { print $2 }'
}
# get NAME PATH@VERSION [curl args]: look it up in the background;
# $T/r/NAME.code, .hdr and .body hold the answer.
mkdir "$T/r"
BG=
get() {
	n=$1 mv=$2
	shift 2
	curl -s "$@" -D "$T/r/$n.hdr" -o "$T/r/$n.body" -w '%{http_code}' \
	    "$LURL/lookup/$mv" >"$T/r/$n.code" &
	BG="$BG $!"
}
# check_ok NAME PATH VERSION: 200 with x/mod's hashes.
check_ok() {
	[ "$(cat "$T/r/$1.code")" = 200 ] ||
	    fail "$2@$3: got $(cat "$T/r/$1.code"), want 200: $(cat "$T/r/$1.body")"
	set -- "$1" "$2" "$3" $(want "$2" "$3")
	grep -qx "$2 $3 $4" "$T/r/$1.body" && grep -qx "$2 $3/go.mod $5" "$T/r/$1.body" ||
	    fail "$2@$3: the record is not x/mod's ($4 $5): $(head -3 "$T/r/$1.body")"
}
# check_503 NAME REASON: 503, Retry-After, and the one-line reason.
check_503() {
	[ "$(cat "$T/r/$1.code")" = 503 ] ||
	    fail "$1: got $(cat "$T/r/$1.code"), want 503: $(cat "$T/r/$1.body")"
	grep -qi '^Retry-After: [1-9]' "$T/r/$1.hdr" || fail "$1: no Retry-After"
	[ "$(wc -l <"$T/r/$1.body")" = 1 ] && grep -qx "$2" "$T/r/$1.body" ||
	    fail "$1: body '$(cat "$T/r/$1.body")', want '$2'"
}
waitbg() {
	for p in $BG; do wait "$p"; done
	BG=
}
hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$DPID/status"; }
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$DPID/status"; }

reload "goproxy = http://127.0.0.1:$UPORT"
get warm example.com/warm@v1.0.0
waitbg
check_ok warm example.com/warm v1.0.0

# (c) Memory: twelve 8 MiB zips at once.
rss0=$(rss)
curl -s -o /dev/null "http://127.0.0.1:$UPORT/admin/proxystats?reset=1"
for i in $(seq 1 12); do get r$i example.com/big/r$i@v1.0.0; done
waitbg
for i in $(seq 1 12); do check_ok r$i example.com/big/r$i v1.0.0; done
hwm1=$(hwm)
[ $((hwm1 - rss0)) -lt 65536 ] ||
    fail "12 zips of 8 MiB: peak RSS $hwm1 KiB, from $rss0 KiB: grew by 64 MiB or more"
echo "$NAME: 12 zips of 8 MiB, $(proxystat maxzips) at once at the GOPROXY: RSS $rss0 KiB, peak $hwm1 KiB: ok"

# (a) max_fetches = 2, a slow GOPROXY: two fetch, ten are refused, two
# more lookups join the two in flight.
reload "max_fetches = 2" "max_fetches_per_client = 2"
attack slowzip
curl -s -o /dev/null "http://127.0.0.1:$UPORT/admin/proxystats?reset=1"
get c1 example.com/cap@v1.0.1
get c2 example.com/cap@v1.0.2
wait_metric sumdbd_log_fetches_in_progress 2
bg0=$BG
BG=
for i in $(seq 3 12); do get c$i example.com/cap@v1.0.$i; done
get c1b example.com/cap@v1.0.1
get c2b example.com/cap@v1.0.2
waitbg
BG=$bg0
waitbg
for i in $(seq 3 12); do
	check_503 c$i "too many module fetches in progress (max_fetches = 2): retry later"
done
for n in c1 c1b; do check_ok $n example.com/cap v1.0.1; done
for n in c2 c2b; do check_ok $n example.com/cap v1.0.2; done
maxz=$(proxystat maxzips)
[ "$maxz" -le 2 ] || fail "max_fetches = 2, but the GOPROXY saw $maxz zips fetched at once"
[ "$(metric 'sumdbd_log_fetches_refused_total{reason="max_fetches"}')" = 10 ] ||
    fail "refusals for max_fetches: $(metric 'sumdbd_log_fetches_refused_total{reason="max_fetches"}'), want 10"
echo "$NAME: max_fetches = 2: $maxz zips at once at the GOPROXY, 10 lookups refused with 503 and Retry-After, 2 joined: ok"

# (b) One fetch per client address.
reload "max_fetches = 8" "max_fetches_per_client = 1"
get c13 example.com/cap@v1.0.13
wait_metric sumdbd_log_fetches_in_progress 1
get c14 example.com/cap@v1.0.14
bg0=$BG
BG=
get c15 example.com/cap@v1.0.15 --interface 127.0.0.2
waitbg
BG=$bg0
waitbg
check_503 c14 "too many module fetches in progress for 127.0.0.1 (max_fetches_per_client = 1): retry later"
check_ok c13 example.com/cap v1.0.13
check_ok c15 example.com/cap v1.0.15
[ "$(metric 'sumdbd_log_fetches_refused_total{reason="max_fetches_per_client"}')" = 1 ] ||
    fail "refusals for max_fetches_per_client: want 1"
echo "$NAME: max_fetches_per_client = 1: a second fetch from 127.0.0.1 refused, one from 127.0.0.2 served: ok"

# (d) The main loop while a zip inflating to 400 MiB is hashed.
attack none
reload "max_fetches_per_client = 8"
get zero example.com/zero@v1.0.0
zpid=$BG
BG=
wait_metric sumdbd_log_hashes_in_progress 1
get quick example.com/quick@v1.0.0
waitbg
check_ok quick example.com/quick v1.0.0
kill -0 "$zpid" 2>/dev/null ||
    fail "the 400 MiB zip was hashed before a small module was logged: the main loop waited"
h=$(metric sumdbd_log_hashes_in_progress)
[ "$h" = 1 ] || fail "the 400 MiB zip was hashed before a small module was logged ($h hashes now)"
BG=$zpid
waitbg
check_ok zero example.com/zero v1.0.0
echo "$NAME: a module fetched, hashed and logged while a 400 MiB zip was hashed: ok"

# (e) [log] accept.
reload "accept = example.com/acc/*,example.com/cap"
curl -s -o /dev/null "http://127.0.0.1:$UPORT/admin/proxystats?reset=1"
get other example.com/other/y@v1.0.0
waitbg
[ "$(cat "$T/r/other.code")" = 404 ] || fail "a path outside accept: got $(cat "$T/r/other.code"), want 404"
grep -qx "not found: example.com/other/y is not accepted by this log (\[log\] accept)" "$T/r/other.body" ||
    fail "a path outside accept: body '$(cat "$T/r/other.body")'"
[ "$(proxystat requests)" = 0 ] || fail "a path outside accept reached the GOPROXY"
get acc example.com/acc/x@v1.0.0
waitbg
check_ok acc example.com/acc/x v1.0.0
[ "$(metric 'sumdbd_log_fetches_refused_total{reason="accept"}')" = 1 ] ||
    fail "refusals for accept: want 1"
sed -e "s|^database = .*|database = $T/add.db|" "$T/sumdbd.conf" >"$T/add.conf"
if "$B/sumdbd" add -c "$T/add.conf" -p "file://$GP" example.com/other/y@v1.0.0 \
    >"$T/add.out" 2>"$T/add.err"; then
	fail "sumdbd add logged a path outside accept"
else
	rc=$?
fi
[ $rc = 1 ] || fail "sumdbd add of a path outside accept: exit $rc, want 1"
[ "$(wc -l <"$T/add.err")" = 1 ] && grep -q "example.com/other/y@v1.0.0: not accepted by this log (\[log\] accept = " "$T/add.err" ||
    fail "sumdbd add of a path outside accept said: $(cat "$T/add.err")"
"$B/sumdbd" add -c "$T/add.conf" -p "file://$GP" example.com/acc/x@v1.0.0 \
    example.com/cap@v1.0.3 >"$T/add.out" 2>"$T/add.err" ||
    fail "sumdbd add -p file:// of accepted paths: $(cat "$T/add.err")"
for mv in "example.com/acc/x v1.0.0" "example.com/cap v1.0.3"; do
	set -- $mv $(want $mv)
	[ "$(sqlite3 "$T/add.db" "SELECT count(*) FROM record WHERE path = '$1' AND version = '$2'")" = 1 ] ||
	    fail "sumdbd add did not log $1@$2"
	sqlite3 "$T/add.db" "SELECT CAST(text AS TEXT) FROM record WHERE path = '$1' AND version = '$2'" | grep -q "$3" ||
	    fail "sumdbd add logged $1@$2 without x/mod's hash $3"
done
echo "$NAME: [log] accept: other paths refused with 404 unfetched, in the daemon and sumdbd add: ok"

# (f) Zip bombs.
reload "accept = example.com/*"
for m in bomb liar license; do
	get $m example.com/$m@v1.0.0
	waitbg
	[ "$(cat "$T/r/$m.code")" = 502 ] ||
	    fail "zip bomb $m: got $(cat "$T/r/$m.code"), want 502: $(cat "$T/r/$m.body")"
	kill -0 "$DPID" || fail "zip bomb $m: the daemon died"
done
grep -q "example.com/bomb@v1.0.0 over x/mod/zip's limits" "$T/daemon.log" ||
    fail "the 600 MiB zip bomb: no reason logged"
grep -q "bad module zip for example.com/liar@v1.0.0" "$T/daemon.log" ||
    fail "the zip that inflates past its size: no reason logged"
grep -q "example.com/license@v1.0.0 over x/mod/zip's limits" "$T/daemon.log" ||
    fail "the 17 MiB LICENSE: no reason logged"
# A zip sent as one chunk of 400 MiB that never ends: streamed to disk,
# never held in memory (the peak RSS below), refused, not retried.
attack bigchunk
get chunked example.com/cap@v1.0.14
waitbg
attack none
[ "$(cat "$T/r/chunked.code")" = 502 ] ||
    fail "a chunked zip: got $(cat "$T/r/chunked.code"), want 502"
grep -q "the answer was cut short" "$T/daemon.log" ||
    fail "a chunked zip: no reason logged"
get warm2 example.com/warm@v1.0.0
waitbg
check_ok warm2 example.com/warm v1.0.0
realmod_lookup "$LURL" xtools
hwm2=$(hwm)
[ $((hwm2 - rss0)) -lt 65536 ] ||
    fail "after the big zips and the bombs: peak RSS $hwm2 KiB, from $rss0 KiB"
[ "$(metric sumdbd_log_fetches_in_progress)" = 0 ] && [ "$(metric sumdbd_log_hashes_in_progress)" = 0 ] ||
    fail "fetches or hashes left in progress"
echo "$NAME: zip bombs (600 MiB, an entry past its size, a 17 MiB LICENSE) and a chunked zip refused with 502; x/tools then the go command's record; peak RSS $hwm2 KiB: ok"

# (g) Stopping while a zip is hashed.
sed -i '/^\[server\]$/a shutdown_timeout = 0' "$T/sumdbd.conf"
reload
get zero1 example.com/zero@v1.0.1
wait_metric sumdbd_log_hashes_in_progress 1
kill -TERM "$DPID"
wait "$DPID"
rc=$?
[ $rc = 0 ] || fail "SIGTERM while a zip was hashed: exit $rc"
grep -q "stopped serving" "$T/daemon.log" || fail "SIGTERM: no 'stopped serving' logged"
waitbg
echo "$NAME: SIGTERM while a zip was hashed: stopped, exit 0: ok"
