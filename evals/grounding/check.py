#!/usr/bin/env python3
"""Validate evals/grounding/paragraphs.yaml and print its counts.

Checks: the file loads; every mention text occurs in its paragraph at the stated
occurrence and mentions appear in text order; figure references exist; every derived
mention agrees with the figures table at the precision the text states (unless it is
marked `inconsistent: true`, i.e. the published text itself does not add up).

Usage: python3 evals/grounding/check.py [path]     (exit status 1 on any problem)
"""

import collections
import re
import sys
from decimal import Decimal, getcontext
from pathlib import Path

import yaml

getcontext().prec = 40
HERE = Path(__file__).resolve().parent
NUM = re.compile(r"[-−]?\d+(?:[.·]\d+)?")
UNIT_CLASS = {"场": "次", "场次": "次", "名": "人", "位": "人", "余人": "人", "千米": "公里"}


def D(x):
    return Decimal(str(x))


def decimals_in(text):
    if "十项" in text:
        return 0
    m = NUM.search(text)
    if not m:
        return 0
    s = m.group(0).replace("·", ".")
    return len(s.split(".")[1]) if "." in s else 0


def close(got, stated, dec):
    return abs(got - stated) <= Decimal("0.5") * Decimal(10) ** -dec + Decimal("1e-12")


def scaled(f):
    """The figure's value with a 万/亿 scale prefix applied (a share may divide 亿元 by 万元)."""
    u, v = str(f.get("unit") or ""), D(f["value"])
    if len(u) > 1 and u[0] in "万亿":
        return v * (D(10) ** (4 if u[0] == "万" else 8))
    return v


def unit_class(u):
    if u is None:
        return None
    u = str(u)
    if len(u) > 1 and u[0] in "万亿":
        u = u[1:]
    return UNIT_CLASS.get(u, u)


def nth(text, sub, n):
    i = -1
    for _ in range(n):
        i = text.find(sub, i + 1)
        if i < 0:
            return -1
    return i


def rate_of(fig, paragraph):
    if fig.get("unit") == "%" and fig.get("value") is not None:
        return D(fig["value"])
    for m in paragraph["mentions"]:
        if m.get("derived") == "growth" and m["figures"][0] == fig["id"] and "base" not in m:
            return D(m["value"])
    return None


def check(path):
    data = yaml.safe_load(open(path, encoding="utf-8"))
    paras = data["paragraphs"]
    problems = []
    ids = set()
    for p in paras:
        pid, text = p["id"], p["text"]
        if pid in ids:
            problems.append(f"{pid}: duplicate id")
        ids.add(pid)
        for key in ("source", "title", "kind", "level", "year", "text", "figures", "mentions"):
            if key not in p:
                problems.append(f"{pid}: missing {key}")
        figs = {f["id"]: f for f in p["figures"]}
        last = -1
        for m in p["mentions"]:
            pos = nth(text, m["text"], m.get("occurrence", 1))
            if pos < 0:
                problems.append(f"{pid}: {m['text']!r} (occurrence {m.get('occurrence', 1)}) not in text")
                continue
            if pos < last:
                problems.append(f"{pid}: {m['text']!r} out of text order")
            last = pos
            refs = ([m["figure"]] if "figure" in m else []) + list(m.get("figures") or [])
            for r in refs:
                if r not in figs:
                    problems.append(f"{pid}: {m['text']!r} refers to unknown figure {r}")
            if "figure" not in m and "derived" not in m:
                problems.append(f"{pid}: {m['text']!r} has neither figure nor derived")
        for f in figs.values():
            if f.get("part_of") and f["part_of"] not in figs:
                problems.append(f"{pid}: {f['id']}.part_of refers to unknown figure")
        for s in p.get("not_figures") or []:
            if s not in text:
                problems.append(f"{pid}: not_figure {s!r} not in text")
        # derived values
        for m in p["mentions"]:
            kind = m.get("derived")
            if not kind or m.get("alt_unit") or m.get("inconsistent"):
                continue
            fs = [figs.get(x) for x in m["figures"]]
            if any(f is None for f in fs):
                continue
            v, dec = D(m["value"]), decimals_in(m["text"])
            got = None
            if kind in ("growth", "difference", "points", "multiple"):
                f = fs[0]
                base = f.get("last_period" if m.get("base") == "last_period" else "last_year")
                if f.get("value") is None or base is None:
                    continue
                cur, base = D(f["value"]), D(base)
                got = {
                    "growth": (cur - base) / base * 100 if base else None,
                    "difference": cur - base,
                    "points": cur - base,
                    "multiple": cur / base if base else None,
                }[kind]
            elif kind == "share":
                if any(f.get("value") is None for f in fs):
                    continue
                got = sum(scaled(f) for f in fs[:-1]) / scaled(fs[-1]) * 100
            elif kind == "sum":
                if any(f.get("value") is None for f in fs):
                    continue
                got = sum(D(f["value"]) for f in fs)
                dec = 12  # sums must be exact
            elif kind == "gap":
                ra, rb = rate_of(fs[0], p), fs[1].get("value")
                if ra is None or rb is None:
                    continue
                got = ra - D(rb)
            else:
                problems.append(f"{pid}: unknown derived kind {kind}")
                continue
            if got is None or not close(got, v, dec):
                problems.append(f"{pid}: {kind} {m['text']!r} states {v}, figures give {got}")
    return paras, problems


