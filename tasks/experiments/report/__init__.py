"""Written reports: one self-contained HTML page of runs and sweeps (`rnn-tui report`).

`build_report(run_dirs, study=None, storage=None)` returns the page: inline CSS and inline SVG
plots drawn with matplotlib (`plots`), no scripts and no external files. `reading` reads a run
folder, `pictures` draws each task's own pictures, `study` a sweep's part, `page` the HTML.
"""

from tasks.experiments.report.build import build_report
from tasks.experiments.report.reading import ReportError

__all__ = ["ReportError", "build_report"]
