"""`rnn-tui inspect CHECKPOINT`: what a model's units track, and what its verdicts rest on.

A charlm checkpoint: its states are traced over a text (`--text FILE`, or the run's validation
text) and the command prints the units that correlate best with each built-in text feature (or
with `--regex RE`), the gate saturation per layer and gate, or one unit (`--unit L:N`). A
sentiment checkpoint: the faithfulness of integrated gradients, gradient x input and attention
(the probability drop when each one's top-k tokens are removed, against k random tokens), and
with `--text FILE` each review's saliency. Layers and units are counted from 1, as in the app.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from typing import Any

from tui.cli.common import CliError, positive_int

TOP_TOKENS = 5
"""Tokens named per method in a review's saliency."""
STRETCH = 60
"""Characters of the stretch shown where a unit is most active."""
CONSTANT = "constant over this text: nothing to correlate with"


def register(sub: Any) -> None:
    """Add the `inspect` parser."""
    from models.inspect.features import FEATURES

    p = sub.add_parser(
        "inspect",
        help="what a charlm or sentiment checkpoint's units track, and its saliency",
        description="charlm: the units that track each text feature (|correlation|), the gate "
        "saturation, or one unit with --unit; sentiment: the faithfulness of integrated "
        "gradients, gradient x input and attention (and each review's saliency with --text). "
        "Layers and units are counted from 1.",
    )
    p.add_argument("checkpoint", help="a charlm or sentiment checkpoint (.pt) or its run folder")
    p.add_argument(
        "--text",
        metavar="FILE",
        help="charlm: a UTF-8 text to trace; sentiment: one review per line, blank lines "
        "skipped, each review's saliency printed (default: the run's validation text / test "
        "reviews)",
    )
    p.add_argument(
        "--unit",
        metavar="L:N",
        type=unit_spec,
        help="charlm: unit N of layer L, both from 1: its correlation with every feature for "
        "each kind, and where it is most active (default: the ranking of all units)",
    )
    signal = p.add_mutually_exclusive_group()
    signal.add_argument(
        "--feature",
        choices=list(FEATURES),
        metavar="NAME",
        help=f"charlm: rank the units for this feature only: {', '.join(FEATURES)} (default: "
        "every feature)",
    )
    signal.add_argument(
        "--regex",
        metavar="RE",
        help="charlm: rank the units for 'inside a match of RE' instead of the features (with "
        "--unit: as well as them)",
    )
    p.add_argument(
        "--top",
        metavar="N",
        type=positive_int,
        default=3,
        help="charlm: units per feature (default: %(default)s)",
    )
    p.add_argument(
        "--limit",
        metavar="CHARS",
        type=positive_int,
        default=100_000,
        help="charlm: trace the first CHARS characters of the text (default: %(default)s)",
    )
    p.add_argument(
        "--reviews",
        metavar="N",
        type=positive_int,
        default=500,
        help="sentiment: the first N test reviews of the run's dataset (default: %(default)s)",
    )
    p.add_argument(
        "--k",
        metavar="K",
        type=positive_int,
        default=5,
        help="sentiment: tokens removed per review (default: %(default)s)",
    )
    p.add_argument(
        "--json", action="store_true", help="one JSON object with everything printed (default: off)"
    )
    p.add_argument(
        "--threads",
        metavar="N",
        type=positive_int,
        default=1,
        help="torch CPU threads (default: %(default)s)",
    )
    p.set_defaults(func=cmd_inspect)


def unit_spec(text: str) -> tuple[int, int]:
    """argparse type: ``L:N`` -> (layer, unit), both counted from 1."""
    match = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", text)
    if match is None or min(int(match[1]), int(match[2])) < 1:
        raise argparse.ArgumentTypeError(
            f"expected L:N, layer and unit counted from 1, e.g. 1:17 (got {text!r})"
        )
    return int(match[1]), int(match[2])


def cmd_inspect(args: argparse.Namespace) -> int:
    import torch

    from tasks.engine.checkpoint import load_checkpoint
    from tasks.registry import config_from_dict

    torch.set_num_threads(args.threads)
    payload = load_checkpoint(args.checkpoint)
    task = str(payload.get("task"))
    if task not in ("charlm", "sentiment"):
        raise CliError(f"{args.checkpoint} is a {task!r} checkpoint; inspect covers charlm and "
                       "sentiment checkpoints")  # fmt: skip
    config = config_from_dict(payload["config"])
    head = {"checkpoint": args.checkpoint, "task": task}
    if task == "charlm":
        report = head | _charlm(args, payload, config)
        print(json.dumps(report, ensure_ascii=False) if args.json else _charlm_text(report))
    else:
        report = head | _sentiment(args, payload, config)
        print(json.dumps(report, ensure_ascii=False) if args.json else _sentiment_text(report))
    return 0


