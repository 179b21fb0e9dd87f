#!/bin/sh
# The systemd unit as `make install` installs it: systemd-analyze verify
# finds nothing wrong with it (syntax, values, the ExecStart binary in
# the installed tree, the man pages it names) and does find a typo, a bad
# value and a missing binary in broken copies; its exposure level is OK
# and at most 2.0; it is the notify service with the dynamic user, state
# directory and credential the daemon and README rely on.  No systemd
# needs to run: this checks the file, offline, in a root of its own.
. "$(dirname "$0")/lib.sh"

R=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "$B" && pwd)
command -v systemd-analyze >/dev/null || fail "systemd-analyze is not installed"
case ${B##*/} in build-san*) san=1 ;; *) san=0 ;; esac

# The install, into a root that also holds what the unit refers to on a
# real system: the host's own units (sysinit.target, network-online.target)
# and /bin/kill for ExecReload.
ROOT=$T/root
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$R" O="$B" SAN=$san \
    install DESTDIR="$ROOT" PREFIX=/usr/local >"$T/make.log" 2>&1 ||
    fail "make install: $(tail -5 "$T/make.log")"
UNIT=$ROOT/usr/local/lib/systemd/system/sumdbd.service
[ -f "$UNIT" ] || fail "no unit at usr/local/lib/systemd/system"
mkdir -p "$ROOT/lib/systemd" "$ROOT/bin"
cp -R /lib/systemd/system "$ROOT/lib/systemd/" || fail "copying the host's units"
cp /bin/kill "$ROOT/bin/kill" || fail "copying /bin/kill"

# verify FILE: systemd-analyze verify in the root; its output in $T/verify.
# systemd 252 only warns about unknown keys and bad values and still
# exits 0, so a clean unit is one with status 0 and no output at all.
verify() {
	MANPATH=$ROOT/usr/local/share/man systemd-analyze verify \
	    --root="$ROOT" "$1" >"$T/verify" 2>&1
}
verify "$UNIT" || fail "verify: $(cat "$T/verify")"
[ ! -s "$T/verify" ] || fail "verify complains: $(cat "$T/verify")"
echo "$NAME: systemd-analyze verify: clean: ok"

# broken DESCRIPTION SED-SCRIPT PATTERN: a copy broken by SED-SCRIPT
# fails verification with a message matching PATTERN.
broken() {
	b=$ROOT/usr/local/lib/systemd/system/sumdbd-broken.service
	sed "$2" "$UNIT" >"$b"
	cmp -s "$UNIT" "$b" && fail "$1: the sed script changed nothing"
	if verify "$b" && [ ! -s "$T/verify" ]; then
		fail "$1: verify found nothing wrong"
	fi
	grep -q "$3" "$T/verify" || fail "$1: $(cat "$T/verify")"
	rm -f "$b"
	echo "$NAME: verify finds $1: ok"
}
broken "a misspelt key" 's/^ProtectSystem=/ProtectSytem=/' \
    "Unknown key 'ProtectSytem'"
broken "a bad Type" 's/^Type=notify/Type=notfy/' "service type"
broken "a bad address family" 's/^RestrictAddressFamilies=.*/&  AF_NOPE/' \
    "address family"
broken "an unknown syscall group" 's/^SystemCallFilter=@system-service/&x/' \
    "system call group"
broken "a missing ExecStart binary" \
    's|^ExecStart=/usr/local/sbin/sumdbd|&-missing|' "not executable"

# The exposure level: "Overall exposure level for sumdbd.service: 1.1 OK".
systemd-analyze security --offline=true --root="$ROOT" "$UNIT" \
    >"$T/security" 2>&1 || fail "security: $(tail -5 "$T/security")"
line=$(grep 'Overall exposure level for sumdbd.service:' "$T/security")
[ -n "$line" ] || fail "security: no overall level: $(tail -5 "$T/security")"
set -- $(echo "$line" | sed 's/.*sumdbd\.service: *//')
level=$1 word=$2
echo "$NAME: exposure level $level $word"
# systemd's words: SAFE below 1.0, OK below 2.0, then MEDIUM, EXPOSED.
case $word in OK|SAFE) ;; *) fail "exposure level $level $word, not OK" ;; esac
awk -v l="$level" 'BEGIN { exit !(l ~ /^[0-9]+(\.[0-9]+)?$/ && l + 0 <= 2.0) }' ||
    fail "exposure level $level is above 2.0"
echo "$NAME: exposure level <= 2.0, $word: ok"

