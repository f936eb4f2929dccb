"""The per-process scorer registry: each scorer built by name, once."""

from __future__ import annotations

from functools import lru_cache

from sentibot.sentiment import Scorer, UnknownModel, split_scope


def language_routes(setting: str, precision: str = "auto") -> dict[str, Scorer]:
    """SENTIMENT_LANGUAGE_MODELS (`ja=hf:/models/multilingual,pt=hf:/models/multilingual`) as
    scorers by language; a malformed entry is an error naming the variable."""
    routes: dict[str, Scorer] = {}
    for entry in filter(None, (e.strip() for e in setting.split(","))):
        lang, sep, model = entry.partition("=")
        if not sep or not lang.strip() or not model.strip():
            raise UnknownModel(
                f"SENTIMENT_LANGUAGE_MODELS entry {entry!r} is not language=model "
                "(e.g. ja=hf:/models/multilingual)"
            )
        routes[lang.strip().lower()] = get_scorer(model.strip(), precision)
    return routes


@lru_cache(maxsize=8)
def get_scorer(name: str, precision: str = "auto") -> Scorer:
    """The scorer called `name`, loaded once per process and reused.

    `precision` (auto, fp32, bf16, int8) applies to the transformer scorers only. A key scoped
    to a topic (sentibot/report/masking.py) is the model reading with the topic's terms masked.
    """
    model, terms = split_scope(name)
    if terms:
        from sentibot.report.masking import MaskedScorer

        return MaskedScorer(get_scorer(model, precision), terms, name)
    if name == "vader":
        from scoring.vader import VaderScorer

        return VaderScorer()
    if name == "transformer":
        from scoring.transformer import default_scorer

        return default_scorer(precision)
    if name.startswith("hf:") and len(name) > 3:
        from scoring.transformer import hf_scorer

        return hf_scorer(name[3:], precision)
    raise UnknownModel(
        f"unknown sentiment model {name!r}; available: vader, transformer, hf:<model id or path>"
    )
