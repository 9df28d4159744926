"""``tasteradar segments``: discover micro-segments inside every broad CRM segment (and in the audience), or
list the stored ones.

A thin shell over :func:`segments.stage.run_segments`; ``tasteradar export segment`` writes them out.
"""

from __future__ import annotations

import json

import click

from tasteradar.clikit import friendly_errors, runtime, shared_options

_LIST_SQL = """SELECT id, population, broad_segment, name, size, churn_rate, profile FROM segments
               WHERE status = 'active' ORDER BY population DESC, broad_segment, size DESC"""


def summary(result: dict) -> str:
    """Lines saying what one run found: segments per broad segment, the audience, lineage and time."""
    lines = []
    for broad, group in result["customers"].items():
        lines.append(_group_line(broad, group))
    audience = result.get("audience")
    if audience and audience.get("segments"):
        lines.append(_group_line("audience (aggregate only)", audience))
    if not lines:
        return "no customers with a broad segment: import the CRM with `tasteradar customers import FILE`"
    lines.append(f"segment run {result['run_id']} in {result['seconds']:.1f}s")
    return "\n".join(lines)


def _group_line(name: str, group: dict) -> str:
    events = ", ".join(f"{count} {event}" for event, count in sorted(group["events"].items()))
    sizes = ", ".join(f"{s['name']} ({s['size']:,})" for s in group["segments"])
    return (
        f"{name}: {len(group['segments'])} segments of {group['rows']:,} ({group['with_posts']:,} with posts;"
        f" {events}): {sizes}"
    )


@click.command(name="segments")
@click.option("--list", "list_only", is_flag=True, help="Only list the stored active segments; run nothing.")
@shared_options
@friendly_errors
def segments_command(list_only: bool) -> None:
    """Find micro-segments inside each broad CRM segment and in the unlinked audience.

    Features come from the CRM and, for customers linked through an opted-in handle, their posts' topics and
    need themes; the number of segments is chosen per broad segment by cross-validated likelihood. Segment
    ids stay stable across runs (lineage kept). Run `tasteradar customers link` and `analyze` first.
    """
    from store import open_db

    db = open_db(runtime().existing_database_path(), readonly=list_only)
    try:
        if list_only:
            _print_list(db)
            return
        from segments.stage import run_segments

        click.echo(summary(run_segments(db)))
    finally:
        db.close()


def _print_list(db) -> None:
    rows = db.conn.execute(_LIST_SQL).fetchall()
    if not rows:
        click.echo("no segments yet: run `tasteradar segments`")
        return
    for seg_id, population, broad, name, size, churn, profile in rows:
        churn_text = "" if churn is None else f", churn {churn:.0%}"
        reason = json.loads(profile).get("reason") or []
        click.echo(f"{seg_id:>4}  {population:<9} {broad:<16} {name} ({size:,}{churn_text})")
        if reason:
            click.echo(f"      over-indexed: {'; '.join(reason)}")
