#!/bin/sh
# `make run`: one GOSUMDB for every module.  A private checksum database
# sumdb.demo.example on 127.0.0.1:8080 logs the private module
# corp.example/hello, hashed from a file:// GOPROXY, and admits the public
# module example.com/greet only as the verified record of a mirror of
# sumdb.public.example: a test upstream (tests/upstream) on
# 127.0.0.1:8081 that stands in for sum.golang.org.  The go command then
# downloads both with GOSUMDB set to the private log alone, and the demo
# prints its go.sum and the lookups.  State (keys, the store, the
# GOPROXY) is kept in build/demo, so it survives restarts; Ctrl-C stops
# it.  The tests (tests/e2e/demo.sh) move it with DEMO_DIR, DEMO_LISTEN,
# DEMO_UPSTREAM, SUMDBD, UPSTREAM and GO.
set -eu
D=${DEMO_DIR:-$(pwd)/build/demo}
LISTEN=${DEMO_LISTEN:-127.0.0.1:8080}
UPADDR=${DEMO_UPSTREAM:-127.0.0.1:8081}
SUMDBD=${SUMDBD:-./sumdbd}
UPSTREAM=${UPSTREAM:-build/upstream}
GO=${GO:-go}
U=http://$LISTEN
mkdir -p "$D"
D=$(cd "$D" && pwd)
if [ ! -f "$D/log.key" ]; then
	"$SUMDBD" keygen -o "$D/log.key" sumdb.demo.example >"$D/vkey"
fi
if [ ! -f "$D/up.key" ]; then
	"$SUMDBD" keygen -o "$D/up.key" sumdb.public.example >"$D/upvkey"
fi
vkey=$(cat "$D/vkey")
upvkey=$(cat "$D/upvkey")

# The GOPROXY: two versions of the private module and one of the public
# one; the public one's record (its h1: hashes, as dirhash computes them)
# goes to the upstream's log.
python3 - "$D/proxy" "$D/public.mods" <<'EOP'
import base64, hashlib, os, sys, zipfile
root, mods = sys.argv[1], sys.argv[2]

def h1(files):
    # golang.org/x/mod/sumdb/dirhash.Hash1 over (name, content) pairs.
    lines = ''.join('%s  %s\n' % (hashlib.sha256(c).hexdigest(), n)
                    for n, c in sorted(files))
    return 'h1:' + base64.b64encode(
        hashlib.sha256(lines.encode()).digest()).decode()

def module(path, version, name, body):
    d = os.path.join(root, path, '@v')
    os.makedirs(d, exist_ok=True)
    mod = ('module %s\n\ngo 1.19\n' % path).encode()
    src = body.encode()
    with open(os.path.join(d, version + '.mod'), 'wb') as f:
        f.write(mod)
    with open(os.path.join(d, version + '.info'), 'w') as f:
        f.write('{"Version":"%s","Time":"2024-01-01T00:00:00Z"}\n' % version)
    p = '%s@%s/' % (path, version)
    files = [(p + 'go.mod', mod), (p + name, src)]
    with zipfile.ZipFile(os.path.join(d, version + '.zip'), 'w') as z:
        for n, c in files:
            z.writestr(n, c)
    vs = os.path.join(d, 'list')
    old = open(vs).read().split() if os.path.exists(vs) else []
    with open(vs, 'w') as f:
        f.write(''.join(v + '\n' for v in sorted(set(old + [version]))))
    return '%s %s %s %s\n' % (path, version, h1(files),
                              h1([('go.mod', mod)]))

for v in ('v1.0.0', 'v1.1.0'):
    module('corp.example/hello', v, 'hello.go',
           'package hello\n\nfunc Hello() string { return "hello %s" }\n' % v)
with open(mods, 'w') as f:
    f.write(module('example.com/greet', 'v1.0.0', 'greet.go',
                   'package greet\n\nfunc Greet() string { return "greetings" }\n'))
EOP

cat >"$D/sumdbd.conf" <<EOC
[server]
listen = $LISTEN
database = $D/sumdbd.db

