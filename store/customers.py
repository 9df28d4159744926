"""CRM customers and the social handles they recorded, with the consent that allows linking them to posts."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import sqlite_utils

from store.ids import check_native_id
from store.records import Customer, CustomerHandle, to_iso
from store.text import repair_optional, repair_text, to_json
from store.transactions import write_in_batches

CUSTOMER_COLUMNS = (
    "customer_id", "broad_segment", "plan", "contract", "tenure_months", "monthly_charge", "total_charges",
    "churned", "attributes", "source", "imported_at",
)  # fmt: skip
HANDLE_COLUMNS = (
    "customer_id",
    "platform",
    "handle",
    "consent",
    "consent_source",
    "consent_date",
    "synthetic",
)


def _upsert_sql(table: str, columns: tuple[str, ...], key: tuple[str, ...]) -> str:
    """Return ``INSERT ... ON CONFLICT (key) DO UPDATE SET`` every other column."""
    updates = ", ".join(f"{column} = excluded.{column}" for column in columns if column not in key)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )


CUSTOMER_UPSERT_SQL = _upsert_sql("customers", CUSTOMER_COLUMNS, ("customer_id",))
HANDLE_UPSERT_SQL = _upsert_sql("customer_handles", HANDLE_COLUMNS, ("platform", "handle", "customer_id"))


def parse_attributes(text: str | None) -> dict:
    """A customer's ``attributes`` column as a dict (an empty dict for NULL, bad JSON or a non-object).

    >>> parse_attributes('{"lines": 2}'), parse_attributes(None), parse_attributes("[1]")
    ({'lines': 2}, {}, {})
    """
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def normalize_handle(handle: str) -> str:
    """Return ``handle`` as stored and matched: surrounding spaces and leading ``@`` removed, lower case.

    >>> normalize_handle("  @NimbusHelp ")
    'nimbushelp'
    """
    return repair_text(handle).strip().lstrip("@").strip().lower()


def _flag(name: str, value: Any, owner: str, *, optional: bool = False) -> int | None:
    """Return a flag as 0/1; only ``bool`` and the integers 0 and 1 are accepted (never truthiness)."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
        return int(value)
    raise ValueError(f"{owner}: {name} must be true or false, got {value!r}")


def _number(name: str, value: Any, owner: str, kind: type) -> Any:
    """Return ``value`` as ``kind`` (int or float); ``None`` and NaN become ``None``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        raise ValueError(f"{owner}: {name} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{owner}: {name} must be a number, got {value!r}") from None
    if kind is int:
        if not number.is_integer():
            raise ValueError(f"{owner}: {name} must be a whole number, got {value!r}")
        return int(number)
    return number


def _customer_row(customer: Customer, now: str) -> tuple:
    """Return the validated ``customers`` row of ``customer``."""
    problem = check_native_id("customer_id", customer.customer_id)
    if problem:
        raise ValueError(f"customer: {problem}")
    owner = f"customer {customer.customer_id}"
    return (
        repair_text(customer.customer_id),
        repair_optional(customer.broad_segment),
        repair_optional(customer.plan),
        repair_optional(customer.contract),
        _number("tenure_months", customer.tenure_months, owner, int),
        _number("monthly_charge", customer.monthly_charge, owner, float),
        _number("total_charges", customer.total_charges, owner, float),
        _flag("churned", customer.churned, owner, optional=True),
        to_json(customer.attributes or {}, sort_keys=True),
        repair_optional(customer.source),
        now,
    )


def upsert_customers(
    db: sqlite_utils.Database, customers: Iterable[Customer], *, batch_size: int = 5000
) -> int:
    """Insert or replace CRM customers (keyed by ``customer_id``); return how many were written.

    One transaction per ``batch_size`` customers. Raises ``ValueError`` naming the customer and the field for
    an unusable id, a non-numeric number or a ``churned`` that is not true/false/None.
    """
    return write_in_batches(db, CUSTOMER_UPSERT_SQL, customers, _customer_row, batch_size)


def _consent_date(value: Any, owner: str) -> str | None:
    """Return a consent date as ISO ``YYYY-MM-DD`` (from a date, a datetime or an ISO string)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return to_iso(value)[:10]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10]).isoformat()
        except ValueError:
            pass
    raise ValueError(f"{owner}: consent_date must be a date or YYYY-MM-DD, got {value!r}")


def _handle_row(handle: CustomerHandle, _now: str) -> tuple:
    """Return the validated, normalised ``customer_handles`` row of ``handle``."""
    owner = f"handle of customer {handle.customer_id!r}"
    problem = check_native_id("customer_id", handle.customer_id)
    if problem:
        raise ValueError(f"{owner}: {problem}")
    if not isinstance(handle.platform, str) or not handle.platform.strip():
        raise ValueError(f"{owner}: platform must be a non-empty string, got {handle.platform!r}")
    if not isinstance(handle.handle, str) or not normalize_handle(handle.handle):
        raise ValueError(f"{owner}: handle must be a non-empty string, got {handle.handle!r}")
    return (
        repair_text(handle.customer_id),
        repair_text(handle.platform).strip().lower(),
        normalize_handle(handle.handle),
        _flag("consent", handle.consent, owner),
        repair_optional(handle.consent_source),
        _consent_date(handle.consent_date, owner),
        _flag("synthetic", handle.synthetic, owner),
    )


def upsert_handles(
    db: sqlite_utils.Database, handles: Iterable[CustomerHandle], *, batch_size: int = 5000
) -> int:
    """Insert or update customers' social handles; return how many were written.

    The handle is normalised with :func:`normalize_handle` and the platform lower-cased; ``consent`` and
    ``synthetic`` are stored as 0/1 and must be real booleans (a string such as ``"no"`` is refused, never
    taken as true), ``consent_date`` as ``YYYY-MM-DD``. The customer must already exist (foreign key).
    """
    return write_in_batches(db, HANDLE_UPSERT_SQL, handles, _handle_row, batch_size)
