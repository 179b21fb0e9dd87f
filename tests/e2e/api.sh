#!/bin/sh
# The HTTP API byte for byte: content types, HEAD, cache headers, full,
# partial and data tiles, /supported, unknown names; `sumdbd add`; the
# signing key checks; and hostile requests (acceptance 5): bad paths get
# 400 or 404 with a one-line reason, and the daemon keeps serving.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || fail "python3 is not installed"
mods=
i=0
while [ $i -lt 300 ]; do
	mods="$mods example.com/many@v1.0.$i"
	i=$((i + 1))
done
"$B/xmodref" modtree "$T/proxy" $mods example.com/hello@v1.0.0 \
    >"$T/hashes" || fail "module tree"
realmod_add "$T/proxy" xmod xtools
vkey=$("$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example 2>/dev/null) ||
    fail "keygen"

# The key file: refused when others can read it, or when it is not a key.
write_config "$T/k.conf" 1
chmod 644 "$T/log.key"
"$B/sumdbd" add -c "$T/k.conf" example.com/hello@v1.0.0 >"$T/out" 2>&1 &&
    fail "a world-readable key was accepted"
grep -q 'readable by group or others' "$T/out" || fail "key mode: $(cat "$T/out")"
chmod 600 "$T/log.key"
cp "$T/log.key" "$T/log.key.good"
echo 'PRIVATE+KEY+sumdb.test.example+00000000+AAAA' >"$T/log.key"
"$B/sumdbd" add -c "$T/k.conf" example.com/hello@v1.0.0 >"$T/out" 2>&1 &&
    fail "a malformed key was accepted"
grep -q 'not a PRIVATE+KEY' "$T/out" || fail "bad key: $(cat "$T/out")"
grep -q 'AAAA' "$T/out" && fail "the key's bytes were printed"
mv "$T/log.key.good" "$T/log.key"
# A systemd credential on tmpfs: 0440, read through an ACL.  Accepted in
# $CREDENTIALS_DIRECTORY only, and never group-writable.
mkdir -p "$T/cred"
cp "$T/log.key" "$T/cred/log.key"
chmod 440 "$T/cred/log.key" "$T/log.key"
write_config "$T/c.conf" 1
sed -i "s|^key = .*|key = $T/cred/log.key|" "$T/c.conf"
CREDENTIALS_DIRECTORY=$T/cred "$B/sumdbd" add -c "$T/c.conf" \
    -p "file://$T/nosuch" example.com/hello@v1.0.0 >"$T/out" 2>&1
grep -q 'readable by group' "$T/out" && fail "a 0440 credential was refused"
"$B/sumdbd" add -c "$T/c.conf" -p "file://$T/nosuch" \
    example.com/hello@v1.0.0 >"$T/out" 2>&1
grep -q 'readable by group' "$T/out" ||
    fail "a 0440 key outside CREDENTIALS_DIRECTORY was accepted"
chmod 460 "$T/cred/log.key"
CREDENTIALS_DIRECTORY=$T/cred "$B/sumdbd" add -c "$T/c.conf" \
    -p "file://$T/nosuch" example.com/hello@v1.0.0 >"$T/out" 2>&1 &&
    fail "a group-writable credential was accepted"
grep -q 'readable by group' "$T/out" || fail "credential: $(cat "$T/out")"
chmod 600 "$T/log.key"
echo "$NAME: key files readable by others or malformed are refused; 0440 systemd credentials accepted: ok"

# Commands that read the store do not make an empty one.
write_config "$T/m.conf" 1
sed -i "s|^database = .*|database = $T/nosuch.db|" "$T/m.conf"
for cmd in fsck "evidence list" "audit $T/m.conf"; do
	"$B/sumdbd" $cmd -c "$T/m.conf" >"$T/out" 2>&1 &&
	    fail "sumdbd $cmd on a missing database succeeded"
	grep -q "database '$T/nosuch.db': No such file" "$T/out" ||
	    fail "sumdbd $cmd: $(cat "$T/out")"
	[ -e "$T/nosuch.db" ] && fail "sumdbd $cmd created the database"
done
echo "$NAME: fsck, evidence and audit refuse a missing database and create none: ok"

# Config errors name the file and line.
printf '[server]\nlisten = 127.0.0.1:1\nbogus = 1\n' >"$T/bad.conf"
"$B/sumdbd" -n -c "$T/bad.conf" 2>"$T/out" && fail "unknown key accepted"
grep -q "^$T/bad.conf:3: unknown key 'bogus'" "$T/out" || fail "config: $(cat "$T/out")"

# sumdbd add: 300 records offline, in one signed batch.
"$B/sumdbd" add -c "$T/k.conf" $mods >"$T/out" 2>&1 || fail "add: $(cat "$T/out")"
grep -q 'example.com/many v1.0.299: record 299' "$T/out" || fail "add: $(cat "$T/out")"
"$B/sumdbd" add -c "$T/k.conf" example.com/many@v1.0.7 >"$T/out" 2>&1 ||
    fail "re-adding a logged version"
grep -q 'record 7$' "$T/out" || fail "re-add: $(cat "$T/out")"
"$B/sumdbd" add -c "$T/k.conf" example.com/nope@v1.0.0 >"$T/out" 2>&1
[ $? = 1 ] || fail "add of a missing version did not exit 1"
grep -q 'not found' "$T/out" || fail "add missing: $(cat "$T/out")"
echo "$NAME: sumdbd add: 300 records, idempotent, missing versions exit 1: ok"

start_daemon
N=/sumdb/sumdb.test.example

# header URL NAME: the value of response header NAME.
header() {
	curl -s --path-as-is -D - -o /dev/null "$1" | tr -d '\r' |
	    sed -n "s/^$2: //Ip"
}

[ "$(status "$URL$N/supported")" = 200 ] || fail "supported"
[ "$(status "$URL/sumdb/sum.golang.org/supported")" = 404 ] || fail "unknown name"
[ "$(status "$URL/sumdb/sumdb.test.example.evil/supported")" = 404 ] || fail "name prefix"
[ "$(header "$URL/latest" Content-Type)" = "text/plain; charset=UTF-8" ] || fail "latest type"
header "$URL/latest" Cache-Control | grep -q 'max-age=5' || fail "latest cache"
curl -s "$URL/latest" >"$T/latest"
"$B/tests/notetool" verify "$vkey" "$T/latest" >"$T/tree" || fail "latest does not verify"
[ "$(sed -n 2p "$T/tree")" = 300 ] || fail "tree size $(sed -n 2p "$T/tree")"
cmp -s "$T/latest" - <<EOC || fail "/latest and $N/latest differ"
$(curl -s "$URL$N/latest")
EOC
# HEAD: headers, no body.
curl -s -I "$URL/latest" >"$T/head"
grep -q '^HTTP/1.1 200' "$T/head" && grep -qi '^Content-Length: ' "$T/head" || fail "HEAD"
[ "$(curl -s -X HEAD -o - "$URL/latest" --max-time 2 | wc -c)" = 0 ] || fail "HEAD has a body"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/latest")" = 405 ] || fail "POST"

