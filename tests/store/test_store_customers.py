"""Customers and consented handles."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime

import pytest
import sqlite_utils

from store import (
    Author,
    Customer,
    CustomerHandle,
    normalize_handle,
    upsert_authors,
    upsert_customers,
    upsert_handles,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("@NimbusHelp", "nimbushelp"), ("  @NimbusHelp  ", "nimbushelp"), ("nimbus", "nimbus"), ("@@Two", "two"),
     ("Jane.Doe.bsky.social", "jane.doe.bsky.social")],
)  # fmt: skip
def test_normalize_handle(raw: str, expected: str) -> None:
    assert normalize_handle(raw) == expected


def customer(customer_id: str = "7590-VHVEG", **overrides) -> Customer:
    values = {
        "customer_id": customer_id, "broad_segment": "consumer", "plan": "Fiber optic",
        "contract": "Month-to-month",
        "tenure_months": 1, "monthly_charge": 29.85, "total_charges": 29.85, "churned": False,
        "attributes": {"gender": "Female"}, "source": "telco.csv",
    }  # fmt: skip
    values.update(overrides)
    return Customer(**values)


def test_upsert_customers_inserts_then_updates(db: sqlite_utils.Database) -> None:
    assert (
        upsert_customers(db, [customer(), customer("5575-GNVDE", churned=None, total_charges=float("nan"))])
        == 2
    )
    row = db["customers"].get("7590-VHVEG")
    assert (
        row["churned"] == 0
        and row["tenure_months"] == 1
        and json.loads(row["attributes"]) == {"gender": "Female"}
    )
    assert row["imported_at"].endswith("Z")
    assert db["customers"].get("5575-GNVDE")["total_charges"] is None
    upsert_customers(db, [customer(churned=True, tenure_months=2.0)])
    row = db["customers"].get("7590-VHVEG")
    assert (row["churned"], row["tenure_months"]) == (1, 2)
    assert db["customers"].count == 2


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"churned": "Yes"}, "churned must be true or false"), ({"tenure_months": "abc"}, "tenure_months"),
     ({"tenure_months": 1.5}, "whole number"), ({"customer_id": ""}, "customer_id is empty"),
     ({"customer_id": "1234.0"}, "went through a float")],
)  # fmt: skip
def test_upsert_customers_validates(db: sqlite_utils.Database, overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        upsert_customers(db, [customer(**overrides)])
    assert db["customers"].count == 0


def test_upsert_handles_normalises(db: sqlite_utils.Database) -> None:
    upsert_customers(db, [customer()])
    handles = [
        CustomerHandle("7590-VHVEG", " X ", "  @JaneDoe ", True, "crm-form", date(2024, 2, 3)),
        CustomerHandle("7590-VHVEG", "reddit", "jane_d", False, None, datetime(2024, 2, 3, 10, tzinfo=UTC),
                       synthetic=True),
    ]  # fmt: skip
    assert upsert_handles(db, handles) == 2
    rows = list(db.query("SELECT * FROM customer_handles ORDER BY platform"))
    assert rows[1] == {
        "customer_id": "7590-VHVEG", "platform": "x", "handle": "janedoe", "consent": 1,
        "consent_source": "crm-form", "consent_date": "2024-02-03", "synthetic": 0,
    }  # fmt: skip
    assert (rows[0]["consent"], rows[0]["consent_date"], rows[0]["synthetic"]) == (0, "2024-02-03", 1)
    upsert_handles(db, [CustomerHandle("7590-VHVEG", "x", "@JANEDOE", False, "withdrawn", "2024-06-01")])
    row = next(db["customer_handles"].rows_where("platform = 'x'"))
    assert (row["consent"], row["consent_source"], row["consent_date"]) == (0, "withdrawn", "2024-06-01")
    assert db["customer_handles"].count == 2


@pytest.mark.parametrize(
    ("handle", "message"),
    [(CustomerHandle("7590-VHVEG", "x", "@", True), "handle must be a non-empty string"),
     (CustomerHandle("7590-VHVEG", "x", "jane", "no"), "consent must be true or false"),
     (CustomerHandle("7590-VHVEG", "x", "jane", True, consent_date="03/02/2024"), "consent_date"),
     (CustomerHandle("7590-VHVEG", "", "jane", True), "platform")],
)  # fmt: skip
def test_upsert_handles_validates(db: sqlite_utils.Database, handle: CustomerHandle, message: str) -> None:
    upsert_customers(db, [customer()])
    with pytest.raises(ValueError, match=message):
        upsert_handles(db, [handle])


def test_handles_need_their_customer_and_go_with_it(db: sqlite_utils.Database) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        upsert_handles(db, [CustomerHandle("unknown", "x", "jane", True)])
    upsert_customers(db, [customer()])
    upsert_handles(db, [CustomerHandle("7590-VHVEG", "x", "jane", True)])
    db.conn.execute("DELETE FROM customers WHERE customer_id = '7590-VHVEG'")
    assert db["customer_handles"].count == 0


def test_upsert_authors_keeps_known_values(db: sqlite_utils.Database) -> None:
    upsert_authors(db, [Author("x", "42", "@Nimbus", "Nimbus Mobile", {"followers": 10})])
    upsert_authors(db, [Author("x", "42")])
    row = db["authors"].get("x:42")
    assert (row["handle"], row["display_name"], json.loads(row["metadata"])) == (
        "Nimbus", "Nimbus Mobile", {"followers": 10},
    )  # fmt: skip
    assert upsert_authors(db, [Author("x", "42", "NimbusNew")]) == 1
    assert db["authors"].get("x:42")["handle"] == "NimbusNew"
    with pytest.raises(ValueError, match="went through a float"):
        upsert_authors(db, [Author("x", "4.2e+17")])
