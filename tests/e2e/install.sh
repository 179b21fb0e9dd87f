#!/bin/sh
# make install DESTDIR=... PREFIX=/usr: the daemon (0755, runs), both man
# pages, the example config (never the config itself, which a second
# install leaves alone), the systemd unit with ExecStart under PREFIX;
# nothing else, nothing outside DESTDIR; twice works.  Another PREFIX,
# MANDIR and UNITDIR land where they say.
. "$(dirname "$0")/lib.sh"

R=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "$B" && pwd)
case ${B##*/} in build-san*) san=1 ;; *) san=0 ;; esac

# inst ARGS...: make install from the repository with the test's build.
inst() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$R" O="$B" SAN=$san \
	    install "$@" >"$T/make.log" 2>&1 ||
	    fail "make install $*: $(tail -5 "$T/make.log")"
}

# The host's files of the same names, before: an install into DESTDIR
# must not touch them.
host() {
	for f in /usr/sbin/sumdbd /usr/share/man/man8/sumdbd.8 \
	    /usr/share/man/man5/sumdbd.conf.5 /etc/sumdbd \
	    /etc/sumdbd/sumdbd.conf.example /usr/lib/systemd/system/sumdbd.service \
	    /opt/sumdbd; do
		ls -ld --time-style=full-iso "$f" 2>/dev/null || echo "no $f"
	done
}
host >"$T/host.before"

ROOT=$T/root
inst DESTDIR="$ROOT" PREFIX=/usr
# mode FILE: its permission bits, in octal.
mode() { stat -c %a "$1"; }
for f in usr/sbin/sumdbd usr/share/man/man8/sumdbd.8 \
    usr/share/man/man5/sumdbd.conf.5 etc/sumdbd/sumdbd.conf.example \
    usr/lib/systemd/system/sumdbd.service; do
	[ -f "$ROOT/$f" ] || fail "$f was not installed"
done
[ "$(mode "$ROOT/usr/sbin/sumdbd")" = 755 ] ||
    fail "sbin/sumdbd has mode $(mode "$ROOT/usr/sbin/sumdbd")"
for f in usr/share/man/man8/sumdbd.8 usr/share/man/man5/sumdbd.conf.5 \
    etc/sumdbd/sumdbd.conf.example usr/lib/systemd/system/sumdbd.service; do
	[ "$(mode "$ROOT/$f")" = 644 ] || fail "$f has mode $(mode "$ROOT/$f")"
done
"$ROOT/usr/sbin/sumdbd" -h >"$T/out" 2>&1 || fail "sumdbd -h: $(cat "$T/out")"
grep -q '^usage: sumdbd' "$T/out" || fail "sumdbd -h: $(cat "$T/out")"
echo "$NAME: sbin/sumdbd, mode 0755, runs: ok"

cmp -s "$R/man/sumdbd.8" "$ROOT/usr/share/man/man8/sumdbd.8" || fail "man8/sumdbd.8 differs"
cmp -s "$R/man/sumdbd.conf.5" "$ROOT/usr/share/man/man5/sumdbd.conf.5" ||
    fail "man5/sumdbd.conf.5 differs"
echo "$NAME: man8/sumdbd.8 and man5/sumdbd.conf.5: ok"

cmp -s "$R/config/sumdbd.conf.example" "$ROOT/etc/sumdbd/sumdbd.conf.example" ||
    fail "etc/sumdbd/sumdbd.conf.example differs"
[ ! -e "$ROOT/etc/sumdbd/sumdbd.conf" ] || fail "install made etc/sumdbd/sumdbd.conf"
"$ROOT/usr/sbin/sumdbd" -n -c "$ROOT/etc/sumdbd/sumdbd.conf.example" >"$T/out" 2>&1 ||
    fail "the installed example: $(cat "$T/out")"
echo "$NAME: etc/sumdbd/sumdbd.conf.example, no sumdbd.conf: ok"

U=$ROOT/usr/lib/systemd/system/sumdbd.service
grep -qxF 'ExecStart=/usr/sbin/sumdbd -d -c /etc/sumdbd/sumdbd.conf' "$U" ||
    fail "unit: $(grep '^ExecStart' "$U")"
grep -q /usr/local "$U" && fail "unit still names /usr/local: $(grep /usr/local "$U")"
sed 's|/usr/sbin/sumdbd|/usr/local/sbin/sumdbd|' "$U" | cmp -s - "$R/systemd/sumdbd.service" ||
    fail "the unit differs from systemd/sumdbd.service beyond ExecStart"
echo "$NAME: lib/systemd/system/sumdbd.service, ExecStart=/usr/sbin/sumdbd: ok"

# Exactly these files, and only under DESTDIR.
(cd "$ROOT" && find . -type f | sort) >"$T/files"
cat >"$T/want" <<EOF
./etc/sumdbd/sumdbd.conf.example
./usr/lib/systemd/system/sumdbd.service
./usr/sbin/sumdbd
./usr/share/man/man5/sumdbd.conf.5
./usr/share/man/man8/sumdbd.8
EOF
diff "$T/want" "$T/files" >"$T/diff" || fail "installed files: $(cat "$T/diff")"
host >"$T/host.after"
diff "$T/host.before" "$T/host.after" >"$T/diff" ||
    fail "install touched the host: $(cat "$T/diff")"
echo "$NAME: those five files, only under DESTDIR: ok"

# Twice: it works, and an admin's config stays as it is.
printf '[server]\nlisten = 127.0.0.1:9\n' >"$ROOT/etc/sumdbd/sumdbd.conf"
cp "$ROOT/etc/sumdbd/sumdbd.conf" "$T/conf.mine"
inst DESTDIR="$ROOT" PREFIX=/usr
cmp -s "$T/conf.mine" "$ROOT/etc/sumdbd/sumdbd.conf" || fail "install changed sumdbd.conf"
(cd "$ROOT" && find . -type f | sort) >"$T/files"
echo ./etc/sumdbd/sumdbd.conf | cat - "$T/want" | sort | diff - "$T/files" >"$T/diff" ||
    fail "second install: $(cat "$T/diff")"
[ "$(mode "$ROOT/usr/sbin/sumdbd")" = 755 ] || fail "second install: mode"
echo "$NAME: install twice, sumdbd.conf kept: ok"

# Other places.
O2=$T/opt
inst DESTDIR="$O2" PREFIX=/opt/sumdbd MANDIR=/usr/local/man \
    UNITDIR=/etc/systemd/system SYSCONFDIR=/usr/local/etc
for f in opt/sumdbd/sbin/sumdbd usr/local/man/man8/sumdbd.8 \
    usr/local/man/man5/sumdbd.conf.5 usr/local/etc/sumdbd/sumdbd.conf.example \
    etc/systemd/system/sumdbd.service; do
	[ -f "$O2/$f" ] || fail "PREFIX=/opt/sumdbd: no $f"
done
grep -qxF 'ExecStart=/opt/sumdbd/sbin/sumdbd -d -c /etc/sumdbd/sumdbd.conf' \
    "$O2/etc/systemd/system/sumdbd.service" || fail "PREFIX=/opt/sumdbd: $(grep '^ExecStart' \
    "$O2/etc/systemd/system/sumdbd.service")"
host >"$T/host.after"
diff "$T/host.before" "$T/host.after" >"$T/diff" ||
    fail "install touched the host: $(cat "$T/diff")"
echo "$NAME: PREFIX, MANDIR, UNITDIR, SYSCONFDIR: ok"