# Lookups.
curl -s "$URL/lookup/example.com/many@v1.0.42" >"$T/lookup"
[ "$(head -1 "$T/lookup")" = 42 ] || fail "lookup id"
set -- $(grep '^example.com/many v1.0.42 ' "$T/hashes")
[ "$(sed -n 2p "$T/lookup")" = "$1 $2 $3" ] || fail "lookup line 1"
[ "$(sed -n 3p "$T/lookup")" = "$1 $2/go.mod $4" ] || fail "lookup line 2"
[ "$(header "$URL/lookup/example.com/many@v1.0.42" Content-Type)" = "text/plain; charset=UTF-8" ] || fail "lookup type"

# Tiles: full, partial as a prefix, data; beyond the tree is 404.
curl -s "$URL/tile/8/0/000" >"$T/t0"
[ "$(wc -c <"$T/t0")" = 8192 ] || fail "full tile size"
[ "$(header "$URL/tile/8/0/000" Content-Type)" = application/octet-stream ] || fail "tile type"
header "$URL/tile/8/0/000" Cache-Control | grep -q immutable || fail "full tile cache"
header "$URL/tile/8/0/001.p/44" Cache-Control | grep -q immutable && fail "partial tile cached forever"
curl -s "$URL/tile/8/0/001.p/44" >"$T/p44"
curl -s "$URL$N/tile/8/0/001.p/10" >"$T/p10"
[ "$(wc -c <"$T/p44")" = 1408 ] && [ "$(wc -c <"$T/p10")" = 320 ] || fail "partial sizes"
head -c 320 "$T/p44" | cmp -s - "$T/p10" || fail "partial tile is not a prefix"
[ "$(status "$URL/tile/8/0/001.p/45")" = 404 ] || fail "tile beyond the tree"
[ "$(status "$URL/tile/8/0/002")" = 404 ] || fail "tile 002"
[ "$(status "$URL/tile/8/1/000.p/1")" = 200 ] || fail "level 1"
[ "$(status "$URL/tile/8/1/000.p/2")" = 404 ] || fail "level 1 beyond"
curl -s "$URL/tile/8/data/000" >"$T/d0"
[ "$(header "$URL/tile/8/data/000" Content-Type)" = "text/plain; charset=UTF-8" ] || fail "data type"
# Each record then one newline, no ids: 256 records of 2 lines + blank.
[ "$(wc -l <"$T/d0")" = 768 ] || fail "data tile lines $(wc -l <"$T/d0")"
head -3 "$T/d0" | sed -n 1p | grep -q '^example.com/many v1.0.0 h1:' || fail "data tile starts with an id"
curl -s "$URL/tile/8/data/001.p/44" | tail -3 | head -1 | grep -q '^example.com/many v1.0.299 h1:' || fail "partial data tile"

