"""The hidden-state inspector: traces of a model's states over a text, and what reads them.

`trace` (the `StateTrace` and its errors), `features` (text features a unit may track),
`ranking` (units by correlation with a feature), `select` (LSTMVis's select and match),
`saturation` (how often gates are shut or open). Tracing itself: `classic` (the classic cells
in NumPy), `cores` (a `CoreStack` through its forward pass, torch; imported on its own); a
charlm checkpoint is traced by `tasks.charlm.inspect.trace_charlm`. No torch is loaded here.
"""

from models.inspect.features import FEATURES, feature, regex_feature
from models.inspect.ranking import (
    UnitScore,
    best_per_feature,
    rank_units,
    rank_units_each,
    unit_correlation,
)
from models.inspect.saturation import Saturation, saturation
from models.inspect.select import match_units, select_units
from models.inspect.trace import (
    INSPECTABLE,
    InspectCancelled,
    InspectError,
    StateTrace,
    check_inspectable,
)

__all__ = [
    "FEATURES",
    "INSPECTABLE",
    "InspectCancelled",
    "InspectError",
    "Saturation",
    "StateTrace",
    "UnitScore",
    "best_per_feature",
    "check_inspectable",
    "feature",
    "match_units",
    "rank_units",
    "rank_units_each",
    "regex_feature",
    "saturation",
    "select_units",
    "unit_correlation",
]
