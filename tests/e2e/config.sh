#!/bin/sh
# Config errors: each bad file is refused by the daemon (-n and -d, exit
# 1) and by a subcommand (exit 2) with exactly one line on stderr,
# FILE:LINE: reason, and nothing else (under SAN=1, no leak report:
# what was read before the error is freed).
. "$(dirname "$0")/lib.sh"

# bad NAME LINE PATTERN: the config in $T/bad.conf is refused at LINE.
bad() {
	for how in "-n" "-d" "fsck"; do
		case $how in
		fsck) want=2 ;;
		*) want=1 ;;
		esac
		if [ "$how" = fsck ]; then
			"$B/sumdbd" fsck -c "$T/bad.conf" >"$T/out" 2>"$T/err"
		else
			"$B/sumdbd" $how -c "$T/bad.conf" >"$T/out" 2>"$T/err"
		fi
		rc=$?
		[ $rc = $want ] || fail "$1 ($how): exit $rc, want $want: $(cat "$T/err")"
		[ "$(wc -l <"$T/err")" = 1 ] ||
		    fail "$1 ($how): not one line on stderr: $(head -c 600 "$T/err")"
		grep -q "^$T/bad.conf:$2: $3" "$T/err" ||
		    fail "$1 ($how): $(cat "$T/err"), want $T/bad.conf:$2: $3"
	done
	echo "$NAME: $1: refused at line $2, one line, nothing else: ok"
}
printf '[server]\nlisten = 127.0.0.1:1\nbogus = 1\n' >"$T/bad.conf"
bad "unknown key" 3 "unknown key 'bogus'"
printf '[server]\nlisten = 127.0.0.1:1\nmax_connections = 0\n' >"$T/bad.conf"
bad "value out of bounds" 3 ""
printf '[server]\nlisten = 127.0.0.1:1\nlisten = 127.0.0.1:2\n' >"$T/bad.conf"
bad "key set twice" 3 "key 'listen' in \[server\] set twice"
printf '[server]\ndatabase = x.db\n[mirror a.example]\nkey = k\nurl = http://a\nmode = sideways\n' >"$T/bad.conf"
bad "bad mirror mode" 6 "mode: 'sideways' is not lazy or full"
printf '[server]\ndatabase = x.db\n[mirror a.example]\nurl = http://a\nnope = 1\n' >"$T/bad.conf"
bad "unknown mirror key" 5 "unknown key 'nope' in section \[mirror a.example\]"
printf '[server]\ndatabase = x.db\n[log]\nname = a.example\ngoproxy = file:///x\nprivate = a/*\nwhat\n' >"$T/bad.conf"
bad "syntax error" 7 "syntax error"
