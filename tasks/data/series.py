"""Univariate time series: reading CSVs, repairing them, splitting, scaling and windowing.

NumPy and scikit-learn only (no torch, no textual). The pieces, in the order a task uses them:

- `load_series(spec)` turns ``--dataset NAME|PATH[#COLUMNS]`` into a `Series` (dates, values,
  frequency, season length, and the repairs it made). Registry names use their known columns and
  date formats (`SPECS`); a local CSV takes its columns after a ``#``: ``prices.csv#Close`` (the
  value column) or ``prices.csv#Date,Close`` (date column, value column), each by header name or
  0-based index. Without a ``#``, the date is column 0 and the value is column 1 of a two-column
  file, else a column named close/value/y.
- Repairs, each reported in `Series.repairs` (never silent): rows are sorted by date; values of
  duplicate dates are averaged; missing values (empty, NA, NaN, ?) are filled by linear
  interpolation (at the ends, by the nearest value). A value that is not a number, a date that
  does not parse, or a series with fewer than 3 values is an error (`SeriesError`, one line).
- `chronological_split(n, ...)` cuts train / validation / test in time order (no shuffling).
- `Preprocessor` is the documented transform ``y -> z``: an optional log, optional differencing
  at lag 1 or at the season length, then min-max scaling to [-1, 1] fitted on the training part
  only (`sklearn.preprocessing.MinMaxScaler`). It inverts forecasts back to original units.
- `persistence` / `seasonal_naive` are the baselines, for any forecast lead.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from tasks.data.info import DatasetError
from tasks.data.resolve import identify, resolve
from tasks.timeseries.settings import TRANSFORMS  # auto, none, log, diff, log-diff, ...

MISSING = {"", "na", "n/a", "nan", "null", "none", "?", "-", "."}
"""Cell texts (lower-cased, stripped) read as a missing value."""

DATE_FORMATS = (
    "%Y-%m-%d", "%Y-%m", "%Y/%m/%d", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S", "%Y", "%d-%m-%y", "%d/%m/%y",
)  # fmt: skip
"""Tried in order when a file's date format is not known; the first that reads every row wins
(``%Y`` takes exactly four digits, so ``DD-MM-YY`` dates, as in sp500.csv, never read as ISO)."""


MIN_LENGTH = 3


class SeriesError(DatasetError):
    """A series cannot be read or used; the message is one line and names the problem."""


@dataclass(frozen=True)
class SeriesSpec:
    """How to read one registry series, and the task's choices for it."""

    value_column: str | int
    date_column: str | int = 0
    date_format: str | None = None
    season: int = 0
    """Season length; 0: from the frequency of the dates."""
    test_size: int = 0
    """Points at the end held out for the test; 0: 20% of the series."""
    val_size: int = 0
    """Points before the test for validation (model selection); 0: 10% of the series."""
    transform: str = "none"
    """What ``--transform auto`` means for this series."""
    date_features: bool = False
    """Feed sin/cos of the position within the season (month of year, day of year)."""
    unit: str = ""


SPECS: dict[str, SeriesSpec] = {
    # Multiplicative seasonality with trend: log, then the change on the same month last year.
    "airline-passengers": SeriesSpec(
        "Passengers",
        season=12,
        test_size=48,
        val_size=12,
        transform="log-seasonal",
        unit="thousand passengers",
    ),
    # A yearly cycle that a 30-day window cannot see: give the day of the year as features.
    "daily-min-temperatures": SeriesSpec(
        "Temp", season=365, test_size=365, val_size=365, date_features=True, unit="°C"
    ),
    # The ~11-year cycle is not a calendar season; the season length stays the frequency's 12.
    "monthly-sunspots": SeriesSpec("Sunspots", season=12, unit="sunspot number"),
    # Prices: model log returns (a random walk's increments).
    "sp500": SeriesSpec(
        "Close",
        date_column="Date",
        date_format="%d-%m-%y",
        season=5,
        transform="log-diff",
        unit="index points",
    ),
    "synthetic-series": SeriesSpec(
        "value", season=12, test_size=48, val_size=24, transform="seasonal", unit="units"
    ),
}
"""Registry series -> how to read and model them (local files use `SeriesSpec` defaults)."""


