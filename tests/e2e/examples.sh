#!/bin/sh
# Every example in the documentation runs as written, and the manuals
# cover what the program has:
#
# - README.md: each fenced block opened with ```sh is an example, run in
#   document order; each ```ini block is a config file that must pass
#   `sumdbd -n`.  Indented blocks are displays and are not run.
# - man/sumdbd.8 and man/sumdbd.conf.5: in the EXAMPLES section each
#   .Bd -literal ... .Ed display is an example: one whose first line
#   starts with '[' is a config file (checked with `sumdbd -n`), any
#   other is shell commands.  The roff escapes are turned back into what
#   a user types (\& dropped, \e to \, \- to -, \(aq to ', ...).
#
# Each document runs in its own fresh, empty directory, with sumdbd
# first in PATH, then the go command, and HOME, GOPATH, GOCACHE and
# GOENV inside that directory; each shell example runs there with
# `bash -e -o pipefail`, so files persist from one example to the next
# but shell variables do not.  An example may leave `sumdbd -d` running
# for the next ones; every process a document started is killed when it
# ends (each document runs in a session of its own).  The examples use
# 127.0.0.1:8080, which must be free.  VERBOSE=1 shows each example's
# output.
#
# Also: `mandoc -T lint -W warning` and `groff -mandoc -Tutf8 -ww -z`
# are silent on both manuals; every key of config/config.c's tables is
# described in sumdbd.conf(5), in its section, and shown in
# config/sumdbd.conf.example; every subcommand and option in `sumdbd -h`
# and `sumdbd COMMAND -h` appears in sumdbd(8).
. "$(dirname "$0")/lib.sh"

R=$(cd "$(dirname "$0")/../.." && pwd)
BA=$(cd "$B" && pwd)
[ -x "$BA/sumdbd" ] || fail "no $B/sumdbd"
command -v python3 >/dev/null || fail "python3 is not installed"
command -v mandoc >/dev/null || fail "mandoc is not installed (apt-get install mandoc)"
command -v groff >/dev/null || fail "groff is not installed (apt-get install groff-base)"
command -v setsid >/dev/null || fail "setsid is not installed (util-linux)"
# What the examples use besides sumdbd.
for c in /usr/lib/go/bin/go curl openssl zip bash timeout; do
	command -v "$c" >/dev/null ||
	    fail "the examples need $c (apt-get install golang-go curl openssl zip)"
done
for f in README.md man/sumdbd.8 man/sumdbd.conf.5; do
	[ -f "$R/$f" ] || fail "$f is missing"
done

# Documents' sessions to kill at the end, and read-only module caches
# (the go command's) to make removable.
SIDS=
stop_sessions() {
	# dash's kill takes no "--": a negative number is a process group.
	for s in $SIDS; do kill -TERM "-$s" 2>/dev/null; done
	[ -z "$SIDS" ] || sleep 0.3
	for s in $SIDS; do kill -KILL "-$s" 2>/dev/null; done
	SIDS=
}
trap 'rc0=$?; stop_sessions; chmod -R u+w "$T" 2>/dev/null; (exit $rc0); cleanup' EXIT

# port_free: nothing answers on 127.0.0.1:8080 (curl's 7: no connection).
port_free() {
	curl -s -m 2 -o /dev/null http://127.0.0.1:8080/ 2>/dev/null
	[ $? = 7 ]
}

problems=0
problem() {
	echo "$NAME: FAIL: $*" >&2
	problems=$((problems + 1))
}

# 1. mandoc's lint, at warning level and above: no output.
for m in man/sumdbd.8 man/sumdbd.conf.5; do
	out=$(cd "$R" && mandoc -T lint -W warning "$m" 2>&1)
	[ -z "$out" ] || problem "mandoc -T lint -W warning $m:
$out"
done
# and groff's, with all its warnings: no output either.
for m in man/sumdbd.8 man/sumdbd.conf.5; do
	out=$(cd "$R" && groff -mandoc -Tutf8 -ww -z "$m" 2>&1)
	[ -z "$out" ] || problem "groff -mandoc -Tutf8 -ww -z $m:
$out"
done
[ $problems = 0 ] && echo "$NAME: mandoc lint and groff -ww of both manuals: ok"

# 2. Coverage: config keys in sumdbd.conf(5) and the example config;
# subcommands and options in sumdbd(8).
"$BA/sumdbd" -h >"$T/help" 2>&1 || fail "sumdbd -h: $(cat "$T/help")"
for c in $(sed -n 's/^ *\(usage: \)\{0,1\}sumdbd \([a-z][a-z-]*\).*/\2/p' \
    "$T/help" | sort -u); do
	echo "== $c" >>"$T/help"
	"$BA/sumdbd" "$c" -h >>"$T/help" 2>&1
done
for m in sumdbd.8 sumdbd.conf.5; do
	mandoc -T ascii "$R/man/$m" >"$T/$m.txt" 2>/dev/null ||
	    problem "mandoc cannot format $m"
done
python3 - "$R" "$T" <<'EOP' || problems=$((problems + 1))
import re, sys
root, tmp = sys.argv[1], sys.argv[2]
bad = []

def plain(path):
    # mandoc -T ascii: strip the overstrikes of bold and underline.
    return re.sub('.\b', '', open(path, encoding='utf-8').read())

# The key tables: rows '{ "section", "name", ...'.
src = open(root + '/config/config.c', encoding='utf-8').read()
keys = re.findall(r'\{\s*"(\w+)",\s*"(\w+)",', src)
if len(keys) < 20:
    bad.append('config/config.c: found only %d keys in its tables' % len(keys))

# sumdbd.conf(5): each key as ".It Cm NAME" under a heading naming
# its section, "[server]" or "[mirror NAME]" (a heading may name
# several: "Egress in [log] and [mirror NAME]").
man5 = {}
sections = []
for line in open(root + '/man/sumdbd.conf.5', encoding='utf-8'):
    if line.startswith(('.Sh', '.Ss')):
        sections = re.findall(r'\[(\w+)', line)
        continue
    m = re.match(r'\.It Cm (\w+)', line)
    for section in sections if m else ():
        man5.setdefault(section, set()).add(m.group(1))
for s, k in keys:
    if k not in man5.get(s, ()):
        bad.append('sumdbd.conf(5) does not describe [%s] %s '
                   '(want ".It Cm %s" under a heading naming [%s])' % (s, k, k, s))

# config/sumdbd.conf.example: each key, set or commented out, in its
# section.
ex = {}
section = None
for line in open(root + '/config/sumdbd.conf.example', encoding='utf-8'):
    m = re.match(r';?\[(\w+)', line)
    if m:
        section = m.group(1)
        continue
    m = re.match(r';?(\w+)\s*=', line)
    if m and section:
        ex.setdefault(section, set()).add(m.group(1))
for s, k in keys:
    if k not in ex.get(s, ()):
        bad.append('config/sumdbd.conf.example does not show [%s] %s' % (s, k))

# sumdbd(8): every subcommand and option of the usage lines.
man8 = plain(tmp + '/sumdbd.8.txt')
words = ' '.join(man8.split())
usage = [l.strip() for l in open(tmp + '/help', encoding='utf-8')
         if re.match(r'(usage: |\s+)sumdbd( |$)', l)]
cmds, opts = set(), set()
for u in usage:
    u = re.sub(r'^usage: ', '', u)
    t = u.split()
    if len(t) > 1 and re.match(r'[a-z]', t[1]):
        if len(t) > 2 and re.match(r'[a-z]+(\|[a-z]+)+$', t[2]):
            for sub in t[2].split('|'):
                cmds.add(t[1] + ' ' + sub)
        else:
            cmds.add(t[1])
    for o in re.findall(r'(?<![\w-])(--?[A-Za-z][\w-]*)', u):
        if o.startswith('--') or len(o) == 2:
            opts.add(o)
        else:
            opts.update('-' + c for c in o[1:])