# Hostile requests: 400 or 404, a one-line text body, nothing else.
for p in '/lookup/../../etc/passwd@v1.0.0' '/lookup/example.com/%2e%2e/x@v1.0.0' \
    '/lookup/example.com/!X@v1.0.0' '/lookup/example.com/a!@v1.0.0' \
    '/lookup/example.com/A@v1.0.0' '/lookup/example.com/m@v1.0' \
    '/lookup/example.com/m' '/lookup/@' '/lookup/example.com/m%00@v1.0.0' \
    '/tile/8/0/x999999999999999999999/000' '/tile/8/0/x123/x456/x789/x012/x345/678' \
    '/tile/8/0/1' '/tile/8/0/000.p/256' '/tile/8/0/000.p/0' '/tile/9/0/000' \
    '/tile/8/64/000' '/tile/8/data/-1' '/tile/../../../etc/passwd' \
    '/sumdb/sumdb.test.example/../../etc/passwd' '/etc/passwd' '/%' \
    "/lookup/example.com/$(head -c 5000 /dev/zero | tr '\0' a)@v1.0.0"; do
	s=$(status "$URL$p")
	case $s in 400|404) ;; *) fail "'$p' got $s, want 400 or 404";; esac
	lines=$(curl -s --path-as-is "$URL$p" | wc -l)
	[ "$lines" = 1 ] || fail "'$p': body is $lines lines"
done
# Over-long request lines and headers.
s=$(status "$URL/lookup/$(head -c 70000 /dev/zero | tr '\0' a)@v1.0.0")
case $s in 400|404|414|000) ;; *) fail "70 kB path got $s";; esac
s=$(status -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)" "$URL/latest")
case $s in 400|413|431|000) ;; *) fail "20 kB header got $s";; esac
# Many idle and slow connections do not stop the others.
python3 - "$PORT" "$URL" <<'EOP' || fail "idle connections"
import socket, subprocess, sys
port = int(sys.argv[1])
socks = []
for i in range(400):
    s = socket.create_connection(("127.0.0.1", port))
    if i % 2:
        s.send(b"GET /latest HTTP/1.1\r\nHost: x\r\n")  # never finished
    socks.append(s)
# Past max_connections_per_client (256) they are refused; another
# address is served.
out = subprocess.run(["curl", "-s", "-m", "5", "-o", "/dev/null", "-w",
    "%{http_code}", "--interface", "127.0.0.2",
    sys.argv[2] + "/lookup/example.com/many@v1.0.1"],
    capture_output=True, text=True).stdout
if out != "200":
    sys.exit("lookup with 400 idle connections open: " + out)
for s in socks:
    s.close()
EOP
[ "$(status "$URL/lookup/example.com/many@v1.0.2")" = 200 ] || fail "daemon stopped serving"
kill -0 "$DPID" || fail "daemon died"
echo "$NAME: headers, tiles, hostile requests and idle connections: ok"

# Real-size modules, fetched from the file:// GOPROXY and hashed: the
# records are the go command's, byte for byte, and served again so.
realmod_lookup "$URL" xtools
realmod_lookup "$URL" xmod
realmod_lookup "$URL" xtools
echo "$NAME: real-size modules (x/tools, x/mod) looked up: the go command's records: ok"