class _Bar:
    """`tracing ━━━━━━────── 40%` on stderr, redrawn in place; silent unless it is a terminal."""

    def __init__(self, label: str, width: int = 30) -> None:
        self.label, self.width = label, width
        self.enabled = sys.stderr.isatty()
        self.drawn = 0.0

    def update(self, fraction: float) -> None:
        now = time.monotonic()
        if not self.enabled or (fraction < 1 and now - self.drawn < 0.1):
            return
        self.drawn = now
        full = round(min(max(fraction, 0.0), 1.0) * self.width)
        sys.stderr.write(f"\r{self.label} {'━' * full}{'─' * (self.width - full)} {fraction:4.0%}")
        sys.stderr.flush()

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled and self.drawn:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


# -- charlm --------------------------------------------------------------------------------


def _charlm(args: argparse.Namespace, payload: dict[str, Any], config: Any) -> dict[str, Any]:
    """The report of a charlm checkpoint (`_charlm_text` prints it; --json dumps it)."""
    from models.inspect import check_inspectable, saturation
    from tasks.charlm.inspect import trace_charlm

    check_inspectable(config.arch)
    if args.unit is not None:  # before the trace: a unit out of range needs no tracing to say so
        layer, unit = args.unit
        if layer > config.layers:
            raise CliError(f"--unit {layer}:{unit}: the model has {config.layers} layer(s)")
        if unit > config.hidden:
            raise CliError(f"--unit {layer}:{unit}: layer {layer} has {config.hidden} units")
    text, source = _trace_text(args, config)
    with _Bar("tracing") as bar:
        trace = trace_charlm(payload, config, text, progress=bar.update)
    report: dict[str, Any] = {
        "model": f"{config.arch} {trace.layers}×{trace.units}",
        "layers": trace.layers,
        "units": trace.units,
        "kinds": list(trace.kinds),
        "gates": list(trace.gates),
        "text": {"source": source, "characters": len(text)},
    }
    if args.unit is not None:
        return report | {"unit": _unit_report(args, trace)}
    signals = _signals(args, trace.text, every=False)
    kinds = tuple(k for k in ("h", "c") if k in trace.kinds)
    return report | {
        "ranked_kinds": list(kinds),
        "features": _ranked(trace, signals, kinds, args.top),
        "saturation": [_saturation_row(s) for s in saturation(trace)],
    }


def _trace_text(args: argparse.Namespace, config: Any) -> tuple[str, str]:
    """The text to trace (at most --limit characters) and where it came from."""
    from tasks.data.text import read_text
    from tasks.inspect_inputs import inspection_text

    if args.text is None:
        return inspection_text(config, limit=args.limit)
    text = read_text(args.text)
    if len(text) > args.limit:
        return text[: args.limit], f"{args.text}, first {args.limit:,} of {len(text):,} characters"
    return text, f"{args.text}, {len(text):,} characters"


def _signals(args: argparse.Namespace, text: str, every: bool) -> list[dict[str, Any]]:
    """name, description and (T,) signal of the features asked for: --feature alone, else
    every feature; --regex instead of them (with `every`: after them)."""
    from models.inspect.features import FEATURES, feature, regex_feature

    names = [args.feature] if args.feature else list(FEATURES)
    out = [{"name": n, "description": FEATURES[n], "signal": feature(text, n)} for n in names]
    if args.regex is None:
        return out
    found = {"name": f"regex {args.regex}", "description": f"inside a match of {args.regex!r}",
             "signal": regex_feature(text, args.regex)}  # fmt: skip
    return [*out, found] if every else [found]


def _ranked(trace: Any, signals: list[dict[str, Any]], kinds: tuple[str, ...], top: int):
    """Per signal, the `top` units of `kinds` by |correlation| (none when it is constant)."""
    from models.inspect import rank_units_each

    ranked = rank_units_each(trace, [s["signal"] for s in signals], kinds=kinds, top=top)
    return [
        {"name": s["name"], "description": s["description"], "note": "", "units": []}
        | ({"note": CONSTANT} if scores is None else {"units": [_score(u) for u in scores]})
        for s, scores in zip(signals, ranked, strict=True)
    ]


def _score(score: Any) -> dict[str, Any]:
    return {"layer": score.layer + 1, "unit": score.unit + 1, "kind": score.kind,
            "correlation": round(float(score.correlation), 5)}  # fmt: skip


def _saturation_row(s: Any) -> dict[str, Any]:
    """Mean fractions of steps left- and right-saturated, the share of units saturated more
    than half the time, and every unit's fractions."""
    row: dict[str, Any] = {"layer": s.layer + 1, "gate": s.gate}
    sides = (("left", s.left), ("right", s.right))
    for side, values in sides:
        row[f"{side}_mean"] = round(float(values.mean()), 5)
        row[f"{side}_saturated_units"] = round(float((values > 0.5).mean()), 5)
    return row | {
        f"{side}_per_unit": [round(float(v), 5) for v in values] for side, values in sides
    }