for c in sorted(cmds):
    if not re.search(r'\bsumdbd ' + re.escape(c) + r'\b', words):
        bad.append('sumdbd(8) does not show "sumdbd %s"' % c)
for o in sorted(opts):
    if not re.search(r'(?<![\w-])' + re.escape(o) + r'(?![\w-])', words):
        bad.append('sumdbd(8) does not mention the option %s' % o)
if len(cmds) < 10:
    bad.append('found only %d subcommands in sumdbd -h' % len(cmds))

for b in bad:
    print('examples.sh: FAIL: ' + b, file=sys.stderr)
print('examples.sh: %d config keys, %d subcommands, %d options checked%s'
      % (len(keys), len(cmds), len(opts), '' if bad else ': ok'))
sys.exit(1 if bad else 0)
EOP

# 3. Extract the examples: DIR/NN.sh (shell) or DIR/NN.ini (a config)
# and DIR/NN.where (document and line).
python3 - "$R" "$T" <<'EOP' || fail "extracting the examples"
import os, re, sys
root, tmp = sys.argv[1], sys.argv[2]

def write(doc, blocks):
    d = os.path.join(tmp, 'ex-' + doc)
    os.makedirs(d)
    for i, (kind, line, text) in enumerate(blocks, 1):
        with open(os.path.join(d, '%02d.%s' % (i, kind)), 'w') as f:
            f.write(text)
        with open(os.path.join(d, '%02d.where' % i), 'w') as f:
            f.write('%s:%d' % (doc, line))

# README.md: fenced blocks.
blocks, cur = [], None
for n, line in enumerate(open(os.path.join(root, 'README.md'),
                              encoding='utf-8'), 1):
    m = re.match(r'( {0,3})```\s*(\S*)', line)
    if cur is None and m:
        cur = (m.group(2), n, len(m.group(1)), [])
    elif cur is not None and re.match(r' {0,3}```\s*$', line):
        lang, start, ind, text = cur
        if lang in ('sh', 'ini'):
            blocks.append((lang, start, ''.join(text)))
        cur = None
    elif cur is not None:
        cur[3].append(line[cur[2]:] if line[:cur[2]].strip() == '' else line)
if cur is not None:
    sys.exit('README.md:%d: a fenced block is not closed' % cur[1])
write('README.md', blocks)

# Manuals: .Bd -literal displays in EXAMPLES.
ESC = {'&': '', 'e': '\\', '-': '-', '(aq': "'", '(ga': '`', '(dq': '"',
       '(ti': '~', '(ha': '^', '(rs': '\\', '[aq]': "'", '[ga]': '`',
       '[dq]': '"', '[ti]': '~', '[ha]': '^', '[rs]': '\\'}

def unroff(doc, n, s):
    def one(m):
        if m.group(1) not in ESC:
            sys.exit('%s:%d: unknown escape \\%s in an example'
                     % (doc, n, m.group(1)))
        return ESC[m.group(1)]
    return re.sub(r'\\(\(..|\[[^]]*\]|.)', one, s)

for doc in ('sumdbd.8', 'sumdbd.conf.5'):
    path = os.path.join(root, 'man', doc)
    blocks, cur, inex = [], None, False
    for n, line in enumerate(open(path, encoding='utf-8'), 1):
        line = line.rstrip('\n')
        if line.startswith('.Sh'):
            inex = line.split(None, 1)[1:] == ['EXAMPLES']
            continue
        if not inex:
            continue
        if cur is None and re.match(r'\.Bd\s+-literal\b', line):
            cur = (n, [])
        elif cur is not None and line == '.Ed':
            start, text = cur
            kind = 'ini' if text and text[0].startswith('[') else 'sh'
            blocks.append((kind, start, ''.join(l + '\n' for l in text)))
            cur = None
        elif cur is not None:
            if line.startswith(('.\\"', "'\\\"")):
                continue
            if line.startswith(('.', "'")):
                sys.exit('%s:%d: a request or macro inside an example '
                         'display: %s' % (doc, n, line))
            cur[1].append(unroff(doc, n, line))
    if cur is not None:
        sys.exit('%s:%d: a display in EXAMPLES is not closed' % (doc, cur[0]))
    if not blocks:
        sys.exit('%s: no examples in its EXAMPLES section' % doc)
    write(doc, blocks)
