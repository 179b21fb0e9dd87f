#!/bin/sh
# sumdbd audit: a go.sum made of real sum.golang.org records verifies
# against a mirror's store; an altered hash is a mismatch with the
# right explanation, in text and JSON; exit codes 0, 1 and 2.  Then each
# explanation from a situation built for it.  Acceptance 1 and 2 of the
# audit issue.
. "$(dirname "$0")/lib.sh"

KEY=sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8
"$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example >/dev/null 2>&1
mkdir -p "$T/www"
cp -r tests/testdata/real/cache-2022-tree9039468 "$T/www/real"
serve_http "$T/www" real/latest
SPORT=$HPORT
start_daemon "[mirror sum.golang.org]" "key = $KEY" \
    "url = http://127.0.0.1:$SPORT/real"
# The mirror stores what it verifies; go.sum is made of the real records.
for f in $(cd "$T/www/real/lookup" && find . -type f | sed 's|^\./||'); do
	[ "$(status "$URL/sumdb/sum.golang.org/lookup/$f")" = 200 ] || fail "lookup $f"
	sed -n '2,3p' "$T/www/real/lookup/$f" >>"$T/go.sum"
done
stop_daemon
sed -i '/^\[log\]/,/^goproxy/d' "$T/sumdbd.conf"
A() { "$B/sumdbd" audit -c "$T/sumdbd.conf" "$@"; }

A "$T/go.sum" >"$T/out" 2>&1
[ $? = 0 ] || fail "clean go.sum: exit $?: $(cat "$T/out")"
grep -q 'sum.golang.org at tree 9039468: 44 verified, 0 mismatch, 0 unknown, 0 skipped' "$T/out" ||
    fail "clean go.sum: $(tail -1 "$T/out")"
grep -q "go.sum:1: verified .* (record [0-9]*, tree 9039468)" "$T/out" || fail "record and tree"
echo "$NAME: 44 real go.sum lines verified against the mirror's store: ok"

# One zip hash altered (its go.mod line intact): a retag or repackaging.
awk 'NR == 5 { sub(/h1:./, "h1:+") } { print }' "$T/go.sum" >"$T/bad.sum"
cmp -s "$T/go.sum" "$T/bad.sum" && awk 'NR == 5 { sub(/h1:./, "h1:/") } { print }' "$T/go.sum" >"$T/bad.sum"
A "$T/bad.sum" >"$T/out" 2>&1
[ $? = 1 ] || fail "mismatch: exit code"
grep -q "bad.sum:5: mismatch .*: go.sum has h1:.*, the log h1:.*: the zip differs while go.mod matches" "$T/out" ||
    fail "mismatch text: $(grep ':5:' "$T/out")"
A --json "$T/bad.sum" >"$T/out.json" 2>&1
[ $? = 1 ] || fail "json exit code"
python3 - "$T/out.json" <<'EOP' || fail "mismatch JSON"
import json, sys
d = json.load(open(sys.argv[1]))
l = [x for x in d['lines'] if x['status'] == 'mismatch']
assert len(l) == 1 and l[0]['line'] == 5 and l[0]['kind'] == 'zip', l
assert 'retagged' in l[0]['explanation'] and l[0]['tree'] == 9039468
assert d['summary'] == {'verified': 43, 'mismatch': 1, 'unknown': 0, 'skipped': 0}
EOP
A /nonexistent/go.sum >/dev/null 2>&1
[ $? = 2 ] || fail "a missing file: not exit 2"
echo "garbage" >"$T/junk.sum"
A "$T/junk.sum" 2>"$T/err" >/dev/null
[ $? = 2 ] || fail "a malformed line: not exit 2"
grep -q "junk.sum:1: not a go.sum line" "$T/err" || fail "malformed: $(cat "$T/err")"
echo "$NAME: an altered hash: mismatch with its explanation, text and JSON; exit codes 0, 1, 2: ok"

