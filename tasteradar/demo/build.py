"""``build_demo``: write a demo world to disk, through the store API only.

Beside the database it writes ``tasteradar.toml`` (a config that points at it), ``crm.csv`` and
``handles.csv`` (the CRM exports the customers stage imports) and, last, ``truth.json`` (what was planted;
the pipeline never reads it). Because truth.json is written last, ``demo_is_current`` only ever accepts a
world whose every file was written.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass
from pathlib import Path

from store import open_db, upsert_authors, upsert_customers, upsert_handles, upsert_posts
from tasteradar.demo.generate import ProgressFn, World, generate_world
from tasteradar.demo.world import GENERATOR_VERSION, MICRO_SEGMENTS

CONFIG_NAME = "tasteradar.toml"
TRUTH_NAME = "truth.json"
CRM_NAME = "crm.csv"
HANDLES_NAME = "handles.csv"
CRM_COLUMNS = ("customer_id", "broad_segment", "plan", "contract", "tenure_months", "monthly_charge",
               "total_charges", "churned", "age_band", "lines", "data_gb", "region", "device", "autopay",
               "support_calls_90d", "intl_minutes_90d", "roaming_days_90d", "connected_devices")  # fmt: skip
HANDLE_COLUMNS = ("customer_id", "platform", "handle", "consent", "consent_source", "consent_date")


@dataclass(frozen=True)
class DemoSummary:
    """What ``build_demo`` wrote, and how long it took."""

    db_path: Path
    truth_path: Path
    config_path: Path
    posts: int
    authors: int
    customers: int
    opted_in: int
    no_consent_handles: int
    micro_segments: int
    seconds: float
    crm_path: Path | None = None
    handles_path: Path | None = None


def demo_files(db_path: str | Path) -> dict[str, Path]:
    """Every file a demo build writes for ``db_path`` (the database, its WAL files, and the side files)."""
    db_path = Path(db_path)
    folder = db_path.parent
    return {
        "db": db_path,
        "wal": db_path.with_name(db_path.name + "-wal"),
        "shm": db_path.with_name(db_path.name + "-shm"),
        "config": folder / CONFIG_NAME,
        "truth": folder / TRUTH_NAME,
        "crm": folder / CRM_NAME,
        "handles": folder / HANDLES_NAME,
    }


def demo_is_current(db_path: str | Path, seed: int = 7, posts: int = 20_000) -> bool:
    """True when a complete world of this generator version, ``seed`` and ``posts`` is on disk."""
    files = demo_files(db_path)
    if not all(files[name].is_file() for name in ("db", "config", "truth", "crm", "handles")):
        return False
    try:
        meta = json.loads(files["truth"].read_text(encoding="utf-8"))["meta"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return (
        meta.get("generator_version") == GENERATOR_VERSION
        and meta.get("seed") == seed
        and meta.get("requested_posts") == posts
    )


def build_demo(
    db_path: str | Path, *, seed: int = 7, posts: int = 20_000, progress: ProgressFn | None = None
) -> DemoSummary:
    """Build the demo world at ``db_path``: deletes a previous one there first, so a rebuild is deterministic.

    Writes the database (through ``store``), ``tasteradar.toml``, ``crm.csv``, ``handles.csv`` and
    ``truth.json`` beside it. ``progress(step, done, total)`` is called as the work goes on.
    """
    started = time.monotonic()
    files = demo_files(Path(db_path).resolve())
    files["db"].parent.mkdir(parents=True, exist_ok=True)
    for path in files.values():
        path.unlink(missing_ok=True)
    world = generate_world(seed, posts, db_name=files["db"].name, progress=progress)
    write_database(files["db"], world, progress)
    files["config"].write_text(world.config_text, encoding="utf-8")
    write_crm_csv(files["crm"], world)
    write_handles_csv(files["handles"], world)
    files["truth"].write_text(truth_json(world.truth), encoding="utf-8")
    meta = world.truth["meta"]
    return DemoSummary(
        db_path=files["db"], truth_path=files["truth"], config_path=files["config"], posts=len(world.posts),
        authors=len(world.authors), customers=len(world.customers), opted_in=meta["opted_in"],
        no_consent_handles=meta["no_consent_handles"], micro_segments=len(MICRO_SEGMENTS),
        seconds=time.monotonic() - started, crm_path=files["crm"], handles_path=files["handles"],
    )  # fmt: skip


def write_database(db_path: Path, world: World, progress: ProgressFn | None = None) -> None:
    """Write posts, authors, customers and handles through the store API (one transaction per batch)."""
    db = open_db(db_path)
    try:
        written = 0

        def on_batch(_db, batch) -> None:
            nonlocal written
            written += len(batch)
            if progress:
                progress("writing database", written, len(world.posts))

        result = upsert_posts(db, world.posts, source="demo", on_batch=on_batch)
        if result.quarantined:
            raise RuntimeError(f"the demo world produced {result.quarantined} posts the store refused")
        upsert_authors(db, world.authors)
        upsert_customers(db, world.customers)
        upsert_handles(db, world.handles)
    finally:
        db.close()


def truth_json(truth: dict) -> str:
    """``truth.json`` text: sorted keys, one post, customer or author per line; same world, same bytes."""

    def dumps(value) -> str:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    blocks = []
    for key in sorted(truth):
        value = truth[key]
        if key in ("posts", "customers", "authors"):
            lines = ",\n".join(f"{dumps(name)}:{dumps(value[name])}" for name in sorted(value))
            blocks.append(f"{dumps(key)}:{{\n{lines}\n}}")
        else:
            blocks.append(f"{dumps(key)}:{json.dumps(value, sort_keys=True, ensure_ascii=False, indent=1)}")
    return "{\n" + ",\n".join(blocks) + "\n}\n"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def write_crm_csv(path: Path, world: World) -> None:
    """``crm.csv``: one customer per row with a header; money as plain decimals; unknowns left blank."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CRM_COLUMNS)
        for customer in world.customers:
            fields = {
                "customer_id": customer.customer_id,
                "broad_segment": customer.broad_segment,
                "plan": customer.plan,
                "contract": customer.contract,
                "tenure_months": customer.tenure_months,
                "monthly_charge": customer.monthly_charge,
                "total_charges": customer.total_charges,
                "churned": customer.churned,
                **customer.attributes,
            }
            row = [_cell(fields.get(column)) for column in CRM_COLUMNS]
            row[CRM_COLUMNS.index("data_gb")] = _cell(fields.get("data_gb")).rstrip("0").rstrip(".")
            writer.writerow(row)


def write_handles_csv(path: Path, world: World) -> None:
    """``handles.csv``: customer_id, platform, handle (as typed into the CRM), consent, source and date."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HANDLE_COLUMNS)
        writer.writeheader()
        writer.writerows(world.handle_rows)
