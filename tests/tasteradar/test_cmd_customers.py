"""``tasteradar customers import|link|show`` and ``tasteradar forget``: happy paths and clear errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click
import pytest
from click.testing import CliRunner

from store import Post, open_db, upsert_posts
from tasteradar.cmd_customers import customers_group, forget_command


@click.group()
def cli() -> None:
    """The two commands as the lead registers them on the real group."""


cli.add_command(customers_group)
cli.add_command(forget_command)


@pytest.fixture
def files(tmp_path):
    """A CRM file, a handles file, and a database holding posts by @mia (opted in) and @bob (not)."""
    crm = tmp_path / "crm.csv"
    crm.write_text(
        "customer_id,plan,churned,region\nC1,Max\x1b[2J,No,North\nC2,Basic,Yes,South\n", encoding="utf-8"
    )
    handles = tmp_path / "handles.csv"
    handles.write_text(
        "customer_id,platform,handle,consent,consent_source,consent_date\n"
        "C1,x,@Mia,yes,app,2025-03-01\nC2,x,bob,no,,\nC9,x,ghost,yes,,\n",
        encoding="utf-8",
    )
    db_path = tmp_path / "tasteradar.db"
    db = open_db(db_path)
    upsert_posts(db, [
        Post(platform="x", native_id="1", text="hello \x1b[31mred\x1b[0m roaming", author_id="10",
             author_handle="mia", created_at=datetime(2026, 10, 1, tzinfo=UTC)),
        Post(platform="x", native_id="2", text="bob's post", author_id="20", author_handle="bob",
             created_at=datetime(2026, 10, 2, tzinfo=UTC)),
    ])  # fmt: skip
    db.close()
    return crm, handles, db_path


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, [str(arg) for arg in args], input=input)


def imported(files):
    crm, handles, db_path = files
    assert run("customers", "import", crm, "--db", db_path).exit_code == 0
    assert run("customers", "import", handles, "--db", db_path).exit_code == 0
    assert run("customers", "link", "--db", db_path).exit_code == 0
    return db_path


def test_import_reports_counts_and_quarantined_rows(files):
    crm, handles, db_path = files
    result = run("customers", "import", crm, "--db", db_path)
    assert result.exit_code == 0, result.output
    assert result.output == "crm.csv (crm): 2 customers new, 0 updated, 0 rows quarantined, from 2 rows.\n"
    result = run("customers", "import", handles, "--kind", "handles", "--db", db_path)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "handles.csv (handles): 2 handles new, 0 updated, 1 rows quarantined, from 3 rows.",
        "  quarantined line 4: customer 'C9' is not in the CRM: import it first",
        "Run `tasteradar customers link` to link the opted-in handles to their accounts.",
    ]


def test_import_errors_say_what_to_fix(files, tmp_path):
    crm, _handles, db_path = files
    result = run("customers", "import", crm, "--map", "plan=tier", "--db", db_path)
    assert result.exit_code == 2 and "unknown crm field 'tier'" in result.output
    result = run("customers", "import", tmp_path / "missing.csv", "--db", db_path)
    assert result.exit_code == 2 and "does not exist" in result.output
    other = tmp_path / "other.csv"
    other.write_text("id,name\n1,x\n", encoding="utf-8")
    result = run("customers", "import", other, "--db", db_path)
    assert (
        result.exit_code == 2
        and "add --map COLUMN=customer_id (columns in this file: id, name)" in result.output
    )


def test_link_then_show_as_text_and_json(files):
    db_path = imported(files)
    result = run("customers", "link", "--db", db_path)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        "1 of 2 customers linked through 1 accounts (1 of 2 recorded handles opted in)"
    )
    assert "this run: 0 linked, 0 unlinked, 1 refused (0 ambiguous)" in result.output

    text = run("customers", "show", "C1", "--db", db_path)
    assert text.exit_code == 0, text.output
    assert "customer C1" in text.output and "x @mia since" in text.output
    assert "plan Max\\x1b[2J," in text.output and "hello" in text.output and "\x1b" not in text.output
    assert "bob" not in text.output

    as_json = run("customers", "show", "C1", "--format", "json", "--db", db_path)
    view = json.loads(as_json.output)
    assert view["customer_id"] == "C1" and view["attributes"] == {"region": "North"}
    assert [post["id"] for post in view["posts"]] == ["x:1"] and view["churn"] is None


def test_show_errors(files, tmp_path):
    db_path = imported(files)
    result = run("customers", "show", "C404", "--db", db_path)
    assert result.exit_code == 1 and "no customer 'C404' in the database" in result.output
    result = run("customers", "show", "C1", "--db", tmp_path / "nope.db")
    assert result.exit_code == 1 and "no database at" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give exactly one of --customer ID or --handle PLATFORM:HANDLE"),
        (("--customer", "C1", "--handle", "x:mia"), "give exactly one of"),
        (("--handle", "mia"), "expected PLATFORM:HANDLE"),
    ],
)
def test_forget_usage_errors(files, args, message):
    db_path = imported(files)
    result = run("forget", *args, "--db", db_path)
    assert result.exit_code == 2 and message in result.output


def test_forget_asks_first_then_erases(files):
    db_path = imported(files)
    result = run("forget", "--customer", "C1", "--db", db_path, input="n\n")
    assert result.exit_code == 1 and "Aborted" in result.output
    assert run("customers", "show", "C1", "--db", db_path).exit_code == 0

    result = run("forget", "--customer", "C1", "--yes", "--db", db_path)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Forgot customer C1: 1 customer record(s), 1 account(s), 1 post(s)")
    assert run("customers", "show", "C1", "--db", db_path).exit_code == 1

    result = run("forget", "--handle", "x:@bob", "--db", db_path, input="y\n")
    assert (
        result.exit_code == 0 and "Forgot account x:@bob: 0 customer record(s), 1 account(s)" in result.output
    )
    result = run("forget", "--customer", "C1", "--yes", "--db", db_path)
    assert result.exit_code == 1 and "nothing to forget" in result.output


def test_churn_scores_opted_in_customers_of_the_demo_world(small_demo, tmp_path):
    import shutil

    folder = tmp_path / "demo"
    shutil.copytree(small_demo.db_path.parent, folder)
    config = folder / "tasteradar.toml"
    assert run("customers", "link", "--config", config).exit_code == 0
    result = run("customers", "churn", "--config", config)
    assert result.exit_code == 0, result.output
    assert "out-of-fold AUC" in result.output and "opted-in customers scored" in result.output
    db = open_db(folder / "tasteradar.db")
    try:
        scored, outside = db.conn.execute(
            "SELECT count(*), sum(customer_id NOT IN"
            " (SELECT customer_id FROM customer_handles WHERE consent = 1)) FROM churn_scores"
        ).fetchone()
    finally:
        db.close()
    assert scored > 0 and outside == 0
    crm_only = run("customers", "churn", "--crm-only", "--config", config)
    assert crm_only.exit_code == 0 and "crm_only" in crm_only.output.replace("-", "_").lower()
