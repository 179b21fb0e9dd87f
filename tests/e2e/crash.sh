#!/bin/sh
# Restarts and SIGKILL at random points during appends: afterwards the
# daemon signs again, fsck is clean, every checkpoint served before the
# kill (by /latest and inside lookup answers) is contained in the new
# tree (checked with x/mod through the tiles), every record answered
# before the kill is unchanged, all the lookups complete, and a go client
# that cached an old checkpoint accepts the new records.  Acceptance 4
# of the private log issue; SUMDB_CRASH_ROUNDS kills (default 50).
. "$(dirname "$0")/lib.sh"

ROUNDS=${SUMDB_CRASH_ROUNDS:-50}
W=4	# concurrent appenders per round
PER=8	# versions each appender asks for, one after the other
mkdir -p "$T/home" "$T/notes" "$T/round"
mods="example.com/hello@v1.0.0 example.com/later@v1.0.0 example.com/later@v1.0.1"
i=0
while [ $i -lt $((ROUNDS * W * PER + 1)) ]; do
	mods="$mods example.com/burst@v1.0.$i"
	i=$((i + 1))
done
"$B/xmodref" modtree "$T/proxy" $mods >/dev/null || fail "module tree"
# Real-size modules: Go's standard library (19 MB, about 0.3 s to fetch
# and hash: looked up in the first 10 rounds, until it is answered
# before a kill, then logged), and x/tools.
realmod_add "$T/proxy" gostd xtools
GOSTD=$(realmod_mv gostd)
vkey=$("$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example 2>/dev/null) ||
    fail "keygen"
start_daemon

# gomod PATH VERSION: each go client, with its GOPATH kept across the
# test, downloads PATH@VERSION.
gomod() {
	for_each_go gomod1 "$@"
}
gomod1() {
	mkdir -p "$T/c.$GOV"
	printf 'module example.com/c\n\ngo 1.19\n\nrequire %s %s\n' "$1" "$2" \
	    >"$T/c.$GOV/go.mod"
	rm -f "$T/c.$GOV/go.sum"
	(cd "$T/c.$GOV" && goenv "$T/gp.$GOV" GOPROXY="file://$T/proxy" \
	    GOSUMDB="$vkey $URL" go mod download all) >"$T/out" 2>&1 ||
	    fail "go mod download $1@$2: $(cat "$T/out")"
}

# keep FILE: a signed checkpoint served before a kill, kept once by content.
keep() {
	h=$(sha256sum "$1" | cut -c1-16)
	[ -e "$T/notes/$h" ] || cp "$1" "$T/notes/$h"
}

# A client that caches the log's checkpoint, then a clean restart.
gomod example.com/hello v1.0.0
stop_daemon
restart_daemon
gomod example.com/later v1.0.0
echo "$NAME: restart: the same go clients ($GOVS) accept new records: ok"

round=0
kills=0
midway=0	# kills that came with some of the round's lookups answered, some not
served=0	# checkpoints received before the kills (with repeats)
answered=0	# lookups answered before the kills, checked after
bigdone=	# the 19 MB module answered before a kill
bigkills=0	# kills that met its fetch, hashing or append
while [ $round -lt $ROUNDS ]; do
	rm -rf "$T/round"
	mkdir "$T/round"
	# W appenders, each looking up its PER new versions in turn (each a
	# miss: fetched, hashed, appended, signed), and /latest polled, all
	# until the kill.
	w=0
	while [ $w -lt $W ]; do
		(k=0; while [ $k -lt $PER ]; do
			v=$(( (round * W + w) * PER + k ))
			# (the status kept only for whole answers)
			curl -s -o "$T/round/lk.$v" -w '%{http_code}' \
			    "$URL/lookup/example.com/burst@v1.0.$v" >"$T/round/c.$v" &&
			    mv "$T/round/c.$v" "$T/round/lk.$v.code" || break
			k=$((k + 1))
		done) &
		w=$((w + 1))
	done
	(j=0; while [ $j -lt 200 ]; do
		curl -sf -o "$T/round/n.$j" "$URL/latest" || { rm -f "$T/round/n.$j"; break; }
		j=$((j + 1))
	done) &
	[ -n "$bigdone" ] || [ $round -ge 10 ] || curl -s -o "$T/round/big" -w '%{http_code}' \
	    "$URL/lookup/$GOSTD" >"$T/round/big.code" &
	# A random moment, 0 to 299 ms in.
	sleep "0.$(printf %03d $(( $(od -An -N2 -tu2 /dev/urandom) % 300 )))"
	kill -9 "$DPID"
	kills=$((kills + 1))
	wait 2>/dev/null
	restart_daemon
	# The store is whole.
	"$B/sumdbd" fsck -c "$T/sumdbd.conf" >"$T/out" 2>&1 ||
	    fail "round $round: fsck: $(cat "$T/out")"
	# What was served before the kill: checkpoints from /latest and
	# from lookup answers; the records answered.
	for f in "$T"/round/n.*; do
		[ -s "$f" ] || continue
		keep "$f"
		served=$((served + 1))
	done
	ok=0
	for f in "$T"/round/lk.*.code; do
		[ -e "$f" ] || continue
		lk=${f%.code}
		if [ "$(cat "$f")" = 200 ]; then
			sed '1,4d' "$lk" >"$lk.note"
			keep "$lk.note"
			served=$((served + 1))
			ok=$((ok + 1))
		fi
	done
	[ $ok -gt 0 ] && [ $ok -lt $((W * PER)) ] && midway=$((midway + 1))
	# Nothing served before the kill is contradicted (an early kill may
	# come before anything was answered: nothing to check yet).
	if [ -n "$(ls "$T/notes")" ]; then
		"$B/xmodref" consistent "$vkey" "$URL" "$T"/notes/* >"$T/out" 2>&1 ||
		    fail "round $round: $(cat "$T/out")"
	fi
	# And the work completes: every version of the round is logged, and
	# those answered before the kill keep their id and record.
	v=$((round * W * PER))
	while [ $v -lt $(( (round + 1) * W * PER )) ]; do
		curl -s -o "$T/now" -w '%{http_code}' \
		    "$URL/lookup/example.com/burst@v1.0.$v" >"$T/code"
		[ "$(cat "$T/code")" = 200 ] ||
		    fail "round $round: lookup of burst v1.0.$v: $(cat "$T/code")"
		if [ "$(cat "$T/round/lk.$v.code" 2>/dev/null)" = 200 ]; then
			head -3 "$T/now" >"$T/now.3"
			head -3 "$T/round/lk.$v" | cmp -s - "$T/now.3" ||
			    fail "round $round: burst v1.0.$v answered before the kill differs after"
			answered=$((answered + 1))
		fi
		v=$((v + 1))
	done
	if [ -z "$bigdone" ] && [ "$(cat "$T/round/big.code")" = 200 ]; then
		realmod_record gostd >"$T/big.want"
		sed -n 2,3p "$T/round/big" | cmp -s - "$T/big.want" ||
		    fail "round $round: $GOSTD answered before the kill: $(head -3 "$T/round/big")"
		realmod_lookup "$URL" gostd
		bigdone=1
	elif [ -z "$bigdone" ]; then
		bigkills=$((bigkills + 1))
		if [ $round = 9 ]; then
			realmod_lookup "$URL" gostd
			bigdone=1
		fi
	fi
	round=$((round + 1))
done
[ -n "$bigdone" ] || realmod_lookup "$URL" gostd
notes=$(ls "$T/notes" | wc -l)
[ "$notes" -gt 0 ] || fail "no checkpoint served before any of the kills"
"$B/xmodref" consistent "$vkey" "$URL" "$T"/notes/* >/dev/null ||
    fail "final consistency"
gomod example.com/burst "v1.0.$((ROUNDS * W * PER))"
gomod example.com/later v1.0.1
gomod "$(realmod_field xtools 2)" "$(realmod_field xtools 3)"
for f in "$T"/c.*/go.sum; do
	realmod_gosum xtools "$f"
done
echo "$NAME: $kills kills with SIGKILL during appends ($midway midway through a round's lookups), fsck clean after each; $served checkpoints served before them ($notes distinct) all contained in the later trees; $answered records answered before a kill unchanged; $bigkills kills before the 19 MB module was answered, its record the go command's; the go clients' ($GOVS) cached checkpoints still valid: ok"
