#!/bin/sh
# Keys made by `sumdbd keygen` against golang.org/x/mod (xmodref), and
# notes signed by each side verified by the other.  Usage: keys.sh BUILDDIR
set -u
B=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "keys.sh: FAIL: $*" >&2; exit 1; }

vkey=$("$B/sumdbd" keygen -o "$T/log.key" sumdb.corp.example 2>"$T/err") ||
    fail "keygen exited $?: $(cat "$T/err")"
[ "$(stat -c %a "$T/log.key")" = 600 ] || fail "key file mode is not 0600"
grep -q '^PRIVATE+KEY+sumdb.corp.example+[0-9a-f]\{8\}+' "$T/log.key" ||
    fail "key file does not hold a PRIVATE+KEY+ key"
case $vkey in sumdb.corp.example+[0-9a-f]*+*) ;; *) fail "bad vkey '$vkey'";; esac

# x/mod parses both keys, and they sign and verify each other.
"$B/xmodref" keycheck "$T/log.key" "$vkey" >/dev/null || fail "x/mod refuses the keys"

# Our signature, x/mod's note.Open; x/mod's signature, our note_open.
printf 'go.sum database tree\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n' >"$T/text"
"$B/tests/notetool" sign "$T/log.key" "$T/text" >"$T/ours" || fail "notetool sign"
"$B/xmodref" open "$vkey" "$T/ours" >"$T/text2" || fail "x/mod refuses our note"
cmp -s "$T/text" "$T/text2" || fail "x/mod reads another text"
"$B/xmodref" sign "$T/log.key" "$T/text" >"$T/theirs" || fail "x/mod sign"
cmp -s "$T/ours" "$T/theirs" || fail "Ed25519 notes differ between x/mod and us"
"$B/tests/notetool" verify "$vkey" "$T/theirs" >"$T/text3" || fail "we refuse x/mod's note"
cmp -s "$T/text" "$T/text3" || fail "we read another text"

# A flipped byte makes both refuse.
sed 's/tree/trEe/' "$T/ours" >"$T/bad"
"$B/xmodref" open "$vkey" "$T/bad" >/dev/null 2>&1 && fail "x/mod accepts a forged note"
"$B/tests/notetool" verify "$vkey" "$T/bad" >/dev/null 2>&1 && fail "we accept a forged note"

# keygen never overwrites, and refuses bad names.
"$B/sumdbd" keygen -o "$T/log.key" sumdb.corp.example >/dev/null 2>&1
[ $? = 2 ] || fail "keygen overwrote an existing key file"
"$B/sumdbd" keygen -o "$T/x.key" 'bad name' >/dev/null 2>&1
[ $? = 2 ] || fail "keygen accepted a name with a space"
"$B/sumdbd" keygen -o "$T/y.key" 'https://x.example' >/dev/null 2>&1
[ $? = 2 ] || fail "keygen accepted a URL as a name"
(cd "$T" && "$B/sumdbd" keygen corp.example/go >/dev/null 2>&1) || fail "keygen default file"
[ -f "$T/corp.example_go.key" ] || fail "keygen did not write NAME.key"
echo "keys.sh: ok"
