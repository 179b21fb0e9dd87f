#!/bin/sh
# SIGKILL at random points during bursts of mixed admissions into the
# private log: public versions verified by a lazy mirror of a test
# upstream with many modules, private versions hashed from a file://
# GOPROXY (among them Go's standard library, 19 MB), the same public
# versions asked twice at once, and lookups of admitted records and of
# /latest alongside.  After each restart fsck is clean, every public
# record has provenance naming the mirror's record with the same text,
# and every record answered before the kill is unchanged; every version
# asked is then admitted, each public one byte-identical to the
# upstream's.  Issue 14, acceptance 9; SUMDB_CRASH_ROUNDS kills (30).
. "$(dirname "$0")/lib.sh"

ROUNDS=${SUMDB_CRASH_ROUNDS:-30}
WP=2	# public appenders per round (and one asking the first's versions)
WV=2	# private appenders per round
PER=8	# versions each appender asks for, one after the other
UP=sumdb.upstream.example
LOG=sumdb.test.example
PRIVATE='corp.example/*,example.com/real/gostd'
PUB="path NOT LIKE 'corp.example/%' AND path <> 'example.com/real/gostd'"
mkdir -p "$T/home" "$T/notes" "$T/round" "$T/answered"
NPRIV=$((ROUNDS * WV * PER))
mods=
i=0
while [ $i -lt $NPRIV ]; do
	mods="$mods corp.example/burst@v1.0.$i"
	i=$((i + 1))
done
"$B/xmodref" modtree "$T/proxy" $mods >/dev/null || fail "module tree"
realmod_add "$T/proxy" gostd
GOSTD=$(realmod_mv gostd)
"$B/xmodref" modtree "$T/up" example.com/hello@v1.0.0 \
    example.com/Upper/Mixed@v1.0.0 example.com/legacy@v2.0.0+incompatible \
    >"$T/hashes" || fail "upstream modules"
# The upstream: 3 modules, then synthetic records of 1,000 module paths,
# example.com/gen/m(I % 1000) at v1.0.I; public version I of the test is
# synthetic record I.
upkey=$("$B/sumdbd" keygen -o "$T/up.key" $UP 2>/dev/null) || fail "keygen"
vkey=$("$B/sumdbd" keygen -o "$T/log.key" $LOG 2>/dev/null) || fail "keygen"
NPUB=$((ROUNDS * WP * PER))
start_upstream -gen $((NPUB + 1000)) -mods "$T/hashes"
U=http://127.0.0.1:$UPORT
pubmv() { echo "example.com/gen/m$(($1 % 1000))@v1.0.$1"; }
start_daemon "[mirror $UP]" "key = $upkey" "url = $U" "poll = 1s"