@dataclass
class Series:
    """A univariate series with its dates, in time order."""

    name: str
    dates: np.ndarray
    """datetime64[D] (T,), or None-like int positions when the file has no dates."""
    values: np.ndarray
    """float64 (T,), no NaN."""
    freq: str
    """daily, business-daily, weekly, monthly, quarterly, yearly or irregular."""
    season: int
    """Season length in steps (1: no seasonality)."""
    column: str = ""
    unit: str = ""
    repairs: list[str] = field(default_factory=list)
    """What was repaired, one short phrase each (shown to the user)."""
    spec: SeriesSpec | None = None
    note: str = ""
    """How the data was found (offline default, data root...)."""
    source: str = "local path"
    """`Resolved.source`: local path, data root, cache, download or offline default."""
    _dates: list[date] = field(default_factory=list, repr=False)

    def __len__(self) -> int:
        return len(self.values)

    def date_text(self, i: int) -> str:
        """The date of step i as text (beyond the end: extrapolated at the series' frequency)."""
        d = self.date_at(i)
        return d.strftime("%Y-%m") if self.freq in ("monthly", "quarterly") else d.isoformat()

    def date_at(self, i: int) -> date:
        """The date of step i; steps past the end continue the frequency."""
        return self.dates_through(i + 1)[i]

    def dates_through(self, m: int) -> list[date]:
        """The dates of steps 0..m-1 (extended past the end at the series' frequency; cached)."""
        if not self._dates:
            self._dates = list(self.dates.astype(object))
        out = self._dates
        if len(out) >= m:
            return out
        n = len(self.dates)
        step = int(np.median(np.diff(self.dates).astype(int))) if n > 1 else 1
        first: date = out[n - 1]
        while len(out) < m:
            last = out[-1]
            if self.freq in ("monthly", "quarterly", "yearly"):
                k = len(out) - n + 1
                months = {"monthly": 1, "quarterly": 3, "yearly": 12}[self.freq] * k
                mo = first.month - 1 + months
                out.append(date(first.year + mo // 12, mo % 12 + 1, min(first.day, 28)))
            elif self.freq == "business-daily":
                d = last + timedelta(days=1)
                while d.weekday() >= 5:
                    d += timedelta(days=1)
                out.append(d)
            else:
                out.append(last + timedelta(days=step))
        return out

    def phase(self, m: int) -> np.ndarray:
        """Position within the season in [0, 1) of steps 0..m-1 (calendar-based where known)."""
        dates = self.dates_through(m)[:m]
        if self.freq == "monthly" and self.season == 12:
            return np.array([(d.month - 1) / 12 for d in dates])
        if self.freq in ("daily", "business-daily") and self.season >= 300:
            return np.array([(d.timetuple().tm_yday - 1) / 365.25 for d in dates])
        if self.freq in ("daily", "business-daily") and self.season in (5, 7):
            return np.array([d.weekday() / 7 for d in dates])
        season = max(self.season, 1)
        return (np.arange(m) % season) / season


# -- reading -------------------------------------------------------------------------------


def parse_dataset_spec(text: str) -> tuple[str, str | int | None, str | int | None]:
    """``PATH#VALUE`` or ``PATH#DATE,VALUE`` -> (path, date column, value column)."""
    if "#" not in text:
        return text, None, None
    path, _, cols = text.rpartition("#")
    parts = [c.strip() for c in cols.split(",")]
    if len(parts) == 1 and parts[0]:
        return path, None, _column_key(parts[0])
    if len(parts) == 2 and all(parts):
        return path, _column_key(parts[0]), _column_key(parts[1])
    raise SeriesError(
        f"cannot read the columns in {text!r}: write PATH#VALUE or PATH#DATE,VALUE "
        "(names or 0-based indices)"
    )


def _column_key(text: str) -> str | int:
    return int(text) if re.fullmatch(r"-?\d+", text) else text


def _pick_column(header: list[str], key: str | int, what: str, path: Path) -> int:
    names = ", ".join(repr(h) for h in header)
    if isinstance(key, int):
        if -len(header) <= key < len(header):
            return key % len(header)
        raise SeriesError(
            f"{path.name}: no {what} column {key}; it has {len(header)} columns ({names})"
        )
    for i, h in enumerate(header):
        if h.strip().lower() == key.strip().lower():
            return i
    raise SeriesError(f"{path.name}: no {what} column named {key!r}; the columns are {names}")


def _parse_number(text: str) -> float | None:
    """A float, None for a missing marker; raises ValueError for anything else."""
    t = text.strip()
    if t.lower() in MISSING:
        return None
    value = float(t)  # a ValueError for anything that is not a number
    return None if math.isnan(value) else value


def _parse_dates(texts: list[str], fmt: str | None, path: Path, column: str) -> list[date]:
    formats = (fmt,) if fmt else DATE_FORMATS
    for f in formats:
        try:
            return [datetime.strptime(t.strip(), f).date() for t in texts]
        except ValueError:
            continue
    for row, t in enumerate(texts, start=2):  # name the first row no format reads
        if not any(_try_date(t.strip(), f) for f in formats):
            want = f" (expected {fmt})" if fmt else ""
            raise SeriesError(
                f"{path.name}: row {row} of column {column!r} is not a date: {t!r}{want}"
            )
    raise SeriesError(f"{path.name}: the dates of column {column!r} mix several formats")


def _try_date(text: str, fmt: str) -> bool:
    try:
        datetime.strptime(text, fmt)
        return True
    except ValueError:
        return False


def read_csv_series(
    path: str | Path,
    date_column: str | int | None = None,
    value_column: str | int | None = None,
    date_format: str | None = None,
    name: str | None = None,
) -> Series:
    """Read a CSV with a header row into a `Series`, repairing what can be repaired (reported).

    Raises:
        SeriesError: missing or unreadable file, no such column, a value that is not a number,
            a date that does not parse, or fewer than 3 values.
    """
    p = Path(path).expanduser()
    if not p.is_file():
        raise SeriesError(f"no such file: {p}")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SeriesError(f"cannot read {p}: {exc}") from None
    try:
        rows = [r for r in csv.reader(text.splitlines()) if any(c.strip() for c in r)]
    except csv.Error as exc:  # a field over csv's size limit (an unclosed quote), a NUL
        raise SeriesError(f"{p.name} is not a readable CSV: {exc}") from None
    if len(rows) < 2:
        raise SeriesError(f"{p.name}: expected a header row and data rows, found {len(rows)} rows")
    header, body = [h.strip() for h in rows[0]], rows[1:]
    if value_column is None:
        if len(header) == 2:
            value_column = 1
        else:
            found = [h for h in header if h.lower() in ("close", "value", "y", "adj close")]
            if not found:
                raise SeriesError(
                    f"{p.name} has {len(header)} columns ({', '.join(header)}); choose the "
                    f"value column: --dataset {p}#NAME or #INDEX"
                )
            value_column = found[0]
    vi = _pick_column(header, value_column, "value", p)
    di = _pick_column(header, 0 if date_column is None else date_column, "date", p)
    if vi == di:
        raise SeriesError(f"{p.name}: the date and value columns are the same ({header[vi]!r})")
    values: list[float] = []
    date_texts: list[str] = []
    for row_no, row in enumerate(body, start=2):
        cells = row + [""] * (len(header) - len(row))
        try:
            v = _parse_number(cells[vi])
        except ValueError:
            raise SeriesError(
                f"{p.name}: column {header[vi]!r} is not numeric: row {row_no} holds "
                f"{cells[vi].strip()[:40]!r}"
            ) from None
        values.append(np.nan if v is None else v)
        date_texts.append(cells[di])
    dates = _parse_dates(date_texts, date_format, p, header[di])
    return _repair(name or p.stem, dates, np.asarray(values, dtype=np.float64), header[vi])


def _repair(name: str, dates: list[date], values: np.ndarray, column: str) -> Series:
    repairs: list[str] = []
    d = np.array(dates, dtype="datetime64[D]")
    if np.any(~np.isfinite(values) & ~np.isnan(values)):
        raise SeriesError(f"{name}: column {column!r} holds infinite values")
    if np.any(np.diff(d).astype(int) < 0):
        order = np.argsort(d, kind="stable")
        d, values = d[order], values[order]
        repairs.append("sorted the rows by date")
    uniq, inverse, counts = np.unique(d, return_inverse=True, return_counts=True)
    if len(uniq) < len(d):
        sums = np.zeros(len(uniq))
        seen = np.zeros(len(uniq))
        ok = ~np.isnan(values)
        np.add.at(sums, inverse[ok], values[ok])
        np.add.at(seen, inverse[ok], 1)
        merged = np.where(seen > 0, sums / np.maximum(seen, 1), np.nan)
        repairs.append(f"averaged the values of {int((counts > 1).sum())} duplicated dates")
        d, values = uniq, merged
    missing = np.isnan(values)
    if missing.all():
        raise SeriesError(f"{name}: column {column!r} has no values")
    if missing.any():
        idx = np.arange(len(values))
        values = values.copy()
        values[missing] = np.interp(idx[missing], idx[~missing], values[~missing])
        repairs.append(f"filled {int(missing.sum())} missing values by linear interpolation")
    if not np.isfinite(values).all():  # averaging or filling near the float limit overflowed
        raise SeriesError(f"{name}: column {column!r} holds values too large to repair")
    if len(values) < MIN_LENGTH:
        raise SeriesError(
            f"{name}: only {len(values)} values; a series needs at least {MIN_LENGTH}"
        )
    freq = infer_frequency(d)
    return Series(name, d, values, freq, SEASONS.get(freq, 1), column=column, repairs=repairs)


SEASONS = {"daily": 7, "business-daily": 5, "weekly": 52, "monthly": 12, "quarterly": 4}
"""Season length from the frequency of the dates (a season of 1: none)."""


def infer_frequency(dates: np.ndarray) -> str:
    """daily, business-daily, weekly, monthly, quarterly, yearly or irregular (median spacing)."""
    if len(dates) < 2:
        return "irregular"
    gaps = np.diff(dates).astype(int)
    median = float(np.median(gaps))
    if median == 1:
        weekdays = np.array([x.weekday() for x in dates.astype(object)])
        return "business-daily" if (weekdays < 5).all() and (gaps == 3).any() else "daily"
    for name, lo, hi in (("weekly", 6, 8), ("monthly", 28, 31), ("quarterly", 89, 92),
                         ("yearly", 365, 366)):  # fmt: skip
        if lo <= median <= hi:
            return name
    return "irregular"


def load_series(dataset: str, season: int = 0) -> Series:
    """``--dataset NAME|PATH[#COLUMNS]`` -> a `Series` (see the module docstring).

    season: the season length to use (0: the registry's, else from the frequency of the dates).
    """
    path_text, date_col, value_col = parse_dataset_spec(dataset)
    resolved = resolve(path_text, task="timeseries")
    info = resolved.info or identify(resolved.path)  # a local copy of a registry series
    spec = SPECS.get(info.name) if info is not None else None
    if spec is not None and value_col is None:
        series = read_csv_series(
            resolved.path, spec.date_column, spec.value_column, spec.date_format, name=info.name
        )
        series.unit = spec.unit
        series.season = spec.season or series.season
    else:
        series = read_csv_series(
            resolved.path, date_col, value_col, name=info.name if info else None
        )
    series.spec = spec
    if season:
        series.season = season
    note = resolved.note if resolved.source == "offline default" else ""
    if series.repairs:
        note = (note + "; " if note else "") + "repaired: " + ", ".join(series.repairs)
    series.note = note
    series.source = resolved.source
    return series


# -- splitting, baselines --------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """Index ranges in time order.

    train [0, val_start), validation [val_start, test_start), test [test_start, n).
    """

    n: int
    val_start: int
    test_start: int


def chronological_split(n: int, test_size: int = 0, val_size: int = 0) -> Split:
    """The last `test_size` points test, the `val_size` before them validate (0: 20% / 10%)."""
    test = test_size or max(1, round(0.2 * n))
    val = val_size or max(1, round(0.1 * n))
    if test + val >= n:
        raise SeriesError(
            f"the series has {n} values: too short to hold out {test} for test and {val} for "
            "validation and still train"
        )
    return Split(n, n - test - val, n - test)


def persistence(values: np.ndarray, targets: np.ndarray, lead: int = 1) -> np.ndarray:
    """The naive forecast: the last value known `lead` steps before each target."""
    return values[targets - lead]


def seasonal_naive(
    values: np.ndarray, targets: np.ndarray, season: int, lead: int = 1
) -> np.ndarray:
    """The value one season back, from the most recent season known `lead` steps before."""
    back = season * math.ceil(lead / season)
    return values[targets - back]


def regression_metrics(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """rmse, mae, r2 (scikit-learn) in the units of y."""
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    return {
        "rmse": float(math.sqrt(mean_squared_error(y, pred))),
        "mae": float(mean_absolute_error(y, pred)),
        "r2": float(r2_score(y, pred)) if len(y) > 1 else float("nan"),
    }


# -- the transform ---------------------------------------------------------------------------


def parse_transform(transform: str, season: int) -> tuple[bool, int]:
    """A `TRANSFORMS` name (not auto) -> (log, differencing lag; 0: none)."""
    table = {"none": (False, 0), "log": (True, 0), "diff": (False, 1), "log-diff": (True, 1),
             "seasonal": (False, season), "log-seasonal": (True, season)}  # fmt: skip
    if transform not in table:
        raise SeriesError(f"--transform must be one of {', '.join(TRANSFORMS)} (got {transform!r})")
    return table[transform]


class Preprocessor:
    """y -> g(y) (log or identity) -> z_t = g_t - g_{t-lag} (lag 0: z = g) -> MinMax to [-1, 1].

    The scaler is fitted on z over the training part only. `invert_step` turns a scaled forecast
    of z_t back into y_t given g at t - lag (known, or itself forecast).
    """

    def __init__(self, log: bool, lag: int) -> None:
        self.log = log
        self.lag = lag
        self.lo = 0.0
        self.hi = 1.0

    def g(self, y: np.ndarray) -> np.ndarray:
        if self.log:
            if np.any(y <= 0):
                raise SeriesError(
                    "a log transform needs positive values; this series has zeros or negatives "
                    "(use --transform none, diff or seasonal)"
                )
            return np.log(y)
        return np.asarray(y, dtype=np.float64)

    def g_inv(self, g: np.ndarray) -> np.ndarray:
        return np.exp(g) if self.log else g

    def z(self, g: np.ndarray) -> np.ndarray:
        """z over the whole series (NaN for the first `lag` steps)."""
        if not self.lag:
            return g.copy()
        out = np.full_like(g, np.nan)
        out[self.lag :] = g[self.lag :] - g[: -self.lag]
        return out

    def fit(self, z_train: np.ndarray) -> Preprocessor:
        from sklearn.preprocessing import MinMaxScaler

        scaler = MinMaxScaler(feature_range=(-1, 1)).fit(z_train[~np.isnan(z_train)].reshape(-1, 1))
        self.lo, self.hi = float(scaler.data_min_[0]), float(scaler.data_max_[0])
        if self.hi - self.lo < 1e-12:
            self.hi = self.lo + 1.0  # a constant training part: shift only
        return self

    def scale(self, z: np.ndarray) -> np.ndarray:
        return 2 * (z - self.lo) / (self.hi - self.lo) - 1

    def unscale(self, s: np.ndarray) -> np.ndarray:
        return (s + 1) / 2 * (self.hi - self.lo) + self.lo

    def state(self) -> dict[str, Any]:
        return {"log": self.log, "lag": self.lag, "lo": self.lo, "hi": self.hi}

    def load_state(self, state: dict[str, Any]) -> None:
        self.log, self.lag = bool(state["log"]), int(state["lag"])
        self.lo, self.hi = float(state["lo"]), float(state["hi"])


__all__ = [
    "DATE_FORMATS", "MISSING", "SPECS", "TRANSFORMS", "Preprocessor", "Series", "SeriesError",
    "SeriesSpec", "Split", "chronological_split", "infer_frequency", "load_series",
    "parse_dataset_spec", "parse_transform", "persistence", "read_csv_series",
    "regression_metrics", "seasonal_naive",
]  # fmt: skip