def _unit_report(args: argparse.Namespace, trace: Any) -> dict[str, Any]:
    """One unit: its correlation with each signal for every kind, and its most active stretch."""
    import numpy as np

    from models.inspect import unit_correlation

    layer, unit = args.unit  # in range: `_charlm` checked it
    rows = []
    for signal in _signals(args, trace.text, every=True):
        row = {"name": signal["name"], "description": signal["description"], "note": "",
               "correlation": dict.fromkeys(trace.kinds)}  # fmt: skip
        values = signal["signal"]
        if values.max() == values.min():
            row["note"] = CONSTANT
        else:
            for kind in trace.kinds:
                r = unit_correlation(trace.unit(layer - 1, kind, unit - 1), values)
                row["correlation"][kind] = round(r, 5)
        rows.append(row)
    values = trace.unit(layer - 1, "h", unit - 1)  # (T,)
    width = min(STRETCH, len(values))
    means = np.convolve(values, np.full(width, 1 / width), mode="valid")  # (T - width + 1,)
    start = int(np.abs(means).argmax())  # the strongest stretch, either sign
    stretch = {
        "kind": "h",
        "start": start,
        "end": start + width,
        "mean": round(float(means[start]), 5),
        "text": trace.text[start : start + width],
    }
    return {"layer": layer, "unit": unit, "features": rows, "most_active": stretch}


def _charlm_text(report: dict[str, Any]) -> str:
    lines = [f"text: {report['text']['source']}", f"model: {report['model']} "
             f"(kinds: {', '.join(report['kinds'])})"]  # fmt: skip
    if "unit" in report:
        return "\n".join([*lines, "", *_unit_lines(report["unit"], report["kinds"])])
    kinds = " and ".join(report["ranked_kinds"])
    lines += ["", f"units that track each feature (layer:unit, kinds {kinds}, by |correlation|)",
              f"{'feature':24} {'unit':>8}  {'kind':4} {'correlation':>11}"]  # fmt: skip
    for row in report["features"]:
        if not row["units"]:
            lines.append(f"{row['name']:24} {'—':>8}  {row['note']}")
        for i, s in enumerate(row["units"]):
            name = row["name"] if i == 0 else ""
            lines.append(f"{name:24} {s['layer']:>4}:{s['unit']:<3}  {s['kind']:4} "
                         f"{s['correlation']:+11.3f}")  # fmt: skip
    lines.append("")
    if not report["saturation"]:
        lines.append(f"gate saturation: {report['model'].split()[0]} has no gates")
        return "\n".join(lines)
    lines += ["gate saturation: mean fraction of steps left (< 0.1) and right (> 0.9), and the "
              "share of units saturated more than half the time",
              f"{'layer':>5}  {'gate':12} {'left':>6} {'right':>6} {'units left':>10} "
              f"{'units right':>11}"]  # fmt: skip
    for row in report["saturation"]:
        lines.append(f"{row['layer']:>5}  {row['gate']:12} {row['left_mean']:6.3f} "
                     f"{row['right_mean']:6.3f} {row['left_saturated_units']:10.0%} "
                     f"{row['right_saturated_units']:11.0%}")  # fmt: skip
    return "\n".join(lines)


def _unit_lines(unit: dict[str, Any], kinds: list[str]) -> list[str]:
    widths = [max(len(k), 7) for k in kinds]
    lines = [
        f"unit {unit['layer']}:{unit['unit']}: correlation with each feature",
        f"{'feature':24} " + " ".join(f"{k:>{w}}" for k, w in zip(kinds, widths, strict=True)),
    ]
    for row in unit["features"]:
        if row["note"]:
            lines.append(f"{row['name']:24} {'—':>{widths[0]}}  {row['note']}")
            continue
        cells = (f"{row['correlation'][k]:+{w}.3f}" for k, w in zip(kinds, widths, strict=True))
        lines.append(f"{row['name']:24} " + " ".join(cells))
    s = unit["most_active"]
    lines += ["", f"most active (h, mean {s['mean']:+.3f} over characters {s['start'] + 1:,} to "
              f"{s['end']:,}):", "  " + s["text"].replace("\n", "⏎")]  # fmt: skip
    return lines


# -- sentiment -----------------------------------------------------------------------------


