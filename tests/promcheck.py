#!/usr/bin/env python3
"""promcheck.py FILE [NAME{LABELS}...]: check that FILE is valid
Prometheus text exposition (format 0.0.4) and print the value of each
named sample, one per line ("absent" when missing).

Checked: the syntax of every line (metric and label names, quoted label
values and their escapes, float values); one TYPE per family, before its
samples; each family's samples together; no sample twice; counters not
negative; histograms with an le label on every bucket, cumulative
non-decreasing buckets ending in +Inf, and a _count equal to that +Inf
bucket.  Exit 1 with FILE:LINE: reason on the first problem.
"""

import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
SAMPLE = re.compile(r"^(" + NAME + r")(\{(.*)\})?[ \t]+(\S+)([ \t]+-?\d+)?$")
LABELPAIR = re.compile(r'(' + LABEL + r')="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def die(path, n, why):
    print("%s:%d: %s" % (path, n, why), file=sys.stderr)
    sys.exit(1)


def parse_value(s):
    if s in ("+Inf", "Inf"):
        return float("inf")
    if s == "-Inf":
        return float("-inf")
    if s == "NaN":
        return float("nan")
    if not re.match(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$", s):
        raise ValueError(s)
    return float(s)


def family_of(name, types):
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix):
            base = name[: -len(suffix)]
            if types.get(base) in ("histogram", "summary"):
                return base
    return name


def main():
    path = sys.argv[1]
    types, helps, samples = {}, {}, {}
    done_families, current = set(), None
    hist = {}
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for n, line in enumerate(lines, 1):
        if line == "":
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 2 and parts[1] in ("HELP", "TYPE"):
                if len(parts) < 3 or not re.match("^" + NAME + "$", parts[2]):
                    die(path, n, "malformed %s line" % parts[1])
                name = parts[2]
                if parts[1] == "TYPE":
                    if len(parts) != 4 or parts[3] not in TYPES:
                        die(path, n, "bad TYPE for %s" % name)
                    if name in types:
                        die(path, n, "second TYPE for %s" % name)
                    if name in done_families or name == current:
                        die(path, n, "TYPE for %s after its samples" % name)
                    types[name] = parts[3]
                else:
                    if name in helps:
                        die(path, n, "second HELP for %s" % name)
                    helps[name] = parts[3] if len(parts) == 4 else ""
            continue
        m = SAMPLE.match(line)
        if not m:
            die(path, n, "not a sample line: %r" % line)
        name, labeltext, value = m.group(1), m.group(3), m.group(4)
        labels = {}
        if labeltext:
            pos = 0
            while pos < len(labeltext):
                lm = LABELPAIR.match(labeltext, pos)
                if not lm:
                    die(path, n, "malformed labels: %r" % labeltext)
                if lm.group(1) in labels:
                    die(path, n, "label %s twice" % lm.group(1))
                labels[lm.group(1)] = lm.group(2)
                pos = lm.end()
        try:
            v = parse_value(value)
        except ValueError:
            die(path, n, "bad value %r" % value)
        fam = family_of(name, types)
        if fam != current:
            if fam in done_families:
                die(path, n, "samples of %s are not together" % fam)
            if current is not None:
                done_families.add(current)
            current = fam
        key = name + "{" + ",".join(
            '%s="%s"' % (k, labels[k]) for k in sorted(labels)) + "}"
        if key in samples:
            die(path, n, "sample %s twice" % key)
        samples[key] = v
        t = types.get(fam, "untyped")
        if t == "counter" and not v >= 0:
            die(path, n, "counter %s is negative" % key)
        if t == "histogram":
            rest = {k: labels[k] for k in labels if k != "le"}
            hkey = (fam, tuple(sorted(rest.items())))
            h = hist.setdefault(hkey, {"buckets": [], "count": None})
            if name == fam + "_bucket":
                if "le" not in labels:
                    die(path, n, "bucket without le")
                le = parse_value(labels["le"])
                if h["buckets"] and (le <= h["buckets"][-1][0] or
                                     v < h["buckets"][-1][1]):
                    die(path, n, "buckets of %s not cumulative" % fam)
                h["buckets"].append((le, v))
            elif name == fam + "_count":
                h["count"] = v
    for (fam, rest), h in hist.items():
        if not h["buckets"] or h["buckets"][-1][0] != float("inf"):
            die(path, len(lines), "histogram %s has no +Inf bucket" % fam)
        if h["count"] != h["buckets"][-1][1]:
            die(path, len(lines), "histogram %s: _count is not the +Inf "
                "bucket" % fam)
    for want in sys.argv[2:]:
        if "{" not in want:
            want += "{}"
        v = samples.get(want)
        print("absent" if v is None else ("%.17g" % v))


if __name__ == "__main__":
    main()
