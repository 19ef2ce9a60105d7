"""Corpus BLEU with sacreBLEU on detokenized text, and the signature that pins its settings.

Lower-cased BLEU (``case:lc``) is the headline number, as the reference Multi30k results are
lower-cased; cased BLEU compares the model's output (first letter capitalised) with the cased
references. English, German and French use sacreBLEU's ``13a`` tokenizer; Chinese uses ``zh``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _metric(lowercase: bool, lang: str) -> Any:
    from sacrebleu.metrics import BLEU

    return BLEU(lowercase=lowercase, tokenize="zh" if lang == "zh" else "13a")


def corpus_bleu(hyps: Sequence[str], refs: Sequence[str], lang: str, lowercase: bool) -> float:
    """sacreBLEU of detokenized hypotheses against one reference each (0-100)."""
    if len(hyps) != len(refs):
        raise ValueError(f"{len(hyps)} hypotheses for {len(refs)} references")
    return round(_metric(lowercase, lang).corpus_score(list(hyps), [list(refs)]).score, 2)


def signature(lang: str, lowercase: bool = True) -> str:
    """sacreBLEU's signature, e.g. ``nrefs:1|case:lc|eff:no|tok:13a|smooth:exp|version:2.6.0``."""
    metric = _metric(lowercase, lang)
    metric.corpus_score(["a"], [["a"]])  # the signature names the reference count once scored
    return str(metric.get_signature())