EOP

# The runner of one document, in a session of its own: its examples in
# order, stopping at the first that fails.
cat >"$T/run-doc.sh" <<'EOR'
doc=$1 dir=$2 S=$3 bin=$4 res=$5
echo $$ >"$res.sid"
cd "$S" || exit 2
nsh=0 nini=0
for ex in "$dir"/*.where; do
	[ -e "$ex" ] || continue
	n=${ex%.where}
	where=$(cat "$ex")
	if [ -f "$n.ini" ]; then
		cp "$n.ini" "$dir/example.conf"
		"$bin/sumdbd" -n -c "$dir/example.conf" >"$n.out" 2>&1
		rc=$?
		kind=config
	else
		env -i PATH="$bin:/usr/lib/go/bin:/usr/local/bin:/usr/bin:/bin" \
		    HOME="$S/.home" GOPATH="$S/.go" GOCACHE="$S/.cache/go-build" \
		    GOENV="$S/.config/go/env" LANG=C.UTF-8 TMPDIR="$S/.tmp" \
		    timeout --foreground 300 bash -e -o pipefail "$n.sh" \
		    >"$n.out" 2>&1 </dev/null
		rc=$?
		kind=shell
	fi
	if [ $rc != 0 ]; then
		{
			echo "$doc: $kind example ${n##*/} ($where) failed with exit $rc:"
			sed 's/^/  | /' "$n.$([ $kind = config ] && echo ini || echo sh)"
			echo "  output:"
			sed 's/^/  > /' "$n.out"
		} >"$res.fail"
		echo "$nsh $nini" >"$res.count"
		exit 1
	fi
	[ $kind = config ] && nini=$((nini + 1)) || nsh=$((nsh + 1))
	if [ -n "${VERBOSE:-}" ]; then
		echo "$doc: $kind example ${n##*/} ($where):"
		sed 's/^/  > /' "$n.out"
	fi
done
echo "$nsh $nini" >"$res.count"
EOR

# 4. Run each document's examples.
port_free || fail "127.0.0.1:8080 is in use: the examples need it"
for doc in README.md sumdbd.8 sumdbd.conf.5; do
	dir=$T/ex-$doc S=$T/scratch-$doc bin=$T/bin-$doc res=$T/res-$doc
	mkdir -p "$S/.home" "$S/.config/go" "$S/.tmp" "$bin"
	ln -s "$BA/sumdbd" "$bin/sumdbd"
	setsid -w sh "$T/run-doc.sh" "$doc" "$dir" "$S" "$bin" "$res" &
	spid=$!
	i=0
	until [ -s "$res.sid" ] || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
	[ -s "$res.sid" ] && SIDS="$SIDS $(cat "$res.sid")"
	wait $spid
	rc=$?
	stop_sessions
	if ! read nsh nini <"$res.count" 2>/dev/null; then
		problem "$doc: the examples' runner did not finish (exit $rc)"
		continue
	fi
	if [ -f "$res.fail" ]; then
		cat "$res.fail" >&2
		problem "$doc: an example failed after $nsh shell and $nini config examples ran"
	else
		echo "$NAME: $doc: $nsh shell and $nini config examples ran: ok"
	fi
	i=0
	until port_free; do
		i=$((i + 1))
		[ $i -lt 50 ] || fail "$doc: 127.0.0.1:8080 still answers after its examples"
		sleep 0.1
	done
done

[ $problems = 0 ] || fail "$problems problems"
echo "$NAME: ok"