[log]
name = sumdb.demo.example
key = $D/log.key
goproxy = file://$D/proxy
private = corp.example/*

; With exactly one mirror, [log] public names it: every path outside
; [log] private is admitted only as that mirror's verified record.
[mirror sumdb.public.example]
key = $upvkey
url = http://$UPADDR
EOC

UPID= DPID=
stop() {
	trap - EXIT INT TERM
	for p in $DPID $UPID; do kill "$p" 2>/dev/null || :; done
	wait 2>/dev/null || :
}
trap stop EXIT
trap 'exit 0' INT TERM
# The upstream logs the public module (after 20 records of its own: it
# wants at least 20); the same input gives the same tree and signature
# at every start.
"$UPSTREAM" -mods "$D/public.mods" -gen 20 "$UPADDR" "$D/up.key" \
    2>"$D/upstream.log" &
UPID=$!
echo "$UPID" >"$D/upstream.pid"
"$SUMDBD" -d -c "$D/sumdbd.conf" 2>"$D/sumdbd.log" &
DPID=$!
echo "$DPID" >"$D/sumdbd.pid"
# up URL: wait until URL answers (10 s).
up() {
	i=0
	until curl -sf -o /dev/null "$1"; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "demo: $1 does not answer; see $D/*.log" >&2; exit 1; }
		sleep 0.1
	done
}
up "http://$UPADDR/latest"
up "$U/healthz"

# The go command with the private log as its one GOSUMDB: a fresh
# GOPATH, no GONOSUMDB, GOPRIVATE or GONOPROXY.
rm -rf "$D/gopath" "$D/app"
mkdir -p "$D/app" "$D/home"
cat >"$D/app/go.mod" <<EOG
module example.com/app

go 1.19

require (
	corp.example/hello v1.1.0
	example.com/greet v1.0.0
)
EOG
cat >"$D/app/main.go" <<'EOG'
package main

import (
	"fmt"

	"corp.example/hello"
	"example.com/greet"
)

func main() { fmt.Println(hello.Hello() + ", " + greet.Greet()) }
EOG
gocmd() {
	env -i PATH="$PATH" HOME="$D/home" GOPATH="$D/gopath" \
	    GOCACHE="$D/gopath/cache" GOENV=off GO111MODULE=on \
	    GOTOOLCHAIN=local GOFLAGS='-mod=mod -modcacherw' \
	    GOPROXY="file://$D/proxy" GOSUMDB="$vkey $U" GONOSUMDB= \
	    GOPRIVATE= GONOPROXY= GOINSECURE= CGO_ENABLED=0 "$GO" "$@"
}
goversion=$(cd "$D/app" && gocmd env GOVERSION 2>"$D/go.log") ||
    { echo "demo: $GO env:" >&2; cat "$D/go.log" >&2; exit 1; }
(cd "$D/app" && gocmd build -o app . 2>"$D/go.log") ||
    { echo "demo: go build failed:" >&2; cat "$D/go.log" >&2; exit 1; }

cat <<EOM
sumdbd demo: one GOSUMDB for every module, on $U
  private log sumdb.demo.example; state in $D (delete it to start over)
  [log] private = corp.example/*: hashed from the GOPROXY file://$D/proxy
  every other path: only sumdb.public.example's verified record, from its
  mirror in this sumdbd (the upstream on $UPADDR stands in for
  sum.golang.org)

The go command ($goversion), with GONOSUMDB and GOPRIVATE unset and only
  GOSUMDB="$vkey $U"
  GOPROXY=file://$D/proxy
downloaded corp.example/hello v1.1.0 (private) and example.com/greet
v1.0.0 (public), verified both against the private log and built
$D/app, which says "$("$D/app/app")".  Its go.sum:

$(sed 's/^/  /' "$D/app/go.sum")

The private log's lookups (id, record, signed checkpoint):

  $U/lookup/corp.example/hello@v1.1.0
$(curl -s "$U/lookup/corp.example/hello@v1.1.0" | sed 's/^/    /')

  $U/lookup/example.com/greet@v1.0.0
$(curl -s "$U/lookup/example.com/greet@v1.0.0" | sed 's/^/    /')

The same public record, as sumdb.public.example serves it:

  http://$UPADDR/lookup/example.com/greet@v1.0.0
$(curl -s "http://$UPADDR/lookup/example.com/greet@v1.0.0" | sed 's/^/    /')

A go command verifies against it with:
  export GOSUMDB="$vkey $U"
  export GOPROXY="file://$D/proxy"
or, finding the database through the proxy route:
  export GOSUMDB="$vkey"
  export GOPROXY="$U,file://$D/proxy"
  unset GONOSUMDB GOPRIVATE
then, in a module:  go get corp.example/hello@v1.0.0 example.com/greet@v1.0.0

Ctrl-C stops the daemon and the upstream.
EOM
wait "$DPID"
