"""The Autobahn|Testsuite run's verdict, read from kosoku's reports (benches/autobahn.sh).

    summary.py select CASES EXCLUDE
        prints the ids kosoku selects for these -i/-x patterns, in run order (kosoku numbers the
        selection 1..N in this order), one per line.
    summary.py report OUTDIR AGENT TIMINGS CASES EXCLUDE ALLOW_FAIL TUNGSTENITE [BASELINE]
        prints the per-section table, the cases that are not OK, and the case durations beside
        tungstenite's published ones (the TUNGSTENITE file) and, when BASELINE names the reports
        of a tokio-tungstenite run of the same cases on this machine, beside those; writes
        OUTDIR/summary.json and OUTDIR/summary.md; exits 1 when a case is FAILED or MISSING and
        not in ALLOW_FAIL, 0 otherwise.

Only the standard library and kosoku (for its list of cases) are used: this runs in the venv of
tests/interop/setup.sh.
"""

import json
import os
import re
import sys
from collections import defaultdict

# Columns of the table, best first; a case's verdict is the worst of its two judgements.
ORDER = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED", "MISSING"]
RANK = {"OK": 0, "INFORMATIONAL": 1, "NON-STRICT": 2, "UNIMPLEMENTED": 3, "FAILED": 4, "MISSING": 5}
# behaviorClose values as verdicts: a wrong close code or a close the client started is
# NON-STRICT (Autobahn's own wording for "allowed, not ideal"); an unclean or failed close is FAILED.
CLOSE = {
    "OK": "OK",
    "INFORMATIONAL": "INFORMATIONAL",
    "WRONG CODE": "NON-STRICT",
    "FAILED BY CLIENT": "NON-STRICT",
    "UNCLEAN": "FAILED",
    "FAILED": "FAILED",
}
# Sections whose durations say something about speed (the rest are a few ms each, or kosoku's
# own fixed waits), and the subsections shown case by case.
TIMED_SECTIONS = ("9", "10", "12", "13")


def matches(cid, pat):
    """kosoku's (Autobahn's parseSpecCases) rule: a pattern with "*" is a regex ("." literal,
    "*" any run) matched at the start only, so "12.*.1" also matches 12.3.14 and "12.*.1$" does
    not; a pattern without "*" is an exact id."""
    if "*" in pat:
        return re.match(pat.replace(".", r"\.").replace("*", ".*"), cid) is not None
    return cid == pat


def selected(cases, exclude):
    from kosoku.cases import CASES

    inc, exc = cases.split(), exclude.split()
    return [
        c
        for c in CASES
        if (not inc or any(matches(c, p) for p in inc)) and not any(matches(c, p) for p in exc)
    ]


def key(cid):
    return [int(p) for p in cid.split(".")]


def section(cid):
    return cid.split(".")[0]


def subsection(cid):
    parts = cid.split(".")
    return ".".join(parts[:2]) if len(parts) == 3 else parts[0]


def verdict(entry):
    if entry is None:
        return "MISSING"
    b = entry.get("behavior")
    if b == "UNIMPLEMENTED":
        return b
    b = b if b in RANK else "FAILED"  # kosoku's ERROR: the case could not run
    c = CLOSE.get(entry.get("behaviorClose"), "FAILED")
    return max(b, c, key=RANK.get)


def grouped(cases, ids):
    """'id (detail)' for each case, a whole subsection with one detail as 'N.M.* (K cases, detail)'."""
    by_sub = defaultdict(list)
    for cid, detail in cases:
        by_sub[subsection(cid)].append((cid, detail))
    size = defaultdict(int)
    for cid in ids:
        size[subsection(cid)] += 1
    out = []
    for sub in sorted(by_sub, key=key):
        group = by_sub[sub]
        details = {d for _, d in group}
        if len(group) > 1 and len(group) == size[sub] and len(details) == 1:
            out.append(f"{sub}.* ({len(group)} cases, {details.pop()})")
        else:
            out += [f"{cid} ({d})" for cid, d in group]
    return out


def extension_offer(outdir, entry):
    """The Sec-WebSocket-Extensions header the client sent in a case (None when it offered
    none, or the case has no report)."""
    try:
        case = json.load(open(os.path.join(outdir, entry["reportfile"]), encoding="utf-8"))
    except (TypeError, KeyError, OSError, ValueError):
        return None
    for line in (case.get("httpRequest") or "").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "sec-websocket-extensions":
            return value.strip()
    return None


