"""The demo CRM: customers in broad segments, each in one planted micro-segment, with churn and handles.

Churn is planted from contract, tenure, micro-segment, the price change and a latent dissatisfaction
(``mood``) that also shows in support calls and, for customers who post, in what they write. Exactly
``CHURN_RATE`` of the customers churn: the ones with the highest propensity plus logistic noise.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta

from store import Customer
from tasteradar.demo.world import (
    BROAD_SEGMENTS,
    COMPETITORS,
    DAYS,
    NEED_BY_ID,
    PRICE_CHANGE_DAY,
    PRICE_NEW,
    PRICE_OLD,
    PRICE_PLAN,
    SEGMENT_BY_ID,
    SWITCH_TARGET,
    segments_of,
)

CHURN_RATE = 0.235
OPT_IN_RATE = 0.40
NO_CONSENT_RATE = 0.015
CONSENT_SOURCES = ("app-signup-2025", "web-preferences-2025", "store-form-2024", "sms-campaign-2026")

#: (plan, monthly price for the first line, price per extra line, weight) by broad segment.
PLANS: dict[str, tuple[tuple[str, float, float, float], ...]] = {
    "prepaid youth": (("Prepaid 10GB", 15.0, 0.0, 0.35), ("Prepaid Unlimited", 25.0, 0.0, 0.40),
                      (PRICE_PLAN, PRICE_OLD, 0.0, 0.25)),
    "family postpaid": (("Family Share", 30.0, 22.0, 0.60), (PRICE_PLAN, PRICE_OLD, 25.0, 0.40)),
    "small business": (("Business Starter", 30.0, 26.0, 0.55), ("Business Pro", 42.0, 34.0, 0.45)),
    "seniors": (("Talk & Text", 10.0, 8.0, 0.45), ("Simple 5GB", 14.0, 10.0, 0.40),
                (PRICE_PLAN, PRICE_OLD, 25.0, 0.15)),
}  # fmt: skip
CONTRACTS: dict[str, tuple[float, float, float]] = {  # month-to-month, 12-month, 24-month
    "prepaid youth": (0.75, 0.20, 0.05),
    "family postpaid": (0.20, 0.30, 0.50),
    "small business": (0.25, 0.40, 0.35),
    "seniors": (0.30, 0.30, 0.40),
}
CONTRACT_NAMES = ("month-to-month", "12-month", "24-month")
CONTRACT_EFFECT = {"month-to-month": 1.3, "12-month": 0.0, "24-month": -1.1}
TENURE_MAX = {"prepaid youth": 36, "family postpaid": 72, "small business": 60, "seniors": 72}
AGE_BANDS = {
    "prepaid youth": (("18-24", 0.7), ("25-34", 0.3)),
    "family postpaid": (("25-34", 0.25), ("35-44", 0.45), ("45-54", 0.30)),
    "small business": (("25-34", 0.3), ("35-44", 0.3), ("45-54", 0.25), ("55-64", 0.15)),
    "seniors": (("55-64", 0.1), ("65-74", 0.5), ("75+", 0.4)),
}
LINES = {"prepaid youth": (1, 1), "family postpaid": (2, 5), "small business": (1, 8), "seniors": (1, 2)}
REGIONS = ("North", "South", "East", "West", "Central")
DEVICES = {
    "prepaid youth": ("iPhone 13", "Galaxy A54", "Pixel 7a", "Moto G", "iPhone 15"),
    "family postpaid": ("iPhone 15", "Galaxy S24", "Pixel 8", "iPhone 14"),
    "small business": ("iPhone 15", "Galaxy S24", "Pixel 8", "Galaxy XCover"),
    "seniors": ("Doro flip phone", "Galaxy A15", "iPhone SE", "Nokia 2660 Flip"),
}


@dataclass(slots=True)
class CustomerSpec:
    """A CRM customer with the planted truth around them (segment, churn, handle state)."""

    record: Customer
    segment: str
    mood: float
    churn: bool = False
    churn_day: int | None = None
    to_brand: str | None = None
    handle_state: str = "none"
    platform: str | None = None
    consent_source: str | None = None
    consent_date: date | None = None
    affected_by_price: bool = False


def _pick(rng: random.Random, weighted) -> str:
    names, weights = zip(*weighted, strict=True)
    return rng.choices(names, weights)[0]


def make_customers(rng: random.Random, count: int) -> list[CustomerSpec]:
    """``count`` customers with segments, CRM attributes, planted churn and handle states."""
    specs = [_customer(rng, number) for number in range(1, count + 1)]
    _plant_churn(rng, specs)
    _plant_handles(rng, specs)
    return specs


def _customer(rng: random.Random, number: int) -> CustomerSpec:
    broad = _pick(rng, BROAD_SEGMENTS)
    segment = _pick(rng, [(s.id, s.weight) for s in segments_of(broad)])
    seg = next(s for s in segments_of(broad) if s.id == segment)
    plan, first, extra, _ = rng.choices(PLANS[broad], [p[3] for p in PLANS[broad]])[0]
    contract_weights = (0.95, 0.05, 0.0) if segment == "budget_switchers" else CONTRACTS[broad]
    contract = rng.choices(CONTRACT_NAMES, contract_weights)[0]
    low, high = LINES[broad]
    lines = rng.randint(low, high) if segment != "parents" else rng.randint(3, 5)
    tenure = 0 if rng.random() < 0.006 else min(TENURE_MAX[broad], 1 + int(rng.expovariate(1 / 18)))
    mood = rng.gauss(0.0, 1.0)
    affected = plan == PRICE_PLAN
    price = (PRICE_NEW if affected else first) + extra * (lines - 1)
    monthly = round(price * rng.uniform(0.97, 1.05), 2)
    data_gb = round(max(0.3, seg.data_gb * rng.lognormvariate(0, 0.35)), 1)
    attributes = {
        "age_band": _pick(rng, AGE_BANDS[broad]),
        "data_gb": data_gb,
        "lines": lines,
        "region": rng.choice(REGIONS),
        "device": rng.choice(DEVICES[broad]),
        "autopay": rng.random() < 0.6 - 0.1 * mood,
        "support_calls_90d": _poisson(rng, 0.5 + 1.1 * max(0.0, mood)),
        "intl_minutes_90d": int(seg.extra.get("intl_minutes", 25) * rng.lognormvariate(0, 0.6)),
        "roaming_days_90d": int(seg.extra.get("roaming_days", 1) * rng.lognormvariate(0, 0.6)),
        "connected_devices": int(seg.extra.get("devices", 0) + _poisson(rng, 0.4)),
    }
    for key, share in (("age_band", 0.03), ("region", 0.02), ("device", 0.04)):
        if rng.random() < share:
            attributes[key] = None
    total = round(monthly * tenure * rng.uniform(0.93, 1.02), 2) if tenure else None
    record = Customer(
        customer_id=f"NM-{number:06d}",
        broad_segment=broad,
        plan=plan,
        contract=contract,
        tenure_months=tenure,
        monthly_charge=monthly,
        total_charges=total,
        churned=False,
        attributes=attributes,
        source="demo",
    )
    return CustomerSpec(record=record, segment=segment, mood=mood, affected_by_price=affected)


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def churn_propensity(spec: CustomerSpec, segment_effect: float) -> float:
    """The planted log-odds of churn before noise (contract, tenure, segment, price change, mood)."""
    record = spec.record
    tenure = record.tenure_months or 0
    return (
        CONTRACT_EFFECT[record.contract]
        - 0.035 * tenure
        + segment_effect
        + (0.6 if spec.affected_by_price else 0.0)
        + 1.1 * spec.mood
    )


def _plant_churn(rng: random.Random, specs: list[CustomerSpec]) -> None:
    scored = []
    for index, spec in enumerate(specs):
        u = min(max(rng.random(), 1e-9), 1 - 1e-9)
        noise = math.log(u / (1 - u))
        scored.append((churn_propensity(spec, SEGMENT_BY_ID[spec.segment].churn_effect) + noise, index))
    scored.sort(reverse=True)
    for _, index in scored[: round(CHURN_RATE * len(specs))]:
        spec = specs[index]
        spec.churn = True
        spec.record.churned = True
        spec.churn_day, spec.to_brand = _churn_day_and_target(rng, spec)
        if spec.affected_by_price and spec.churn_day < PRICE_CHANGE_DAY:
            spec.record.monthly_charge = round(spec.record.monthly_charge - (PRICE_NEW - PRICE_OLD), 2)


def _churn_day_and_target(rng: random.Random, spec: CustomerSpec) -> tuple[int, str]:
    if spec.affected_by_price and rng.random() < 0.65:
        day = rng.randint(PRICE_CHANGE_DAY + 2, DAYS - 1)
    else:
        day = rng.randint(20, DAYS - 1)
    if day >= PRICE_CHANGE_DAY and rng.random() < (0.8 if spec.affected_by_price else 0.4):
        return day, SWITCH_TARGET.key
    gap = NEED_BY_ID[SEGMENT_BY_ID[spec.segment].needs[0]].gap
    if gap and rng.random() < 0.5:
        return day, gap
    return day, rng.choice(COMPETITORS).key


def _plant_handles(rng: random.Random, specs: list[CustomerSpec]) -> None:
    order = list(range(len(specs)))
    rng.shuffle(order)
    opted = round(OPT_IN_RATE * len(specs))
    no_consent = max(3, round(NO_CONSENT_RATE * len(specs)))
    for rank, index in enumerate(order[: opted + no_consent]):
        spec = specs[index]
        spec.platform = "x" if rng.random() < 0.62 else "reddit"
        if rank < opted:
            spec.handle_state = "opted_in"
            spec.consent_source = rng.choice(CONSENT_SOURCES)
            year = int(spec.consent_source[-4:])
            spec.consent_date = date(year, 1, 1) + timedelta(
                days=rng.randrange(0, 150 if year == 2026 else 330)
            )
        else:
            spec.handle_state = "no_consent"
            spec.consent_source = "support-notes"
