"""A dataset profile's figures as text sections: what ``rnn-tui data show`` prints and the
Data screen shows beside its plots (`tui.data_plots`).

Input is `tasks.data.profile.Profile.report()` (plain JSON-able data); no textual here.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from typing import Any

Section = tuple[str, list[str]]
"""(title, lines)."""

BAR = 30
"""Cells of the longest histogram bar."""
WIDTH = 96
"""Lists and samples are wrapped to this many characters (after the two-space indent)."""


def wrapped(head: str, items: Sequence[str], width: int = WIDTH) -> list[str]:
    """``head`` then the items joined by " · ", wrapped between items (continuations indented)."""
    lines = [head]
    for item in items:
        sep = "" if lines[-1] == head else " · "
        if len(lines[-1]) + len(sep) + len(item) > width and lines[-1].strip():
            lines.append("  " + item)
        else:
            lines[-1] += sep + item
    return lines


def prose(head: str, text: str, width: int = WIDTH) -> list[str]:
    """A sample: ``head`` and the text, wrapped at spaces (continuations indented)."""
    return textwrap.wrap(head + text, width, subsequent_indent="  ") or [head]


def pct(x: float) -> str:
    """``0.1234 -> "12.3%"``."""
    return f"{100 * x:.1f}%"


def num(x: float) -> str:
    """A count with thousands separators, a mean with one decimal."""
    return f"{x:,}" if isinstance(x, int) else f"{x:,.1f}"


def char(c: str) -> str:
    """A character as it can be read: ``'e'``, ``' '``, ``'\\n'``."""
    return repr(c)


def histogram(bins: Sequence[Sequence[Any]], width: int = BAR) -> list[str]:
    """Text bars of ``[lo, hi, count]`` bins (hi None: the open last bin)."""
    top = max((b[2] for b in bins), default=0) or 1
    labels = []
    for lo, hi, _ in bins:
        if hi is None:
            labels.append(f"≥ {lo:.1f}" if isinstance(lo, float) else f"≥ {lo}")
        elif isinstance(lo, int) and hi - lo == 1:
            labels.append(f"{lo}")
        elif isinstance(lo, int):
            labels.append(f"{lo}–{hi - 1}")
        else:
            labels.append(f"{lo:.1f}–{hi:.1f}")
    pad = max(map(len, labels), default=0)
    return [
        f"{label:>{pad}}  {'█' * round(width * b[2] / top):<{width}}  {b[2]:,}"
        for label, b in zip(labels, bins, strict=True)
    ]


def length_line(lengths: dict[str, Any]) -> str:
    p = lengths["percentiles"]
    return (
        f"mean {lengths['mean']:,.1f} · min {lengths['min']:,} · p50 {p['50']:,} · "
        f"p90 {p['90']:,} · p95 {p['95']:,} · p99 {p['99']:,} · max {lengths['max']:,}"
    )


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]

    def line(r: Sequence[str]) -> str:  # fmt: skip
        return "  ".join(
            [r[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True))]
        )

    return [line(header).rstrip(), *(line(r).rstrip() for r in rows)]


# -- per kind ---------------------------------------------------------------------------------


def text_sections(r: dict[str, Any]) -> list[Section]:
    split = r["split"]
    walk = r["live"]["bptt"]
    lines = r["line_lengths"]
    only = "".join(split["val_only"])
    return [
        ("Characters", [
            f"{r['characters']:,} characters · {r['distinct']:,} distinct · {r['lines']:,} lines",
            *wrapped("most frequent: ", [f"{char(c)} {n:,}" for c, n in r["most"]]),
            *wrapped("least frequent: ", [f"{char(c)} {n:,}" for c, n in r["least"]]),
        ]),
        ("Line length in characters", [length_line(lines), *histogram(lines["histogram"])]),
        ("What the 90/10 split holds out", [
            f"train {split['train_chars']:,} characters · validation {split['val_chars']:,} "
            f"({split['val_lines']:,} lines from line {split['val_starts_at_line']:,})",
            "characters only in validation: " + (repr(only) if only else "none"),
            f"--batch {walk['batch']} --seq-len {walk['seq_len']}: {walk['chunks']:,} chunks "
            f"per epoch ({walk['per_stream']:,} characters per stream)",
            "starts: " + repr(split["val_sample"][:120]),
        ]),
        ("Sample (the start)", r["sample"].splitlines()),
    ]  # fmt: skip


def labelled_sections(r: dict[str, Any]) -> list[Section]:
    labels, splits, unit = r["labels"], r["splits"], r["unit"]
    names = ("train", "val", "test")
    rows = [[label, *(f"{splits[s]['per_label'][i]:,}" for s in names)]
            for i, label in enumerate(labels)]  # fmt: skip
    rows.append(["all", *(f"{splits[s]['examples']:,}" for s in names)])
    majority = r["majority"]
    cut = r["live"]["seq_len"]
    lengths = r["lengths"]
    vocab = r["vocabulary"]
    whole = r["coverage"][-1]["tokens"]  # a top N past the vocabulary is the last row again
    cover = [[_top(row), pct(row["val"]), pct(row["test"])] for row in r["coverage"]
             if row["tokens"] < whole or row["entries"] is None]  # fmt: skip
    current = r["live"].get("vocabulary")
    if current is not None:
        cover.append([f"--vocab-size {current['vocab_size']} --min-freq {current['min_freq']} "
                      f"({current['entries']:,} entries)", pct(current["val"]),
                      pct(current["test"])])  # fmt: skip
    skew = [line for label, items in r["skewed"].items()
            for line in wrapped(f"{label}: ", [f"{_tok(t)} {n:,} ({pct(s)})"
                                               for t, n, s in items])]  # fmt: skip
    samples = [line for label, texts in r["samples"].items()
               for line in prose(f"{label}: ", " · ".join(texts))]  # fmt: skip
    return [
        ("Examples", [*_table(["", *names], rows),
                      f"majority class ({majority['label']}): {pct(majority['accuracy']['val'])} "
                      f"of val, {pct(majority['accuracy']['test'])} of test"]),
        (f"Length in {unit} (all {lengths['count']:,} texts)", [
            length_line(lengths), *histogram(lengths["histogram"]),
            f"--seq-len {cut['value']} cuts {pct(cut['texts'])} of the texts "
            f"({pct(cut['tokens'])} of the {unit})",
        ]),
        ("Vocabulary", [
            f"{vocab['train_types']:,} distinct in training ({vocab['train_tokens']:,} {unit}); "
            f"{vocab['all_types']:,} in all splits",
            *_table(["coverage of val/test", "val", "test"], cover),
        ]),
        ("Most frequent in training", wrapped("", [f"{_tok(t)} {n:,}" for t, n in r["frequent"]])),
        (f"Most label-skewed (seen at least {r['skew_min_count']:,} times)", skew),
        ("Samples", samples),
    ]  # fmt: skip


def _top(row: dict[str, Any]) -> str:
    if row["entries"] is None:
        return f"every training token ({row['tokens']:,})"
    return f"top {row['entries']:,} (--vocab-size {row['entries']}, min-freq 1)"


def _tok(token: str) -> str:
    unreadable = not token.strip() or (len(token) == 1 and not token.isalnum())
    return repr(token) if unreadable else token


def parallel_sections(r: dict[str, Any]) -> list[Section]:
    langs = r["languages"]
    pairs = r["pairs"]
    live = r["live"]
    sides = ("src", "tgt")
    head = ["", f"{langs['src']} (source)", f"{langs['tgt']} (target)"]
    lengths = r["lengths"]
    stats = [[k, *(f"{lengths[s][key]:,}" if key != "mean" else f"{lengths[s]['mean']:.1f}"
                   for s in sides)]
             for k, key in (("mean", "mean"), ("min", "min"), ("max", "max"))]  # fmt: skip
    stats[1:1] = [[f"p{p}", *(f"{lengths[s]['percentiles'][p]:,}" for s in sides)]
                  for p in ("50", "90", "95", "99")]  # fmt: skip
    ratio = r["ratio"]
    vocab = r["vocabulary"]
    mf = live["min_freq"]
    vrows = [
        ["distinct in training", *(f"{vocab[s]['train_types']:,}" for s in sides)],
        [f"vocabulary at --min-freq {mf}", *(f"{live['vocabulary'][s]['entries']:,}"
                                               for s in sides)],
        ["unknown in val", *(pct(live["vocabulary"][s]["val_oov"]) for s in sides)],
        ["unknown in test", *(pct(live["vocabulary"][s]["test_oov"]) for s in sides)],
    ]  # fmt: skip
    cut = live["max_len"]
    out: list[Section] = [
        ("Pairs", [f"{r['direction']} ({langs['src']} → {langs['tgt']}): train "
                   f"{pairs['train']:,} · val {pairs['val']:,} · test {pairs['test']:,}"]),
        ("Length in tokens (all pairs)", _table(head, stats)),
    ]  # fmt: skip
    for s in sides:
        out.append((f"{langs[s]} lengths", histogram(lengths[s]["histogram"])))
    if ratio["pairs"]:
        out.append(("Length ratio target/source", [
            f"mean {ratio['mean']:.2f} · median {ratio['median']:.2f} · p5 {ratio['p5']:.2f} · "
            f"p95 {ratio['p95']:.2f}", *histogram(ratio["histogram"])]))  # fmt: skip
    out += [
        ("Vocabulary", [*_table(head, vrows),
                        f"--max-len {cut['value']} drops {pct(cut['share'])} of the training "
                        f"pairs ({cut['dropped']:,})"]),
        ("Samples", [line for a, b in r["samples"] for line in prose("", f"{a}  →  {b}")]),
    ]  # fmt: skip
    return out


def series_sections(r: dict[str, Any]) -> list[Section]:
    s = r["summary"]
    split = r["split"]
    unit = f" ({r['unit']})" if r["unit"] else ""
    acf = r["acf"]
    season = r["season"]
    marks = sorted({k for k in (1, season, 2 * season) if 0 < k < len(acf)})
    decomposition = r["decomposition"]
    if decomposition["available"]:
        dec = [f"additive, moving average over {decomposition['season']}: trend strength "
               f"{decomposition['trend_strength']:.2f} · seasonal strength "
               f"{decomposition['seasonal_strength']:.2f}"]  # fmt: skip
    else:
        dec = [f"not shown: {decomposition['reason']}"]
    rows = []
    missing: dict[str, list[str]] = {}
    for t in r["transforms"]:
        name = t["name"] + (" (auto)" if t["name"] == r["auto_transform"] else "")
        if not t["available"]:
            rows.append([name, "n/a", "", "", ""])
            missing.setdefault(t["reason"], []).append(t["name"])
            continue
        seasonal = "-" if t["acf_season"] is None else f"{t['acf_season']:.2f}"
        rows.append([name, f"{t['std']:.3g}", f"{t['acf1']:.2f}", seasonal, pct(t["outside"])])
    w = r["live"]["windows"]
    return [
        ("Series", [
            f"{r['name']} · column {r['column']}{unit} · {r['frequency']}, season {season}",
            f"{s['count']:,} values, {r['dates'][0]} to {r['dates'][-1]}",
            f"mean {s['mean']:.4g} · std {s['std']:.4g} · min {s['min']:.4g} · median "
            f"{s['median']:.4g} · max {s['max']:.4g}",
        ]),
        ("Split (in time order)", [
            " · ".join(f"{k} {v['count']:,} ({v['from']} to {v['to']})" for k, v in split.items())
        ]),
        ("Repairs by the loader", r["repairs"] or ["none"]),
        ("Autocorrelation", [" · ".join(f"lag {k} {acf[k]:.2f}" for k in marks) or "-"]),
        ("Seasonal decomposition", dec),
        ("Transforms (the scaled series the model learns on)", [
            *_table(["--transform", "std", "acf 1", f"acf {season}", "val/test beyond ±1"],
                    rows),
            *(line for reason, names in missing.items()
              for line in prose(f"n/a ({', '.join(names)}): ", reason)),
            f"--seq-len {w['seq_len']}: {w['count']:,} training windows with {w['transform']}",
        ]),
    ]  # fmt: skip


SECTIONS: dict[str, Callable[[dict[str, Any]], list[Section]]] = {
    "text": text_sections,
    "labelled text": labelled_sections,
    "parallel text": parallel_sections,
    "series": series_sections,
}


def sections(report: dict[str, Any]) -> list[Section]:
    """The report's sections, its loader's notes last."""
    out = SECTIONS[report["kind"]](report)
    notes = report.get("notes") or []
    return out + ([("Notes", list(notes))] if notes else [])


def title(report: dict[str, Any]) -> str:
    """``imdb · sentiment · labelled text · /path/to/file``."""
    return f"{report['dataset']} · {report['task']} · {report['kind']} · {report['path']}"


def render(report: dict[str, Any]) -> str:
    """The whole report as text (sections, lines indented by two spaces)."""
    out = [title(report)]
    for name, lines in sections(report):
        out += ["", name, *(f"  {line}" for line in lines)]
    return "\n".join(out)