# What the daemon, the Makefile and the README rely on, line by line.
for want in \
    'Type=notify' \
    'NotifyAccess=main' \
    'ExecStart=/usr/local/sbin/sumdbd -d -c /etc/sumdbd/sumdbd.conf' \
    'ExecReload=/bin/kill -HUP $MAINPID' \
    'DynamicUser=yes' \
    'StateDirectory=sumdbd' \
    'StateDirectoryMode=0700' \
    'ConfigurationDirectory=sumdbd' \
    'LoadCredential=log.key:/etc/sumdbd/log.key' \
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' \
    'CapabilityBoundingSet=' \
    'LimitNOFILE=65536' \
    'WantedBy=multi-user.target'; do
	grep -qxF "$want" "$UNIT" || fail "the unit lacks '$want'"
done
# No capability is granted, and no LoadCredential but the log key, whose
# absence would stop the unit from starting.
grep -q '^[A-Za-z]*Capabilit[a-z]*=..*' "$UNIT" && fail "the unit grants a capability"
[ "$(grep -c '^LoadCredential' "$UNIT")" = 1 ] || fail "LoadCredential other than log.key"
echo "$NAME: notify, dynamic user, state directory, credential: ok"

# The daemon accepts the config the unit's comments describe: the store in
# the state directory, the key under the credential path.
cat >"$T/unit.conf" <<EOC
[server]
database = /var/lib/sumdbd/sumdbd.db
[log]
name = sumdb.test.example
key = /run/credentials/sumdbd.service/log.key
EOC
"$ROOT/usr/local/sbin/sumdbd" -n -c "$T/unit.conf" >"$T/out" 2>&1 ||
    fail "the unit's config: $(cat "$T/out")"
echo "$NAME: the installed sumdbd accepts the unit's config: ok"

# The unit run by systemd: a container booted from the host's own root
# (read-only, with a throw-away overlay and only a loopback network), the
# installed binary and unit bound in, /etc/sumdbd holding the config and
# a root-only key.  It starts (READY=1), serves the private log with the
# key from its credential, fetches, appends and signs into the state
# directory, reloads, stops cleanly, and nothing it does is refused by
# the sandbox.  Needs root, unshare and systemd-nspawn (systemd-container).
if [ "$(id -u)" != 0 ] || ! command -v systemd-nspawn >/dev/null ||
    ! command -v unshare >/dev/null || [ ! -x /lib/systemd/systemd ]; then
	echo "$NAME: the unit under systemd: skipped (needs root, unshare, systemd-nspawn)"
	exit 0
fi
[ $san = 0 ] || { echo "$NAME: the unit under systemd: skipped under SAN=1"; exit 0; }
[ -x "$B/xmodref" ] || fail "no $B/xmodref: make O=$B $B/xmodref"
C=$T/container
mkdir -p "$C/etc" "$C/results" "$C/host" "$C/dropin" "$C/units"
"$B/xmodref" modtree "$C/proxy" example.com/hello@v1.0.0 >/dev/null || fail "module tree"
realmod_add "$C/proxy" xtools
"$B/sumdbd" keygen -o "$C/etc/log.key" sumdb.test.example >/dev/null 2>&1 || fail "keygen"
chmod 600 "$C/etc/log.key"
cat >"$C/etc/sumdbd.conf" <<EOC
[server]
listen = 127.0.0.1:8080
database = /var/lib/sumdbd/sumdbd.db
[log]
name = sumdb.test.example
key = /run/credentials/sumdbd.service/log.key
goproxy = file:///srv/proxy
EOC
# Fail in seconds rather than minutes when READY=1 does not come.
printf '[Service]\nTimeoutStartSec=20s\n' >"$C/dropin/timeout.conf"
cat >"$C/units/sumdbd-e2e.service" <<'EOU'
[Unit]
Description=tests/e2e/systemd.sh inside the container
SuccessAction=poweroff-force
FailureAction=poweroff-force
[Service]
Type=oneshot
ExecStart=/bin/sh /results/run.sh
StandardOutput=file:/results/run.log
StandardError=inherit
EOU
cat >"$C/results/run.sh" <<'EOR'
cd /results
u=sumdbd.service
systemctl start $u; echo $? >start.rc
systemctl show -p Type,ActiveState,SubState,NRestarts $u >show.start
curl -s -m 10 -o supported.out -w '%{http_code}' \
    http://127.0.0.1:8080/sumdb/sumdb.test.example/supported >supported.code
curl -s -m 30 -o lookup.out -w '%{http_code}' \
    http://127.0.0.1:8080/sumdb/sumdb.test.example/lookup/example.com/hello@v1.0.0 >lookup.code