# keep FILE: a signed checkpoint served before a kill, kept once by content.
keep() {
	h=$(sha256sum "$1" | cut -c1-16)
	[ -e "$T/notes/$h" ] || cp "$1" "$T/notes/$h"
}
# asker NAME M@V...: look each up in turn until one fails; an answer
# counts (NAME.N.code) only when whole.
asker() {
	an=$1
	shift
	k=0
	for mv; do
		curl -s -o "$T/round/$an.$k" -w '%{http_code}' "$URL/lookup/$mv" \
		    >"$T/round/$an.$k.c" || return 0
		echo "$mv" >"$T/round/$an.$k.mv"
		mv "$T/round/$an.$k.c" "$T/round/$an.$k.code"
		k=$((k + 1))
	done
}
# poll_latest: /latest, 100 times or until it fails, into n.N.
poll_latest() {
	j=0
	while [ $j -lt 100 ]; do
		curl -sf -o "$T/round/n.$j" "$URL/latest" || { rm -f "$T/round/n.$j"; return 0; }
		j=$((j + 1))
	done
}
# bg CMD...: CMD in the background, its pid added to bpids.
bg() {
	"$@" &
	bpids="$bpids $!"
}
# appenders KIND: how many appenders ask for versions of KIND (pub, priv).
appenders() {
	if [ "$1" = pub ]; then echo $WP; else echo $WV; fi
}
# versions KIND ROUND W: the PER versions the appender W of KIND asks
# in ROUND; without W, those of all its appenders.
versions() {
	if [ $# = 2 ]; then
		vw=0
		while [ $vw -lt "$(appenders "$1")" ]; do
			versions "$1" "$2" $vw
			vw=$((vw + 1))
		done
		return
	fi
	k=0
	while [ $k -lt $PER ]; do
		if [ "$1" = pub ]; then
			pubmv $(( ($2 * WP + $3) * PER + k ))
		else
			echo "corp.example/burst@v1.0.$(( ($2 * WV + $3) * PER + k ))"
		fi
		k=$((k + 1))
	done
}

round=0
kills=0
midway=0	# kills with some of the round's admissions answered, some not
answered=0	# answers from before the kills, checked after
bigdone=	# the 19 MB private module answered before a kill
bigkills=0	# kills that met its fetch, hashing or append
: >"$T/admitted"
while [ $round -lt $ROUNDS ]; do
	rm -rf "$T/round"
	mkdir "$T/round"
	bpids=
	for kind in pub priv; do
		w=0
		while [ $w -lt "$(appenders $kind)" ]; do
			bg asker "$kind$w" $(versions $kind $round $w)
			w=$((w + 1))
		done
	done
	bg asker d $(versions pub $round 0)
	# Records admitted in earlier rounds, asked again, and /latest.
	[ ! -s "$T/admitted" ] || bg asker a $(shuf -n 20 -r "$T/admitted")
	bg poll_latest
	[ -n "$bigdone" ] || [ $round -ge 10 ] || bg asker big "$GOSTD"
	# A random moment, 0 to 299 ms in.
	sleep "0.$(printf %03d $(( $(od -An -N2 -tu2 /dev/urandom) % 300 )))"
	kill -9 "$DPID"
	wait "$DPID" 2>/dev/null
	kills=$((kills + 1))
	wait $bpids 2>/dev/null
	restart_daemon
	# The store as the kill left it: whole, every public record with
	# its provenance.
	"$B/sumdbd" fsck -c "$T/sumdbd.conf" >"$T/out" 2>&1 ||
	    fail "round $round: fsck: $(cat "$T/out")"
	provenance_ok "$T/sumdbd.db" $LOG $UP "$PUB"
	# Every answer from before the kill stands: the same id and record.
	ok=0
	for f in "$T"/round/*.code; do
		[ -e "$f" ] || continue
		[ "$(cat "$f")" = 200 ] || continue
		a=${f%.code}
		mv=$(cat "$a.mv")
		sed '1,4d' "$a" >"$a.note"
		keep "$a.note"
		curl -s -o "$T/now" -w '%{http_code}' "$URL/lookup/$mv" >"$T/code"
		[ "$(cat "$T/code")" = 200 ] ||
		    fail "round $round: $mv, answered before the kill: $(cat "$T/code") after"
		head -3 "$T/now" >"$T/now.3"
		head -3 "$a" | cmp -s - "$T/now.3" ||
		    fail "round $round: $mv answered before the kill differs after: $(head -3 "$a") / $(head -3 "$T/now")"
		case $a in */a.*) ;; *) ok=$((ok + 1));; esac
		answered=$((answered + 1))
	done
	for f in "$T"/round/n.*; do
		[ -s "$f" ] && keep "$f"
	done
	[ $ok -gt 0 ] && [ $ok -lt $(( (WP + 1 + WV) * PER )) ] && midway=$((midway + 1))
	# And the work completes: every version of the round is admitted.
	for mv in $(versions pub $round) $(versions priv $round); do
		s=$(curl -s -o /dev/null -w '%{http_code}' "$URL/lookup/$mv")
		[ "$s" = 200 ] || fail "round $round: lookup of $mv: $s"
		echo "$mv" >>"$T/admitted"
	done
	if [ -z "$bigdone" ] && [ "$(cat "$T/round/big.0.code" 2>/dev/null)" = 200 ]; then
		bigdone=1
		realmod_lookup "$URL" gostd
	elif [ -z "$bigdone" ] && [ $round -lt 10 ]; then
		bigkills=$((bigkills + 1))
	fi
	round=$((round + 1))
done
[ -n "$bigdone" ] || realmod_lookup "$URL" gostd
provenance_ok "$T/sumdbd.db" $LOG $UP "$PUB"
"$B/sumdbd" fsck -c "$T/sumdbd.conf" >"$T/out" 2>&1 || fail "fsck: $(cat "$T/out")"
# Each public record is the upstream's, byte for byte.
npub=0
sqlite3 -separator ' ' "$T/sumdbd.db" "SELECT r.path, r.version, hex(r.text)
    FROM record r JOIN log l ON r.log = l.id WHERE l.name = '$LOG' AND $PUB" \
    >"$T/pub" || fail "sqlite3"
while read -r p v hx; do
	curl -sf -o "$T/uplk" "$U/lookup/$p@$v" || fail "the upstream's lookup of $p@$v"
	[ "$(sed -n '2,/^$/p' "$T/uplk" | sed '$d' | od -An -tx1 -v | tr -d ' \n' |
	    tr a-f A-F)" = "$hx" ] || fail "$p@$v: not the upstream's record"
	npub=$((npub + 1))
done <"$T/pub"
[ "$npub" = $((ROUNDS * WP * PER)) ] || fail "$npub public records, want $((ROUNDS * WP * PER))"
[ -n "$(ls "$T/notes")" ] || fail "no checkpoint served before any of the kills"
"$B/xmodref" consistent "$vkey" "$URL" "$T"/notes/* >"$T/out" 2>&1 ||
    fail "checkpoints served before the kills: $(cat "$T/out")"
echo "$NAME: $kills kills with SIGKILL during mixed admissions ($midway midway through a round's); after each fsck clean and every public record with the mirror's record as provenance; $answered answers from before the kills unchanged; $bigkills kills before the 19 MB private module was answered, its record the go command's; all $npub public records the upstream's: ok"