def counts(paras):
    c = collections.OrderedDict()
    c["paragraphs"] = len(paras)
    c["documents"] = len({p["title"] for p in paras})
    c["kinds (documents)"] = dict(collections.Counter(k for k, _ in {(p["kind"], p["title"]) for p in paras}))
    c["levels (documents)"] = dict(collections.Counter(lv for lv, _ in {(p["level"], p["title"]) for p in paras}))
    same, pairs = 0, 0
    for p in paras:
        figs = {f["id"]: f for f in p["figures"]}
        by_class = collections.defaultdict(set)
        for m in p["mentions"]:
            if "figure" in m and not m.get("of") and not m.get("alt_unit"):
                f = figs[m["figure"]]
                by_class[unit_class(f.get("unit"))].add(f["id"])
        k = [len(s) for s in by_class.values() if len(s) >= 2]
        if k:
            same += 1
            pairs += sum(n * (n - 1) // 2 for n in k)
    c["paragraphs with >=2 same-unit-class figures about different items"] = same
    c["same-unit-class figure pairs"] = pairs
    fenbie = 0
    for p in paras:
        t = p["text"]
        found = False
        for mo in re.finditer("分别", t):
            end = min(
                [x for x in (t.find("。", mo.end()), t.find(";", mo.end()), t.find("；", mo.end())) if x >= 0]
                or [len(t)]
            )
            n = 0
            for m in p["mentions"]:
                pos = nth(t, m["text"], m.get("occurrence", 1))
                if mo.end() <= pos < end:
                    n += 1
            found = found or n >= 2
        fenbie += found
    c["paragraphs with a 分别 list of >=2 numbers"] = fenbie
    dk = collections.Counter(m["derived"] for p in paras for m in p["mentions"] if "derived" in m)
    c["derived mentions by kind"] = dict(dk)
    c["paragraphs with >=1 derived mention"] = sum(any("derived" in m for m in p["mentions"]) for p in paras)
    c["part_of relations"] = sum(1 for p in paras for f in p["figures"] if f.get("part_of"))
    c["mentions"] = sum(len(p["mentions"]) for p in paras)
    c["plain figure mentions"] = sum(1 for p in paras for m in p["mentions"] if "figure" in m and "derived" not in m)
    c["approx mentions (余/多/近/超过/突破)"] = sum(1 for p in paras for m in p["mentions"] if m.get("approx"))
    c["alt-unit mentions"] = sum(1 for p in paras for m in p["mentions"] if m.get("alt_unit"))
    c["last-year values stated in text (of: last_year)"] = sum(
        1 for p in paras for m in p["mentions"] if m.get("of") == "last_year"
    )
    c["not_figures strings"] = sum(len(p.get("not_figures") or []) for p in paras)
    c["figures with value null (text gives only a rate)"] = sum(
        1 for p in paras for f in p["figures"] if f.get("value") is None
    )
    c["mentions marked inconsistent"] = sum(1 for p in paras for m in p["mentions"] if m.get("inconsistent"))
    return c


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else HERE / "paragraphs.yaml"
    paras, problems = check(path)
    for k, v in counts(paras).items():
        print(f"{k}: {v}")
    for pr in problems:
        print("PROBLEM", pr)
    print("OK" if not problems else f"{len(problems)} problem(s)")
    sys.exit(1 if problems else 0)
