"""The segments step: one run discovers micro-segments in every broad CRM segment and in the audience.

:func:`run_segments` opens a ``segment_runs`` row (its settings, and the annotator and topic/theme model
versions the social features came from), then, per group (each broad segment of customers in name order,
then the audience of authors no customer is linked to):

1. features (:mod:`segments.features`) and the model's design (:mod:`segments.encode`);
2. the number of segments and the segments themselves (:mod:`segments.discover`);
3. names, figures, lift and example posts (:mod:`segments.describe`);
4. stable ids matched to the group's previous segments, and the write (:mod:`segments.persist`), one
   transaction per group.

Active segments of a broad segment that no customer has any more are retired, and so are the audience's when
no author qualifies any more. The run's summary (per group:
rows, rows with posts, segments found, the chosen ``k``'s scores and stability, lineage events, seconds) is
stored with the run and returned.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, field

import numpy as np
import sqlite_utils

from segments.describe import DescribeSettings, describe, example_posts
from segments.discover import DiscoverySettings, discover
from segments.encode import EncodeSettings, encode
from segments.features import FeatureSettings, FeatureTable, load_audience, load_customers, source_versions
from segments.persist import (
    THRESHOLD,
    NewSegment,
    assign_ids,
    finish_run,
    next_segment_id,
    previous_segments,
    start_run,
    write_group,
)

__all__ = ["SEGMENTER", "SegmentSettings", "run_segments"]

#: The versioned name of this segmentation method, stored with each run's versions.
SEGMENTER = "segments.mixture.v1"


@dataclass(frozen=True)
class SegmentSettings:
    """Everything a segmentation run uses: features, design, discovery, description, lineage threshold, and
    whether the audience is segmented too."""

    features: FeatureSettings = field(default_factory=FeatureSettings)
    encode: EncodeSettings = field(default_factory=EncodeSettings)
    discovery: DiscoverySettings = field(default_factory=DiscoverySettings)
    describe: DescribeSettings = field(default_factory=DescribeSettings)
    lineage_threshold: float = THRESHOLD
    audience: bool = True


def run_segments(db: sqlite_utils.Database, settings: SegmentSettings = SegmentSettings()) -> dict:
    """One segmentation run over customers and audience; return its summary (also stored with the run)."""
    started = time.perf_counter()
    versions = {**source_versions(db), "segmenter": SEGMENTER}
    run_id = start_run(db, asdict(settings), versions)
    customers = load_customers(db, settings.features)
    summary: dict = {"run_id": run_id, "customers": {}, "audience": None}
    groups = sorted(set(customers.groups.tolist()))
    for broad in groups:
        summary["customers"][broad] = segment_group(
            db, run_id, customers.take(customers.groups == broad), settings
        )
    retired = _retire_vanished(db, run_id, set(groups))
    if retired:
        summary["retired_groups"] = retired
    if settings.audience:
        audience = load_audience(db, settings.features)
        if len(audience):
            summary["audience"] = segment_group(db, run_id, audience, settings)
        else:
            summary["audience"] = {"rows": 0, "retired": _retire_group(db, run_id, "audience", "audience")}
    summary["seconds"] = round(time.perf_counter() - started, 2)
    finish_run(db, run_id, summary)
    return summary


def segment_group(
    db: sqlite_utils.Database, run_id: int, table: FeatureTable, settings: SegmentSettings
) -> dict:
    """Discover, describe, match and write the segments of one group (all rows of ``table`` share it)."""
    started = time.perf_counter()
    population, broad = table.population, str(table.groups[0])
    design = encode(table, settings.encode)
    discovery = discover(design, settings.discovery)
    labels = discovery.labels
    descriptions = describe(table, labels, settings.describe)
    members = {owner: int(label) for owner, label in zip(table.ids, labels.tolist(), strict=True)}
    lifts = {segment: description.lift for segment, description in descriptions.items()}
    examples = example_posts(db, population, members, lifts, settings.describe)
    centroids = discovery.fit.params.contrasts(design)
    scores = discovery.fit.resp.max(axis=1)
    new = [
        NewSegment(
            local=segment, name=d.name, size=d.size, churn_rate=d.churn_rate, sentiment=d.sentiment,
            profile={**d.profile, "criterion": discovery.criterion, "stability": discovery.stability},
            centroid=centroids[segment], features=design.features,
            members=tuple((table.ids[i], float(scores[i])) for i in np.flatnonzero(labels == segment)),
            examples=tuple(examples.get(segment, ())),
        )
        for segment, d in sorted(descriptions.items())
    ]  # fmt: skip
    old = previous_segments(db, population, broad)
    matching = assign_ids(old, new, next_id=next_segment_id(db), threshold=settings.lineage_threshold)
    ids = write_group(db, run_id, population, broad, new, matching)
    names = dict(db.conn.execute("SELECT id, name FROM segments WHERE id IN (SELECT value FROM json_each(?))",
                                 [json.dumps(sorted(ids.values()))]))  # fmt: skip
    return {
        "rows": len(table),
        "with_posts": int(table.has_social.sum()),
        "segments": [{"id": ids[s.local], "name": names[ids[s.local]], "size": s.size} for s in new],
        "k": discovery.k,
        "stability": discovery.stability,
        "candidates": [candidate.as_dict() for candidate in discovery.candidates],
        "events": dict(Counter(event.event for event in matching.events)),
        "seconds": round(time.perf_counter() - started, 2),
    }


def _retire_vanished(db: sqlite_utils.Database, run_id: int, groups: set[str]) -> list[str]:
    """Retire the active customer segments of broad segments no customer has any more; return those names."""
    vanished = [
        broad
        for (broad,) in db.conn.execute(
            "SELECT DISTINCT broad_segment FROM segments WHERE population = 'customers' AND status = 'active'"
        )
        if broad not in groups
    ]
    for broad in sorted(vanished):
        _retire_group(db, run_id, "customers", broad)
    return sorted(vanished)


def _retire_group(db: sqlite_utils.Database, run_id: int, population: str, broad: str) -> int:
    """Retire every active segment of one group (it has no rows any more); return how many."""
    old = previous_segments(db, population, broad)
    if old:
        write_group(db, run_id, population, broad, [], assign_ids(old, [], next_id=next_segment_id(db)))
    return len(old)
