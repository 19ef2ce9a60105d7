"""Fuzzing the CSV series reader: `tasks.data.series.load_series`, what the timeseries task's
``--dataset PATH[#COLUMNS]`` reaches. A `Series` as documented (at least 3 values, all finite,
dates strictly increasing after the repairs) or a one-line `DatasetError`; nothing written."""

from __future__ import annotations

from datetime import date

import numpy as np
from fuzzing import inputs, sandbox
from hypothesis import given
from hypothesis import strategies as st

from tasks.data.info import DatasetError
from tasks.data.series import Series, load_series

VALID = (
    b"Month,Passengers\n1949-01,112\n1949-02,118\n1949-03,132\n1949-04,129\n1949-05,121\n",
    b"Date,Open,Close\n02-01-20,10.5,11\n03-01-20,,12.25\n06-01-20,12,NA\n07-01-20,13,13.5\n",
    b"date,value\n2020-01-01,1\n2020-01-01,3\n2019-12-31,2\n2020-01-03,?\n2020-01-04,5\n",
    b"\xef\xbb\xbfYear,y\r\n1990,1.5\r\n1991,2.5\r\n1992,-3e2\r\n1993,4\r\n",
    b'day,"value, in units"\n2020/01/01,"1"\n2020/01/02,"2.5"\n2020/01/03,"1e3"\n',
)
COLUMNS = ("", "#1", "#Close", "#0,1", "#Date,Close", "#y", "#-1", "#5", "#", "#,", "#a,b,c")
"""What may follow the path in ``--dataset``: nothing, a value column, date and value columns."""
FORMATS = ("%Y-%m-%d", "%Y-%m", "%d/%m/%Y", "%Y", "%d-%m-%y", "%Y/%m/%d")
CELLS = st.one_of(
    st.floats(), st.integers(-(10**400), 10**400), st.sampled_from(["", "NA", "?", "-", "x", "1,5"])
)


@st.composite
def series_csv(draw: st.DrawFn) -> bytes:
    """A well-formed date,value CSV whose dates and values are anything: repeated, unordered,
    missing, NaN, infinite, huge, not numbers."""
    fmt = draw(st.sampled_from(FORMATS))
    days = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))
    rows = draw(st.lists(st.tuples(days, CELLS), max_size=30))
    lines = ["date,value", *(f"{d.strftime(fmt)},{v}" for d, v in rows)]
    return ("\n".join(lines) + "\n").encode()


@given(data=st.one_of(inputs(*VALID), series_csv()), columns=st.sampled_from(COLUMNS))
def test_a_series_csv_reads_or_fails_in_one_line(data: bytes, columns: str) -> None:
    with sandbox() as box:
        path = box.write("series.csv", data)
        series = box.call(lambda: load_series(f"{path}{columns}"), DatasetError)
    if isinstance(series, Series):
        assert len(series) >= 3
        assert series.values.dtype == np.float64 and np.isfinite(series.values).all()
        assert len(series.dates) == len(series.values)
        assert (np.diff(series.dates).astype(int) > 0).all()
        assert series.season >= 1