def _sentiment(args: argparse.Namespace, payload: dict[str, Any], config: Any) -> dict:
    """The report of a sentiment checkpoint (`_sentiment_text` prints it; --json dumps it)."""
    from tasks.engine.player import load_player
    from tasks.inspect_inputs import inspection_reviews
    from tasks.sentiment.explain import faithfulness, mean_drops

    used = [f"--{name}" for name in ("unit", "feature", "regex") if getattr(args, name)]
    if used:
        raise CliError(f"{', '.join(used)}: for charlm checkpoints; a sentiment one reports "
                       "saliency and faithfulness")  # fmt: skip
    predictor = load_player(payload, "sentiment")
    report: dict[str, Any] = {"model": predictor.describe()}
    if args.text is None:
        texts, _, source = inspection_reviews(config, args.reviews)
        with _Bar("explaining") as bar:
            faith = faithfulness(predictor, texts, k=args.k, progress=bar.update)
    else:
        texts, numbers = _review_lines(args.text)
        source = f"{args.text}, {len(texts):,} reviews"
        report["saliency"], rows = _saliencies(predictor, texts, numbers, args)
        try:  # what `faithfulness` gives for these texts, from the rows already computed
            faith = mean_drops(rows, args.k, given=len(texts))
        except ValueError as exc:
            raise CliError(str(exc)) from None
    summary = {"k": faith.k, "reviews": faith.reviews, "skipped": len(texts) - faith.reviews,
               "drop": {m: round(v, 5) for m, v in faith.drop.items()}}  # fmt: skip
    return {"reviews": {"source": source, "count": len(texts)}} | report | {"faithfulness": summary}


def _review_lines(path: str) -> tuple[list[str], list[int]]:
    """The non-blank lines of a UTF-8 file and their line numbers (from 1)."""
    from tasks.data.text import read_text

    lines = read_text(path).split("\n")
    kept = [(n, line.strip()) for n, line in enumerate(lines, 1) if line.strip()]
    return [t for _, t in kept], [n for n, _ in kept]


def _saliencies(
    predictor: Any, texts: list[str], numbers: list[int], args: argparse.Namespace
) -> tuple[list[dict[str, Any]], list[dict[str, float]]]:
    """Each review's saliency and drops, and the drops of the reviews that have them (more
    than k tokens read); seeds as `faithfulness` draws them (review i: i)."""
    from dataclasses import asdict

    from tasks.sentiment.explain import review_drops, saliency

    out, rows = [], []
    with _Bar("saliency") as bar:
        for i, (text, number) in enumerate(zip(texts, numbers, strict=True)):
            try:
                found = saliency(predictor, text)
            except ValueError as exc:
                raise CliError(f"{args.text}, line {number}: {exc}") from None
            try:
                drops: dict[str, float] | None = review_drops(predictor, text, args.k, seed=i)
            except ValueError:  # at most k tokens read
                drops = None
            if drops is not None:
                rows.append(drops)
            entry = {"line": number, "text": text} | asdict(found)
            entry["drops"] = None if drops is None else {m: round(v, 5) for m, v in drops.items()}
            out.append(entry)
            bar.update((i + 1) / len(texts))
    return out, rows


def _top_tokens(tokens: list[str], values: list[float] | None, sign: str = "+") -> str:
    """`great +0.41 · film +0.12`: the `TOP_TOKENS` tokens of the largest values."""
    if values is None:
        return "none (the model has no attention)"
    order = sorted(range(len(values)), key=lambda i: -values[i])[:TOP_TOKENS]
    return " · ".join(f"{tokens[i]} {values[i]:{sign}.3f}" for i in order)


def _sentiment_text(report: dict[str, Any]) -> str:
    f = report["faithfulness"]
    k = f["k"]
    lines = [f"reviews: {report['reviews']['source']}", f"model: {report['model']}"]
    for s in report.get("saliency", []):
        shown = s["text"] if len(s["text"]) <= 70 else s["text"][:69] + "…"
        probability = s["positive"] if s["label"] == "positive" else 1 - s["positive"]
        lines += ["", f"line {s['line']}: {s['label']} {probability:.3f}  {shown}",
                  f"  integrated gradients: {_top_tokens(s['tokens'], s['integrated_gradients'])}",
                  f"  attention: {_top_tokens(s['tokens'], s['attention'], sign='')}"]  # fmt: skip
        drops = s["drops"]
        lines.append(
            f"  drop without the top {k}: "
            + (" · ".join(f"{m} {v:+.3f}" for m, v in drops.items()) if drops else "too short")
        )
    skipped = f" ({f['skipped']:,} skipped: at most {k} tokens read)" if f["skipped"] else ""
    lines += ["", f"faithfulness over {f['reviews']:,} reviews{skipped}: mean drop in the "
              f"predicted label's probability when {k} tokens are removed"]  # fmt: skip
    for method, value in f["drop"].items():
        name = f"random ({k} tokens)" if method == "random" else f"top {k} by {method}"
        lines.append(f"  {name:34} {value:+.3f}")
    explained = {m: v for m, v in f["drop"].items() if m != "random"}
    best = max(explained, key=lambda m: explained[m])
    lines.append(f"  most faithful: {best} (the largest drop)")
    return "\n".join(lines)