def load_tungstenite(path):
    out = {}
    if not path or not os.path.exists(path):
        return out
    for line in open(path, encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        cid, behavior, behavior_close, ms = line.rstrip("\n").split("\t")
        out[cid] = {"behavior": behavior, "behaviorClose": behavior_close, "duration": int(ms)}
    return out


def read_timings(path):
    wall = {}
    lines = open(path, encoding="utf-8").read().splitlines()[1:]
    for line in lines:
        cid, rc, secs = line.split("\t")
        wall[cid] = (int(rc), float(secs))
    return wall


def table(rows, fmt):
    """rows: list of lists of strings, the first being the header; fmt 'text' or 'md'."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for n, r in enumerate(rows):
        if fmt == "md":
            out.append("| " + " | ".join(r) + " |")
            if n == 0:
                out.append("|" + "|".join("---" if i == 0 else "---:" for i in range(len(r))) + "|")
        else:
            out.append("  ".join(c.rjust(widths[i]) for i, c in enumerate(r)))
            if n == 0:
                out.append("-" * len(out[-1]))
    return "\n".join(out)


def load_index(outdir, agent):
    path = os.path.join(outdir, "index.json")
    return (json.load(open(path)) if os.path.exists(path) else {}).get(agent, {})


def report(outdir, agent, timings, cases, exclude, allow_fail, tungstenite_path, baseline=""):
    allow = allow_fail.split()
    ids = selected(cases, exclude)
    index = load_index(outdir, agent)
    wall = read_timings(timings)
    tung = load_tungstenite(tungstenite_path)
    here = load_index(baseline, "tungstenite") if baseline else None

    per_case = {}
    counts = defaultdict(lambda: defaultdict(int))
    not_ok = defaultdict(list)
    blocking = []
    for cid in ids:
        e = index.get(cid)
        v = verdict(e)
        sec = section(cid)
        counts[sec][v] += 1
        rc, secs = wall.get(cid, (None, None))
        per_case[cid] = {
            "verdict": v,
            "behavior": e.get("behavior") if e else None,
            "behaviorClose": e.get("behaviorClose") if e else None,
            "duration_ms": e.get("duration") if e else None,
            "remoteCloseCode": e.get("remoteCloseCode") if e else None,
            "client_rc": rc,
            "wall_s": secs,
        }
        if sec in ("12", "13"):
            per_case[cid]["offer"] = extension_offer(outdir, e)
        if v != "OK":
            detail = f"{e['behavior']}/{e['behaviorClose']}" if e else "not reported"
            if rc in (124, 137):
                detail += ", client killed by CASE_TIMEOUT"
            if v in ("FAILED", "MISSING"):
                if any(matches(cid, p) for p in allow):
                    detail += ", allowed"
                else:
                    blocking.append(cid)
            not_ok[sec].append((cid, detail))

    secs_sorted = sorted(counts, key=int)
    rows = [["section"] + ORDER + ["cases"]]
    tot = defaultdict(int)
    for sec in secs_sorted:
        c = counts[sec]
        for k in ORDER:
            tot[k] += c[k]
        rows.append([sec] + [str(c[k]) for k in ORDER] + [str(sum(c.values()))])
    rows.append(["total"] + [str(tot[k]) for k in ORDER] + [str(len(ids))])

    lines = [f"Autobahn|Testsuite client cases, agent '{agent}', {len(ids)} cases", ""]
    md = [f"Autobahn|Testsuite client cases, agent `{agent}`, {len(ids)} cases:", ""]
    lines.append(table(rows, "text"))
    md.append(table(rows, "md"))
    if not_ok:
        lines += ["", "Cases that are not OK:"]
        md += ["", "Cases that are not OK:", ""]
        for sec in sorted(not_ok, key=int):
            listed = ", ".join(grouped(not_ok[sec], ids))
            lines.append(f"  {sec}: {listed}")
            md.append(f"- {sec}: {listed}")
    unimpl = [c for c in ids if per_case[c]["verdict"] == "UNIMPLEMENTED"]
    if unimpl:
        note = (
            f"{len(unimpl)} case(s) UNIMPLEMENTED: kosoku got no permessage-deflate agreement "
            "(12.x/13.x need the client to offer it; 13.2/13.5/13.6 also need "
            "client_no_context_takeover, 13.3-13.6 client_max_window_bits: see DEFLATE_ARGS)."
        )
        lines += ["", note]
        md += ["", note]

    if here is not None:
        counts_here = defaultdict(int)
        odd = []
        for cid in ids:
            v = verdict(here.get(cid))
            counts_here[v] += 1
            if v != "OK":
                odd.append((cid, v))
        line = "tokio-tungstenite, same cases on this machine: " + ", ".join(
            f"{counts_here[k]} {k}" for k in ORDER if counts_here[k]
        )
        odd = ", ".join(grouped(odd, ids))
        lines += ["", line] + ([f"  not OK: {odd}"] if odd else [])
        md += ["", line] + ([f"(not OK: {odd})"] if odd else [])

    timing_lines = durations(ids, per_case, tung, here)
    if timing_lines:
        lines += [""] + timing_lines["text"]
        md += [""] + timing_lines["md"]

    verdict_line = (
        f"verdict: {'FAIL' if blocking else 'PASS'} ({len(blocking)} FAILED/MISSING case(s) "
        "not covered by ALLOW_FAIL)"
    )
    lines += ["", verdict_line]
    print("\n".join(lines))
    with open(os.path.join(outdir, "summary.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(outdir, "summary.json"), "w", encoding="utf-8") as f:
        json.dump(
            {
                "agent": agent,
                "selected": len(ids),
                "counts": {s: dict(counts[s]) for s in secs_sorted},
                "blocking": blocking,
                "cases": per_case,
            },
            f,
            indent=1,
        )
    return 1 if blocking else 0


def durations(ids, per_case, tung, here):
    """Summed case durations per subsection of the timed sections, beside tokio-tungstenite's on
    this machine (when `here` holds them) and tungstenite's published ones, plus section 9 case
    by case."""
    subs = defaultdict(lambda: defaultdict(int))
    for cid in ids:
        if section(cid) not in TIMED_SECTIONS:
            continue
        s = subs[subsection(cid)]
        d = per_case[cid]["duration_ms"]
        if d is not None and per_case[cid]["verdict"] != "UNIMPLEMENTED":
            s["ours"] += d
            s["n"] += 1
        h = (here or {}).get(cid)
        if h is not None and h.get("behavior") != "UNIMPLEMENTED":
            s["here"] += h.get("duration", 0)
            s["n_here"] += 1
        if cid in tung:
            s["pub"] += tung[cid]["duration"]
            s["n_pub"] += 1
    if not subs:
        return None

    def ratio(a, na, b, nb):
        return f"{a / b:.2f}" if na and na == nb and b else "-"

    head = ["subsection", "cases", "streamscope ms"]
    if here is not None:
        head += ["tungstenite here ms", "ratio"]
    head += ["tungstenite published ms", "ratio"]
    rows = [head]
    for sub in sorted(subs, key=key):
        s = subs[sub]
        row = [sub, str(s["n"]), str(s["ours"]) if s["n"] else "-"]
        if here is not None:
            row += [
                str(s["here"]) if s["n_here"] else "-",
                ratio(s["ours"], s["n"], s["here"], s["n_here"]),
            ]
        row += [
            str(s["pub"]) if s["n_pub"] else "-",
            ratio(s["ours"], s["n"], s["pub"], s["n_pub"]),
        ]
        rows.append(row)
    case_head = ["case", "streamscope ms"]
    if here is not None:
        case_head.append("tungstenite here ms")
    case_head.append("tungstenite published ms")
    case_rows = [case_head]
    for cid in ids:
        if section(cid) != "9":
            continue
        d = per_case[cid]["duration_ms"]
        row = [cid, "-" if d is None else str(d)]
        if here is not None:
            h = here.get(cid, {}).get("duration")
            row.append("-" if h is None else str(h))
        t = tung.get(cid, {}).get("duration")
        row.append("-" if t is None else str(t))
        case_rows.append(row)
    note = (
        "Case durations: kosoku's server-side time per case (ms), summed per subsection; "
        "ratio = streamscope / tungstenite, below 1 is faster."
    )
    if here is not None:
        note += " 'here': tokio-tungstenite (benches/bare_tungstenite.rs --echo) in this run."
    note += (
        " 'published': tungstenite's own run under the original Autobahn on another machine "
        "(benches/autobahn/tungstenite-client.tsv), a rough reference only."
    )
    text = [note, table(rows, "text")]
    md = [note, "", table(rows, "md")]
    if len(case_rows) > 1:
        text += ["", "Section 9 case by case:", table(case_rows, "text")]
        md += ["", "Section 9 case by case:", "", table(case_rows, "md")]
    return {"text": text, "md": md}


def main(argv):
    if len(argv) == 4 and argv[1] == "select":
        print("\n".join(selected(argv[2], argv[3])))
        return 0
    if len(argv) in (9, 10) and argv[1] == "report":
        return report(*argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
