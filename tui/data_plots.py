"""Plotext figures of a dataset profile: each a function that draws on a plotext object.

The same drawings serve ``rnn-tui data show`` (the `plotext` module, as text) and the Data
screen (`textual_plotext.PlotextPlot.plt`), from `tasks.data.profile.Profile.report()`.
No textual here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

Draw = Callable[[Any], None]
"""Draws one figure on a plotext object (title, data, axes)."""

CUT_COLOR = "gray"
TICKS = 4


def _ticks(plt: Any, dates: Sequence[str]) -> None:
    """About `TICKS` date labels along an x axis of positions 0..n-1."""
    n = len(dates)
    if n < 2:
        return
    spots = sorted({round(i * (n - 1) / (TICKS - 1)) for i in range(TICKS)})
    plt.xticks(spots, [dates[i] for i in spots])


def _cuts(plt: Any, split: dict[str, Any]) -> None:
    for part in ("val", "test"):
        plt.vline(split[part]["start"], CUT_COLOR)


def _known(xs: Sequence[float | None]) -> tuple[list[int], list[float]]:
    pairs = [(i, v) for i, v in enumerate(xs) if v is not None]
    return [i for i, _ in pairs], [v for _, v in pairs]


def series_plot(r: dict[str, Any]) -> Draw:
    """The series, the validation and test cuts as vertical lines."""

    def draw(plt: Any) -> None:
        split = r["split"]
        plt.title(f"{r['name']}: train {split['train']['count']:,} | val "
                  f"{split['val']['count']:,} | test {split['test']['count']:,}")  # fmt: skip
        plt.plot(list(range(len(r["values"]))), r["values"], color="cyan", marker="braille")
        _cuts(plt, split)
        _ticks(plt, r["dates"])
        plt.ylabel(r["unit"] or r["column"])

    return draw


def acf_plot(r: dict[str, Any]) -> Draw:
    """The autocorrelation by lag, as bars."""

    def draw(plt: Any) -> None:
        plt.title(f"autocorrelation, lags 0-{len(r['acf']) - 1} (season {r['season']})")
        lags = list(range(len(r["acf"])))
        plt.plot([0, lags[-1]], [0, 0], color=CUT_COLOR, marker="braille")
        plt.plot(lags, [v or 0.0 for v in r["acf"]], color="orange", marker="braille")
        plt.ylim(-1, 1)
        plt.xlabel("lag")

    return draw


def trend_plot(r: dict[str, Any]) -> Draw:
    """The series with its moving-average trend."""
    d = r["decomposition"]

    def draw(plt: Any) -> None:
        plt.title(f"trend (moving average over {d['season']}), strength "
                  f"{d['trend_strength']:.2f}")  # fmt: skip
        n = len(r["values"])
        plt.plot(list(range(n)), r["values"], color="gray", marker="braille", label="series")
        xs, ys = _known(d["trend"])
        plt.plot(xs, ys, color="green", marker="braille", label="trend")
        _ticks(plt, r["dates"])

    return draw


def seasonal_plot(r: dict[str, Any]) -> Draw:
    """The seasonal index by position in the season."""
    d = r["decomposition"]

    def draw(plt: Any) -> None:
        plt.title(f"seasonal index, strength {d['seasonal_strength']:.2f}")
        index = d["seasonal_index"]
        plt.bar(list(range(len(index))), [v or 0.0 for v in index], color="magenta", width=0.5)
        plt.xlabel("position in the season")

    return draw


def residual_plot(r: dict[str, Any]) -> Draw:
    """What trend and season leave."""
    d = r["decomposition"]

    def draw(plt: Any) -> None:
        plt.title("residual")
        xs, ys = _known(d["residual"])
        plt.scatter(xs, ys, color="red", marker="dot")
        _ticks(plt, r["dates"])

    return draw


def transform_plot(r: dict[str, Any], t: dict[str, Any]) -> Draw:
    """One transform's scaled series, with the [-1, 1] training range and the cuts."""

    def draw(plt: Any) -> None:
        auto = " (auto)" if t["name"] == r["auto_transform"] else ""
        plt.title(f"--transform {t['name']}{auto}: std {t['std']:.3g}, acf(1) {t['acf1']:.2f}, "
                  f"{100 * t['outside']:.0f}% of val/test beyond ±1")  # fmt: skip
        xs, ys = _known(t["values"])
        plt.plot(xs, ys, color="cyan", marker="braille")
        for level in (-1, 1):
            plt.hline(level, CUT_COLOR)
        _cuts(plt, r["split"])
        _ticks(plt, r["dates"])

    return draw


def series_figures(r: dict[str, Any]) -> list[Draw]:
    """Every figure of a series report, in reading order."""
    figures = [series_plot(r), acf_plot(r)]
    if r["decomposition"]["available"]:
        figures += [trend_plot(r), seasonal_plot(r), residual_plot(r)]
    figures += [transform_plot(r, t) for t in r["transforms"] if t["available"]]
    return figures


def histogram_plot(title: str, bins: Sequence[Sequence[Any]], xlabel: str) -> Draw:
    """Bars of ``[lo, hi, count]`` bins, labelled by their lower edge."""

    def draw(plt: Any) -> None:
        plt.title(title)
        labels = [f"≥{lo:g}" if hi is None else f"{lo:g}" for lo, hi, _ in bins]
        counts = [c for _, _, c in bins]
        plt.bar(labels, counts, color="cyan")
        top = max(counts, default=0)
        plt.yticks(sorted({round(top * i / 4) for i in range(5)}))  # counts: whole numbers
        plt.xlabel(xlabel)

    return draw


def histogram_figures(r: dict[str, Any]) -> list[Draw]:
    """The length histograms of a text, labelled or parallel report."""
    kind = r["kind"]
    if kind == "text":
        return [histogram_plot("line length", r["line_lengths"]["histogram"], "characters")]
    if kind == "labelled text":
        return [histogram_plot(f"length in {r['unit']}", r["lengths"]["histogram"], r["unit"])]
    if kind == "parallel text":
        langs = r["languages"]
        out = [histogram_plot(f"{langs[s]} length", r["lengths"][s]["histogram"], "tokens")
               for s in ("src", "tgt")]  # fmt: skip
        if r["ratio"]["pairs"]:
            out.append(histogram_plot("length ratio target/source", r["ratio"]["histogram"],
                                      "ratio"))  # fmt: skip
        return out
    return series_figures(r)