# Each explanation, from its situation, against a private log (which
# knows every version it has), whose public records are hashed from
# the GOPROXY (public = goproxy: add takes them).
mkdir -p "$T/p"
"$B/xmodref" modtree "$T/proxy" example.com/hello@v1.0.0 \
    example.com/Upper/Mixed@v1.0.0 example.com/legacy@v2.0.0+incompatible \
    >"$T/hashes" || fail "modtree"
realmod_add "$T/proxy" xtools
cat >"$T/p.conf" <<EOC
[server]
$(db_conf "$T/p.db")
[log]
name = sumdb.test.example
key = $T/log.key
goproxy = file://$T/proxy
private = corp.example/*
public = goproxy
EOC
"$B/sumdbd" add -c "$T/p.conf" example.com/hello@v1.0.0 example.com/Upper/Mixed@v1.0.0 \
    example.com/legacy@v2.0.0+incompatible $(realmod_mv xtools) \
    >"$T/out" 2>&1 || fail "add: $(cat "$T/out")"
set -- $(grep '^example.com/hello ' "$T/hashes")
hz=$3
set -- $(grep '^example.com/Upper/Mixed ' "$T/hashes")
mm=$4
X=h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
cat >"$T/e.sum" <<EOS
example.com/hello v1.0.0 $hz
example.com/hello v1.0.0/go.mod h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=
example.com/Upper/Mixed v1.0.0 $X
example.com/Upper/Mixed v1.0.0/go.mod $mm
example.com/legacy v2.0.0+incompatible $X
example.com/legacy v2.0.0+incompatible/go.mod $X
example.com/never v1.9.9 $X
corp.example/secret v1.0.0 $X
$(realmod_record xtools)
EOS
"$B/sumdbd" audit -c "$T/p.conf" "$T/e.sum" >"$T/out" 2>&1
[ $? = 1 ] || fail "explanations: exit code"
grep -q "e.sum:1: verified" "$T/out" || fail "line 1: $(cat "$T/out")"
grep -q "e.sum:2: mismatch .*that of an empty file" "$T/out" || fail "empty go.mod: $(cat "$T/out")"
grep -q "e.sum:3: mismatch .*the zip differs while go.mod matches" "$T/out" || fail "retag: $(cat "$T/out")"
grep -q "e.sum:4: verified" "$T/out" || fail "line 4"
grep -q "e.sum:5: mismatch .*both the zip and go.mod differ" "$T/out" || fail "both: $(cat "$T/out")"
grep -q "e.sum:6: mismatch .*both the zip and go.mod differ" "$T/out" || fail "both 2"
grep -q "e.sum:7: unknown example.com/never v1.9.9: the log has never seen this version" "$T/out" ||
    fail "never seen: $(cat "$T/out")"
grep -q "e.sum:8: skipped corp.example/secret" "$T/out" || fail "private: $(cat "$T/out")"
grep -q "e.sum:9: verified" "$T/out" && grep -q "e.sum:10: verified" "$T/out" ||
    fail "real-size x/tools: the go command's lines not verified: $(cat "$T/out")"
echo "$NAME: empty go.mod, retag or repackaging, both differ, never seen, private: each explained; a real-size module verified: ok"

# POST /audit: the same report from the daemon, size and rate limited.
sed -i "/^database/a audit_rate = 8\naudit_max_body = 16k\nworkers = 1" "$T/sumdbd.conf"
restart_daemon
post() {	# post FILE [QUERY]: the status; the body in $T/post.out
	curl -s -o "$T/post.out" -w '%{http_code}' -X POST --data-binary "@$1" \
	    -H 'Content-Type: text/plain' "$URL/audit${2:-}"
}
[ "$(post "$T/go.sum")" = 200 ] || fail "POST /audit: $(cat "$T/post.out")"
python3 - "$T/post.out" <<'EOP' || fail "POST /audit: clean report"
import json, sys
d = json.load(open(sys.argv[1]))
assert d['db'] == 'sum.golang.org' and d['tree'] == 9039468, d
assert d['summary'] == {'verified': 44, 'mismatch': 0, 'unknown': 0, 'skipped': 0}
EOP
[ "$(post "$T/bad.sum" '?db=sum.golang.org')" = 200 ] || fail "POST /audit bad.sum"
A --json "$T/bad.sum" >"$T/cli.json" 2>&1
python3 - "$T/post.out" "$T/cli.json" <<'EOP' || fail "POST /audit differs from audit --json"
import json, sys
d, c = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
for l in d['lines'] + c['lines']:
    del l['file']
assert d == c, (d, c)
assert d['summary']['mismatch'] == 1
EOP
[ "$(post "$T/junk.sum")" = 400 ] || fail "POST junk: not 400"
[ "$(cat "$T/post.out")" = "go.sum:1: not a go.sum line" ] || fail "POST junk: $(cat "$T/post.out")"
[ "$(post "$T/go.sum" '?db=nope')" = 404 ] || fail "POST unknown db: not 404"
for i in $(seq 300); do cat "$T/go.sum"; done >"$T/big.sum"
[ "$(post "$T/big.sum")" = 413 ] || fail "POST oversized: not 413"
[ "$(status "$URL/audit")" = 405 ] || fail "GET /audit: not 405"
curl -s -D - -o /dev/null "$URL/audit" | grep -qi '^Allow: POST' || fail "GET /audit: Allow"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/latest")" = 405 ] || fail "POST /latest"
# Eight a minute: the ninth is refused with a Retry-After (a minute
# boundary may reset the count once, hence up to 17).
got=
for i in $(seq 17); do
	s=$(curl -s -D "$T/post.h" -o "$T/post.out" -w '%{http_code}' -X POST \
	    --data-binary "@$T/go.sum" "$URL/audit")
	[ "$s" = 429 ] && { got=1; break; }
	[ "$s" = 200 ] || fail "POST /audit under the rate: $s"
done
[ -n "$got" ] || fail "POST /audit: no 429 after 17 requests at 8 a minute"
grep -qi '^Retry-After: [0-9]' "$T/post.h" || fail "429 without Retry-After"
grep -q '^too many audits from this address' "$T/post.out" || fail "429 body: $(cat "$T/post.out")"
[ "$(status "$URL/sumdb/sum.golang.org/latest")" = 200 ] || fail "the rest after 429"
stop_daemon
echo "$NAME: POST /audit: the same JSON as audit --json; 400, 404, 405, 413 and 429: ok"

# audit --online: a store that lacks the lines learns them through the
# running daemon's mirror, verified as any lookup; what the upstream
# lacks is a version the log has never seen.
{ cat "$T/go.sum"; echo "example.com/never v1.0.0 $X"; } >"$T/online.sum"
A --online "$T/online.sum" >/dev/null 2>"$T/err"
[ $? = 2 ] || fail "--online with no daemon: not exit 2"
grep -q "^sumdbd audit: --online: http://127.0.0.1:$PORT/sumdb/sum.golang.org/lookup/" "$T/err" ||
    fail "--online with no daemon: $(cat "$T/err")"
db_rm "$T/sumdbd.db"
restart_daemon
A "$T/online.sum" >"$T/out" 2>&1
grep -q ': 0 verified, 0 mismatch, 45 unknown, 0 skipped' "$T/out" || fail "a fresh store: $(tail -1 "$T/out")"
A --online "$T/online.sum" >"$T/out" 2>&1
[ $? = 0 ] || fail "--online: exit $?: $(tail -3 "$T/out")"
grep -q 'sum.golang.org at tree 9039468: 44 verified, 0 mismatch, 1 unknown, 0 skipped' "$T/out" ||
    fail "--online: $(tail -1 "$T/out")"
grep -q "online.sum:45: unknown example.com/never v1.0.0: the log has never seen this version" "$T/out" ||
    fail "--online: the absent version: $(tail -3 "$T/out")"
[ "$(db_sql "$T/sumdbd.db" "SELECT count(*) FROM record")" -ge 22 ] || fail "--online: nothing stored"
stop_daemon
echo "$NAME: audit --online learns what the store lacks through the mirror, verified: ok"
