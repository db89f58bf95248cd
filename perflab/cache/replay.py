"""Replay the lookup log at another threshold: what would this threshold have served?

A ``LookupLog`` store keeps, for each of the last N lookups, the best entry's cosine
similarity, the threshold in force, whether it hit, and (when the caller knew them)
the query's true intent and the best entry's intent. That is enough to re-decide
every lookup at any threshold:

    hit at t        similarity is not None and similarity >= t
    false hit at t  a hit at t on an entry of another intent (both intents known)

Lowering the threshold can only add hits, and so only add false hits: the hit rate
and the false-hit rate both rise, which is the guide's exercise, measured.

What a replay cannot see: with another threshold the cache would also have *stored*
other entries (a miss stores an answer, a hit does not), so later lookups would have
had other nearest neighbours. A replay keeps every lookup's nearest entry as it was;
it is an estimate on the same traffic, not a rerun (``perflab cache warm`` on a fresh
cache is the rerun).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from perflab.cache.store import LoggedLookup
from perflab.metrics import hit_rate, renamed

__all__ = ["ThresholdReplay", "as_recorded", "false_hits_at", "is_audited", "replay"]


@dataclass(frozen=True)
class ThresholdReplay:
    """Hit and false-hit rates of logged lookups, as recorded or re-decided at a threshold.

    Attributes:
        replayed: ``True``: re-decided at ``threshold``; ``False``: the decisions as made.
        threshold: the threshold that decided every lookup (``None``: the log mixes
            several, see ``thresholds``).
        thresholds: the distinct thresholds the lookups were logged with, ascending.
        lookups: logged lookups.
        hits: lookups served from the cache.
        hit_rate: ``hits / lookups`` (0 with no lookups).
        audited: lookups whose correctness is known: the query's intent was given and
            the best entry (if any) has an intent.
        false_hits: audited lookups served another intent's answer.
        audited_false_rate: ``false_hits / audited``: the share of audited users who
            got someone else's answer (``None`` when nothing is audited).

    ``false_hits_per_hit`` (false hits / hits, as in ``SimSummary``) is a property.
    ``false_hit_rate`` still reads, as a deprecated alias of ``audited_false_rate``
    (its old value, no warning; CHANGELOG.md): perflab no longer uses that name, which
    meant two different ratios here and in the simulator.
    """

    replayed: bool
    threshold: float | None
    thresholds: tuple[float, ...]
    lookups: int
    hits: int
    hit_rate: float
    audited: int
    false_hits: int
    audited_false_rate: float | None

    @property
    def false_hits_per_hit(self) -> float:
        """``false_hits / hits`` (0.0 with no hits): the share of served answers that were wrong."""
        return self.false_hits / self.hits if self.hits else 0.0

    false_hit_rate = renamed("audited_false_rate")  # deprecated alias (CHANGELOG.md)

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (JSON-ready), with ``false_hits_per_hit``.

        The deprecated key ``false_hit_rate`` (= ``audited_false_rate``) follows.
        """
        out = asdict(self)
        out["thresholds"] = list(self.thresholds)
        out["false_hits_per_hit"] = self.false_hits_per_hit
        out["false_hit_rate"] = self.audited_false_rate
        return out


def is_audited(record: LoggedLookup) -> bool:
    """Whether a hit on this lookup could be judged right or wrong (both intents known)."""
    return record.intent is not None and (
        record.similarity is None or record.matched_intent is not None
    )


def _summarise(
    log: Sequence[LoggedLookup], hits: Sequence[bool], *, replayed: bool, threshold: float | None
) -> ThresholdReplay:
    audited = [is_audited(r) for r in log]
    false_hits = sum(
        1
        for r, hit, known in zip(log, hits, audited)
        if hit and known and r.matched_intent != r.intent
    )
    n_audited = sum(audited)
    return ThresholdReplay(
        replayed=replayed,
        threshold=threshold,
        thresholds=tuple(sorted({r.threshold for r in log})),
        lookups=len(log),
        hits=sum(hits),
        hit_rate=hit_rate(sum(hits), len(log)),
        audited=n_audited,
        false_hits=false_hits,
        audited_false_rate=false_hits / n_audited if n_audited else None,
    )


def replay(log: Sequence[LoggedLookup], threshold: float) -> ThresholdReplay:
    """Re-decide every logged lookup at ``threshold``, on the nearest entries it found.

    Raises:
        ValueError: ``threshold`` is not a cosine similarity (within -1..1).
    """
    if not -1.0 <= threshold <= 1.0:
        raise ValueError(f"threshold ({threshold}) is a cosine similarity and must be within -1..1")
    hits = [r.similarity is not None and r.similarity >= threshold for r in log]
    return _summarise(log, hits, replayed=True, threshold=threshold)


def as_recorded(log: Sequence[LoggedLookup]) -> ThresholdReplay:
    """The decisions as they were made, at the thresholds in force at the time."""
    thresholds = {r.threshold for r in log}
    only = next(iter(thresholds)) if len(thresholds) == 1 else None
    return _summarise(log, [r.hit for r in log], replayed=False, threshold=only)


def false_hits_at(log: Sequence[LoggedLookup], threshold: float) -> list[LoggedLookup]:
    """The logged lookups that would be false hits at ``threshold``, most similar first."""
    found = [
        r
        for r in log
        if r.similarity is not None
        and r.similarity >= threshold
        and is_audited(r)
        and r.matched_intent != r.intent
    ]
    return sorted(found, key=lambda r: -(r.similarity or 0.0))