. /results/realmod.sh
systemctl reload $u; echo $? >reload.rc
systemctl show -p ActiveState,SubState $u >show.reload
systemctl stop $u; echo $? >stop.rc
systemctl show -p Result,ExecMainStatus,ActiveState $u >show.stop
stat -c '%a %u' /var/lib/private/sumdbd/sumdbd.db >db.stat
journalctl -u $u --no-pager -o cat >journal
echo done >done
EOR
# And a real-size module (x/tools), hashed inside the sandbox.
cat >"$C/results/realmod.sh" <<EOR
curl -s -m 60 -o realmod.out -w '%{http_code}' \
    http://127.0.0.1:8080/sumdb/sumdb.test.example/lookup/$(realmod_mv xtools) >realmod.code
EOR
# Bind / once, privately: nspawn will not boot "/" itself.
U=$ROOT/usr/local
timeout 180 unshare -m --propagation private sh -c '
	mount --bind / "$1/host" || exit 1
	shift
	exec systemd-nspawn "$@"' sh "$C" -q -D "$C/host" --volatile=overlay \
    --private-network --console=pipe --register=no --keep-unit \
    --link-journal=no --uuid="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" \
    --bind-ro="$U/sbin/sumdbd:/usr/local/sbin/sumdbd" \
    --bind-ro="$U/lib/systemd/system/sumdbd.service:/usr/local/lib/systemd/system/sumdbd.service" \
    --bind-ro="$C/dropin:/etc/systemd/system/sumdbd.service.d" \
    --bind-ro="$C/units/sumdbd-e2e.service:/etc/systemd/system/sumdbd-e2e.service" \
    --bind-ro="$C/etc:/etc/sumdbd" --bind-ro="$C/proxy:/srv/proxy" \
    --bind="$C/results:/results" \
    -b -- systemd.unit=sumdbd-e2e.service >"$T/nspawn.log" 2>&1
R_=$C/results
[ -f "$R_/done" ] || fail "the container did not finish: $(tail -5 "$T/nspawn.log"; cat "$R_/run.log" 2>/dev/null)"
cp "$R_/journal" "$T/daemon.log"
[ "$(cat "$R_/start.rc")" = 0 ] || fail "systemctl start: $(cat "$R_/show.start")"
for want in Type=notify ActiveState=active SubState=running NRestarts=0; do
	grep -qx "$want" "$R_/show.start" || fail "after start: $(cat "$R_/show.start")"
done
echo "$NAME: under systemd: started, Type=notify, running: ok"
[ "$(cat "$R_/supported.code")" = 200 ] || fail "/supported: $(cat "$R_/supported.code")"
[ "$(cat "$R_/lookup.code")" = 200 ] || fail "lookup: $(cat "$R_/lookup.code") $(cat "$R_/lookup.out")"
grep -q '^example.com/hello v1.0.0 h1:' "$R_/lookup.out" || fail "lookup: $(cat "$R_/lookup.out")"
grep -q '^— sumdb.test.example ' "$R_/lookup.out" || fail "lookup not signed: $(cat "$R_/lookup.out")"
[ "$(cat "$R_/realmod.code")" = 200 ] ||
    fail "real-size lookup: $(cat "$R_/realmod.code") $(head -c 300 "$R_/realmod.out")"
realmod_record xtools >"$T/realmod.want"
sed -n 2,3p "$R_/realmod.out" | cmp -s - "$T/realmod.want" ||
    fail "real-size lookup: $(head -3 "$R_/realmod.out"), want the go command's $(cat "$T/realmod.want")"
echo "$NAME: under systemd: key from the credential, lookups fetched (x/tools, 2.4 MB, too), stored, signed: ok"
[ "$(cat "$R_/reload.rc")" = 0 ] || fail "systemctl reload failed"
grep -qx ActiveState=active "$R_/show.reload" || fail "after reload: $(cat "$R_/show.reload")"
grep -q SIGHUP "$R_/journal" || fail "no SIGHUP in the journal"
echo "$NAME: under systemd: reload: ok"
[ "$(cat "$R_/stop.rc")" = 0 ] || fail "systemctl stop failed"
for want in Result=success ExecMainStatus=0 ActiveState=inactive; do
	grep -qx "$want" "$R_/show.stop" || fail "after stop: $(cat "$R_/show.stop")"
done
set -- $(cat "$R_/db.stat")
[ "$1" = 600 ] && [ "$2" -ge 61184 ] && [ "$2" -le 65519 ] ||
    fail "the store: mode $1, owner $2 (want 600 and a dynamic user)"
echo "$NAME: under systemd: clean stop; the store 0600, dynamic user $2: ok"
grep -i 'not permitted\|permission denied\|read-only file system\|bad system call' \
    "$R_/journal" && fail "the sandbox refused something"
echo "$NAME: under systemd: nothing refused by the sandbox: ok"
