"""CRM import: known headers without --map, typed attributes, strict flags, bad rows quarantined, batches."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from customers.importer import CustomerImportError, detect_kind, import_customers, typed

IBM = Path(__file__).resolve().parents[3] / "shared" / "data" / "telco-customer-churn"
IBM_FILE = IBM / "WA_Fn-UseC_-Telco-Customer-Churn.csv"


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def quarantined(db) -> list[tuple[str, str, dict]]:
    rows = db.conn.execute("SELECT source, reason, raw FROM quarantine ORDER BY id")
    return [(source, reason, json.loads(raw)) for source, reason, raw in rows]


def test_the_ibm_telco_churn_table_imports_as_it_is(db):
    if not IBM_FILE.is_file():
        pytest.skip(f"{IBM_FILE} is absent")
    with IBM_FILE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    blank_totals = {row["customerID"] for row in rows if not row["TotalCharges"].strip()}
    churners = sum(row["Churn"] == "Yes" for row in rows)

    report = import_customers(db, IBM_FILE)

    assert (report.kind, report.rows, report.imported, report.updated, report.quarantined) == (
        "crm", 7043, 7043, 0, 0
    )  # fmt: skip
    assert report.mapping == {
        "customer_id": "customerID", "contract": "Contract", "tenure_months": "tenure",
        "monthly_charge": "MonthlyCharges", "total_charges": "TotalCharges", "churned": "Churn",
    }  # fmt: skip
    assert len(blank_totals) == 11
    nulls = {
        row[0] for row in db.conn.execute("SELECT customer_id FROM customers WHERE total_charges IS NULL")
    }
    assert nulls == blank_totals
    assert db.conn.execute("SELECT sum(churned), count(churned) FROM customers").fetchone() == (
        churners,
        7043,
    )
    first = db.conn.execute(
        "SELECT contract, tenure_months, monthly_charge, total_charges, churned, attributes FROM customers "
        "WHERE customer_id = '7590-VHVEG'"
    ).fetchone()
    assert first[:5] == ("Month-to-month", 1, 29.85, 29.85, 0)
    attributes = json.loads(first[5])
    assert (
        attributes["SeniorCitizen"] == 0
        and attributes["Partner"] is True
        and attributes["Dependents"] is False
    )
    assert attributes["gender"] == "Female" and attributes["PaymentMethod"] == "Electronic check"
    assert "customerID" not in attributes and "Churn" not in attributes


def test_the_demo_crm_and_handles_files_import_as_they_are(db, small_demo):
    truth = json.loads(small_demo.truth_path.read_text(encoding="utf-8"))
    crm = import_customers(db, small_demo.crm_path)
    handles = import_customers(db, small_demo.handles_path)

    assert (crm.kind, crm.imported, crm.quarantined) == ("crm", len(truth["customers"]), 0)
    assert (handles.kind, handles.quarantined) == ("handles", 0)
    # The CSV has handles as typed into a CRM ("@Name", "u/Name", any case); imported, they equal the rows
    # the demo wrote through the store API.
    query = (
        "SELECT customer_id, platform, handle, consent, consent_date FROM customer_handles ORDER BY 1, 2, 3"
    )
    from store import open_db

    demo = open_db(small_demo.db_path, readonly=True)
    try:
        assert db.conn.execute(query).fetchall() == demo.conn.execute(query).fetchall()
        crm_query = "SELECT customer_id, broad_segment, plan, contract, tenure_months, churned FROM customers"
        assert sorted(db.conn.execute(crm_query)) == sorted(demo.conn.execute(crm_query))
    finally:
        demo.close()
    churned = sum(1 for customer in truth["customers"].values() if customer["churn"])
    assert db.conn.execute("SELECT sum(churned) FROM customers").fetchone()[0] == churned


def test_bad_crm_rows_are_quarantined_and_the_rest_lands(db, tmp_path):
    header = ["customer_id", "tenure_months", "monthly_charge", "churned", "region"]
    path = write_csv(tmp_path / "crm.csv", header, [
        ["C1", "12", "30.5", "Yes", "North"],
        ["C2", "twelve", "30", "No", "South"],
        ["C3", "3", "30", "maybe", "East"],
        ["C4", "3", "30"],
        ["", "3", "30", "No", "West"],
        ["C5", "-2", "30", "No", "West"],
        ["C6", "7", "", "", ""],
    ])  # fmt: skip

    report = import_customers(db, path, batch_size=2)

    assert (report.rows, report.imported, report.quarantined) == (7, 2, 5)
    assert [reason.split(":")[0] for reason in report.reasons] == [
        "line 3",
        "line 4",
        "line 5",
        "line 6",
        "line 7",
    ]
    assert "tenure_months must be a number" in report.reasons[0]
    assert "churned must be yes/no" in report.reasons[1]
    assert "3 cells where the header has 5" in report.reasons[2]
    assert "customer_id is empty" in report.reasons[3]
    rows = quarantined(db)
    assert {source for source, _reason, _raw in rows} == {"customers:crm.csv"}
    assert rows[0][2] == dict(zip(header, ["C2", "twelve", "30", "No", "South"], strict=True))
    stored = db.conn.execute(
        "SELECT customer_id, churned, monthly_charge, attributes FROM customers ORDER BY 1"
    )
    assert stored.fetchall() == [("C1", 1, 30.5, '{"region":"North"}'), ("C6", None, None, '{"region":null}')]


def test_a_second_import_counts_updates(db, tmp_path):
    path = write_csv(
        tmp_path / "crm.csv", ["customer_id", "plan"], [["C1", "Basic"], ["C2", "Max"], ["C1", "Max"]]
    )
    first = import_customers(db, path)
    assert (first.imported, first.updated) == (2, 1)
    second = import_customers(db, path)
    assert (second.imported, second.updated) == (0, 3)
    assert db.conn.execute("SELECT plan FROM customers WHERE customer_id = 'C1'").fetchone() == ("Max",)


def test_handles_are_normalised_per_platform_and_consent_is_strict(db, tmp_path):
    import_customers(db, write_csv(tmp_path / "crm.csv", ["customer_id"], [["C1"], ["C2"], ["C3"]]))
    header = ["customer_id", "platform", "handle", "consent", "consent_source", "consent_date"]
    path = write_csv(tmp_path / "handles.csv", header, [
        ["C1", "x", "@MiaWalsh", "Yes", "web", "2025-01-02"],
        ["C2", "Reddit", "u/Omar-Night39", "0", "", ""],
        ["C3", "twitter", "retro_jack", "TRUE", "store", ""],
        ["C1", "x", "other", "maybe", "", ""],
        ["C2", "x", "other2", "", "", ""],
        ["C9", "x", "ghost", "yes", "", ""],
        ["C3", "x", "Mia Walsh", "yes", "", ""],
        ["C3", "x", "late", "yes", "", "next week"],
    ])  # fmt: skip

    report = import_customers(db, path)

    assert (report.kind, report.imported, report.quarantined) == ("handles", 3, 5)
    stored = db.conn.execute(
        "SELECT customer_id, platform, handle, consent, consent_date FROM customer_handles"
    )
    assert sorted(stored) == [
        ("C1", "x", "miawalsh", 1, "2025-01-02"), ("C2", "reddit", "omar-night39", 0, None),
        ("C3", "x", "retro_jack", 1, None),
    ]  # fmt: skip
    reasons = [reason for _source, reason, _raw in quarantined(db)]
    assert "consent must be yes/no" in reasons[0] and "'maybe'" in reasons[0]
    assert "consent must be yes/no" in reasons[1]
    assert "customer 'C9' is not in the CRM" in reasons[2]
    assert "handle contains spaces" in reasons[3]
    assert "consent_date must be YYYY-MM-DD" in reasons[4]


def test_map_names_other_columns_and_kind_can_be_forced(db, tmp_path):
    path = write_csv(tmp_path / "export.csv", ["Kunde", "Vertrag", "Status", "Extra"],
                     [["K1", "24-month", "Yes", "7"]])  # fmt: skip
    with pytest.raises(CustomerImportError, match="no column for customer_id: add --map COLUMN=customer_id"):
        import_customers(db, path)
    report = import_customers(db, path, mapping=["Kunde=customer_id", "Vertrag=contract", "Status=churned"])
    assert report.mapping == {"customer_id": "Kunde", "contract": "Vertrag", "churned": "Status"}
    row = db.conn.execute("SELECT customer_id, contract, churned, attributes FROM customers").fetchone()
    assert row == ("K1", "24-month", 1, '{"Extra":7}')
    with pytest.raises(CustomerImportError, match="kind must be one of crm, handles"):
        import_customers(db, path, kind="people")
    with pytest.raises(CustomerImportError, match="no column for customer_id, platform, handle, consent"):
        import_customers(db, path, kind="handles")


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        (["Kunde"], "expected COLUMN=FIELD"),
        (["Kunde=client"], "unknown crm field 'client'"),
        (["Kunde=customer_id", "Vertrag=customer_id"], "mapped twice"),
        (["Nope=customer_id"], "no column 'Nope' in the header"),
    ],
)
def test_bad_mappings_say_what_to_fix(db, tmp_path, specs, message):
    path = write_csv(tmp_path / "export.csv", ["Kunde", "Vertrag"], [["K1", "x"]])
    with pytest.raises(CustomerImportError, match=message):
        import_customers(db, path, mapping=specs)
    assert db.conn.execute("SELECT count(*) FROM customers").fetchone() == (0,)


def test_empty_file_and_duplicate_header(db, tmp_path):
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    with pytest.raises(CustomerImportError, match="the file is empty"):
        import_customers(db, tmp_path / "empty.csv")
    with pytest.raises(CustomerImportError, match="names a column twice"):
        import_customers(
            db, write_csv(tmp_path / "dup.csv", ["customer_id", "plan", "plan"], [["C1", "a", "b"]])
        )


def test_header_detection_and_typed_cells():
    assert detect_kind(["Customer ID", "Platform", "Handle", "Consent"]) == "handles"
    assert detect_kind(["customerID", "tenure", "Churn"]) == "crm"
    assert [typed(v) for v in ["", " ", "Yes", "no", "1", "0", "42", "-3", "29.85", "1e3", "007", "N/A"]] == [
        None, None, True, False, 1, 0, 42, -3, 29.85, 1000.0, "007", "N/A",
    ]  # fmt: skip
