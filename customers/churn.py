"""Churn risk for opted-in customers: a calibrated logistic regression on CRM and consented social signals.

**Who is scored.** Only customers who opted in (linked in ``customer_links``, or holding a handle with
``consent = 1``) get a row in ``churn_scores``; every run replaces the table, so a customer who withdrew
consent loses their score. The model is *trained* on every customer whose ``churned`` the CRM knows: CRM
fields are the operator's own records, and the social columns are read only from consented links (zero for
everyone else; see :mod:`customers.churn_features`).

**The model.** Standardised features, then an L2 logistic regression (scikit-learn). Its log-odds are
calibrated by Platt scaling fitted on out-of-fold predictions (stratified k-fold), so a risk of 0.3 means
about 3 in 10 such customers churn. Reported metrics are out of fold: the AUC of the out-of-fold log-odds and
the Brier score of the out-of-fold risks after a calibration that is itself cross-fitted (never scored on the
customers it was fitted on). ``crm_only=True`` fits the same model without the social columns, for comparison.

**Factors.** A customer's calibrated log-odds are the model's log-odds for the average customer plus one
contribution per feature, ``slope * coef * (x - mean) / scale``; contributions of one field (the one-hot
contract columns, a value and its missing flag) are summed into one factor and phrased from the customer's
own values ("month-to-month contract", "said they would switch to Volt Mobile", "sentiment fell 0.4 in the
last 30 days"). ``factors`` keeps the largest by absolute size, positive ones raising the risk.

**Storage.** ``churn_models`` keeps each fit as a new version (coefficients, scaler, calibration, feature
names and aggregate metrics as JSON; no customer data) and marks it the one active model.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
import sqlite_utils

from customers.churn_features import RECENT_DAYS, ChurnFeatures, build_features
from store import to_iso, transaction, utc_now

__all__ = [
    "MAX_FACTORS",
    "MIN_FACTORS",
    "ChurnError",
    "ChurnFit",
    "ChurnModel",
    "ChurnReport",
    "customer_risk",
    "factors",
    "fit_churn",
    "load_model",
    "phrase",
    "run_churn",
    "save_model",
    "score_active",
    "write_scores",
]

#: A customer's factors: at most this many, and at least ``MIN_FACTORS`` when the model has them.
MAX_FACTORS = 5
MIN_FACTORS = 3
#: Factors smaller than this (absolute log-odds) are left out beyond the first ``MIN_FACTORS``.
MIN_CONTRIBUTION = 0.05
#: Customers of each class needed to fit (also at least one per fold).
MIN_PER_CLASS = 10
MODEL_NAME = "churn.logistic.v1"


class ChurnError(ValueError):
    """The churn model cannot be fitted or used on this data; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class ChurnModel:
    """A fitted churn model: everything needed to score, and nothing about any one customer.

    ``features`` are the matrix columns in order, ``groups`` maps each to its factor and ``kinds`` each factor
    to its kind; ``mean``/``scale`` the standardisation, ``coef``/``intercept`` the logistic regression,
    ``slope``/``offset`` the Platt calibration of its log-odds.
    """

    kind: str
    features: tuple[str, ...]
    groups: dict[str, str]
    kinds: dict[str, str]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    slope: float
    offset: float
    settings: dict = field(default_factory=dict)

    def aligned(self, matrix: pd.DataFrame) -> np.ndarray:
        """``matrix`` as this model's columns; a column it lacks is set to the mean (contributes nothing)."""
        frame = matrix.reindex(columns=list(self.features))
        return frame.fillna(pd.Series(self.mean, index=list(self.features))).to_numpy(dtype=float)

    def contributions(self, matrix: pd.DataFrame) -> pd.DataFrame:
        """Calibrated log-odds contribution of each factor (columns) for each customer (rows)."""
        z = (self.aligned(matrix) - self.mean) / self.scale
        per_column = z * (self.slope * self.coef)
        factors = list(dict.fromkeys(self.groups[name] for name in self.features))
        members = np.array(
            [[float(self.groups[name] == factor) for factor in factors] for name in self.features]
        ).reshape(len(self.features), len(factors))
        return pd.DataFrame(per_column @ members, index=matrix.index, columns=factors)

    @property
    def base_logit(self) -> float:
        """Calibrated log-odds of a customer at the mean of every feature."""
        return float(self.slope * self.intercept + self.offset)

    def logit(self, matrix: pd.DataFrame) -> np.ndarray:
        """Calibrated log-odds of churn for each row of ``matrix``."""
        z = (self.aligned(matrix) - self.mean) / self.scale
        return self.slope * (z @ self.coef + self.intercept) + self.offset

    def risk(self, matrix: pd.DataFrame) -> np.ndarray:
        """Calibrated churn probability in [0, 1] for each row of ``matrix``."""
        return 1.0 / (1.0 + np.exp(-np.clip(self.logit(matrix), -500, 500)))

    def to_params(self) -> dict:
        """The JSON-ready parameters stored in ``churn_models.params``."""
        return {
            "model": MODEL_NAME,
            "groups": self.groups,
            "kinds": self.kinds,
            "scaler": {"mean": self.mean.tolist(), "scale": self.scale.tolist()},
            "logistic": {"coef": self.coef.tolist(), "intercept": self.intercept},
            "calibration": {"method": "platt", "slope": self.slope, "offset": self.offset},
            "settings": self.settings,
        }

    @classmethod
    def from_params(cls, kind: str, features: list[str], params: dict) -> ChurnModel:
        """The model stored as ``kind``, ``features`` and :meth:`to_params` output."""
        return cls(
            kind=kind,
            features=tuple(features),
            groups=params["groups"],
            kinds=params["kinds"],
            mean=np.asarray(params["scaler"]["mean"], dtype=float),
            scale=np.asarray(params["scaler"]["scale"], dtype=float),
            coef=np.asarray(params["logistic"]["coef"], dtype=float),
            intercept=float(params["logistic"]["intercept"]),
            slope=float(params["calibration"]["slope"]),
            offset=float(params["calibration"]["offset"]),
            settings=params.get("settings", {}),
        )


@dataclass(frozen=True, slots=True)
class ChurnFit:
    """A fitted model, its out-of-fold metrics and the out-of-fold risk of each labelled customer."""

    model: ChurnModel
    metrics: dict
    oof_risk: pd.Series


@dataclass(frozen=True, slots=True)
class ChurnReport:
    """What :func:`run_churn` did: the stored model version, its metrics, how many customers it scored."""

    version: int
    kind: str
    labelled: int
    churned: int
    opted_in: int
    scored: int
    auc: float
    brier: float
    auc_opted_in: float | None
    seconds: float
    metrics: dict = field(default_factory=dict)

    def summary(self) -> str:
        """One line for the CLI."""
        opted = f", opted-in AUC {self.auc_opted_in:.3f}" if self.auc_opted_in is not None else ""
        return (
            f"churn model v{self.version} ({self.kind}): {self.labelled:,} labelled customers "
            f"({self.churned:,} churned); out-of-fold AUC {self.auc:.3f}, Brier {self.brier:.3f}{opted}; "
            f"{self.scored:,} opted-in customers scored in {self.seconds:.1f} s"
        )


# --- fitting -----------------------------------------------------------------------------------------------


def _check_labels(labels: pd.Series, folds: int) -> None:
    """Raise :class:`ChurnError` unless both classes have enough labelled customers for ``folds`` folds."""
    known = labels.dropna()
    churned, stayed = int((known == 1).sum()), int((known == 0).sum())
    needed = max(MIN_PER_CLASS, folds)
    if churned == 0 or stayed == 0:
        only = "churned" if stayed == 0 else "stayed"
        raise ChurnError(
            f"all {len(known):,} customers with a known churn status {only}: the churn model needs both "
            "churned and retained customers; import a CRM file whose churn column has both values"
        )
    if min(churned, stayed) < needed:
        raise ChurnError(
            f"too few labelled customers to fit a churn model: {churned} churned and {stayed} retained, "
            f"at least {needed} of each needed; import more CRM history with a churn column"
        )


def fit_churn(features: ChurnFeatures, *, folds: int = 5, seed: int = 0, c: float = 1.0) -> ChurnFit:
    """Fit the calibrated model on the customers of ``features`` whose churn is known.

    ``folds``-fold stratified cross-validation gives the out-of-fold log-odds the Platt calibration is fitted
    on and the reported metrics (``auc``, ``brier``, ``brier_baseline`` (predicting the churn rate),
    ``auc_opted_in`` over opted-in labelled customers when both classes occur there). ``c`` is the inverse
    L2 strength. Raises :class:`ChurnError` for too few labelled customers or a single class.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    _check_labels(features.labels, folds)
    known = features.labels.notna()
    x = features.matrix[known].to_numpy(dtype=float)
    y = features.labels[known].to_numpy(dtype=int)
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    oof_logit = cross_val_predict(pipeline, x, y, cv=cv, method="decision_function")
    platt = LogisticRegression(C=1e6, max_iter=1000).fit(oof_logit[:, None], y)
    oof_risk = cross_val_predict(
        LogisticRegression(C=1e6, max_iter=1000), oof_logit[:, None], y, cv=cv, method="predict_proba"
    )[:, 1]
    pipeline.fit(x, y)
    scaler, logistic = pipeline[0], pipeline[-1]
    model = ChurnModel(
        kind="full" if set(features.matrix.columns) - set(features.crm_columns) else "crm_only",
        features=tuple(features.matrix.columns),
        groups=dict(features.groups),
        kinds=dict(features.kinds),
        mean=scaler.mean_.astype(float),
        scale=scaler.scale_.astype(float),
        coef=logistic.coef_[0].astype(float),
        intercept=float(logistic.intercept_[0]),
        slope=float(platt.coef_[0, 0]),
        offset=float(platt.intercept_[0]),
        settings={
            "folds": folds,
            "seed": seed,
            "C": c,
            "own_brand": features.own_brand,
            "recent_days": RECENT_DAYS,
            "now": to_iso(features.now),
        },
    )
    risk = pd.Series(oof_risk, index=features.matrix.index[known], name="risk")
    metrics = _metrics(y, oof_logit, risk, features.opted_in[known])
    return ChurnFit(model=model, metrics=metrics, oof_risk=risk)


def _metrics(y: np.ndarray, oof_logit: np.ndarray, oof_risk: pd.Series, opted_in: pd.Series) -> dict:
    """Out-of-fold AUC and Brier (all labelled customers and the opted-in ones), counts, base rate."""
    from sklearn.metrics import brier_score_loss, roc_auc_score

    rate = float(y.mean())
    opted = opted_in.to_numpy(dtype=bool)
    both = len(set(y[opted].tolist())) == 2
    return {
        "labelled": len(y),
        "churned": int(y.sum()),
        "churn_rate": round(rate, 4),
        "auc": round(float(roc_auc_score(y, oof_logit)), 4),
        "brier": round(float(brier_score_loss(y, oof_risk.to_numpy())), 4),
        "brier_baseline": round(rate * (1 - rate), 4),
        "opted_in_labelled": int(opted.sum()),
        "auc_opted_in": round(float(roc_auc_score(y[opted], oof_logit[opted])), 4) if both else None,
    }


# --- factors -----------------------------------------------------------------------------------------------


def factors(model: ChurnModel, features: ChurnFeatures, customer_ids: list[str]) -> dict[str, list[dict]]:
    """The top factors of each customer: ``[{feature, phrase, contribution}]``, largest first (absolute).

    At most :data:`MAX_FACTORS`; ones below :data:`MIN_CONTRIBUTION` log-odds are dropped unless fewer than
    :data:`MIN_FACTORS` would remain. ``contribution`` is in calibrated log-odds, positive raising the risk.
    """
    matrix = features.matrix.loc[customer_ids]
    contributions = model.contributions(matrix)
    values = contributions.to_numpy()
    order = np.argsort(-np.abs(values), axis=1, kind="stable")[:, :MAX_FACTORS]
    names = list(contributions.columns)
    rows = matrix.to_dict("records")
    context = features.context.loc[customer_ids].to_dict("records")
    result: dict[str, list[dict]] = {}
    for row, customer_id in enumerate(customer_ids):
        picked = [
            (rank, names[col], float(values[row, col]))
            for rank, col in enumerate(order[row])
            if rank < MIN_FACTORS or abs(values[row, col]) >= MIN_CONTRIBUTION
        ]
        result[customer_id] = [
            {
                "feature": name,
                "phrase": phrase(model, name, rows[row], context[row], features.own_brand),
                "contribution": round(value, 3),
            }
            for _, name, value in picked
        ]
    return result


def _level(model: ChurnModel, group: str, values: Mapping[str, float]) -> str | None:
    """The one-hot level set for ``group`` in ``values`` (None when none is)."""
    for name in model.features:
        if model.groups[name] == group and name.startswith(f"{group}=") and values.get(name, 0.0) >= 0.5:
            return name[len(group) + 1 :]
    return None


def _num(value: float) -> str:
    """A short number: ``0.4``, ``12``, ``1.25``."""
    return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value):,}"


def _times(count: float) -> str:
    """``once``, ``twice``, ``3 times``."""
    return {1: "once", 2: "twice"}.get(int(count), f"{int(count)} times")


def phrase(
    model: ChurnModel,
    group: str,
    values: Mapping[str, float],
    context: Mapping[str, str | None],
    own_brand: str,
) -> str:
    """A readable description of a customer's value of factor ``group`` ("month-to-month contract").

    ``values`` maps the customer's feature columns to their values, ``context`` holds the brand names of
    :attr:`ChurnFeatures.context` (``switch_to``, ``switched_to``, ``praised``).
    """
    if values.get(f"{group}_missing", 0.0) >= 0.5:
        return f"{_label(group)} unknown"
    kind = model.kinds.get(group, "number")
    if kind == "social":
        return _social_phrase(group, values, context, own_brand)
    if kind == "category":
        level = _level(model, group, values)
        if level is None:
            return f"{_label(group)} unknown"
        level = {"True": "yes", "False": "no"}.get(level, level)
        return {"contract": f"{level.lower()} contract", "plan": f"on the {level} plan"}.get(
            group, f"{_label(group)}: {level}"
        )
    value = float(values.get(group, 0.0))
    if kind == "flag":
        return f"{_label(group)}: {'yes' if value >= 0.5 else 'no'}"
    if group == "tenure_months":
        return (
            f"customer for {_num(value)} months"
            if value < 24
            else f"customer for {_num(round(value / 12, 1))} years"
        )
    if group == "monthly_charge":
        return f"pays {value:,.2f} a month"
    if group == "total_charges":
        return f"total charges {value:,.0f} to date"
    return f"{_label(group)}: {_num(value)}"


def _label(group: str) -> str:
    """A field's readable name: ``attr:support_calls_90d`` -> ``support calls 90d``."""
    return group.removeprefix("attr:").replace("_", " ")


def _social_phrase(
    group: str, values: Mapping[str, float], context: Mapping[str, str | None], own_brand: str
) -> str:
    """The phrase of a social factor."""
    count = float(values.get(group, 0.0))
    target = context.get("switch_to")
    posts = float(values.get("posts", 0.0))
    if group in ("has_social", "posts"):
        return f"posted {_times(posts)} on linked accounts" if posts else "no linked posts"
    if group == "sentiment_mean":
        return f"mean sentiment {count:+.2f}" if posts else "no linked posts to read sentiment from"
    if group == "sentiment_change_30d":
        if count == 0:
            return f"sentiment steady in the last {RECENT_DAYS} days"
        direction = "fell" if count < 0 else "rose"
        return f"sentiment {direction} {_num(round(abs(count), 2))} in the last {RECENT_DAYS} days"
    if group == "competitor_praise":
        if not count:
            return "never praised a competitor"
        praised = context.get("praised") or "a competitor"
        if count == 1:
            return f"praised {praised}"
        return f"praised competitors {_times(count)}, most often {praised}"
    if group == "own_brand_negative":
        if not count:
            return f"never spoke negatively of {own_brand}"
        return f"spoke negatively of {own_brand} {_times(count)}"
    return _intent_phrase(group, count, target, context.get("switched_to"))


def _intent_phrase(group: str, count: float, target: str | None, switched_to: str | None) -> str:
    """The phrase of an intent factor."""
    said = {
        "intent_switching": ("said they would switch" + (f" to {target}" if target else ""),
                             "never said they would switch"),
        "intent_cancel": ("talked about cancelling", "never talked about cancelling"),
        "intent_leaving": ("said they were leaving" + (f" for {target}" if target else ""),
                           "never said they were leaving"),
        "intent_switched": ("said they switched" + (f" to {switched_to}" if switched_to else ""),
                            "never said they had switched"),
    }  # fmt: skip
    yes, no = said[group]
    return (yes + (f" ({_times(count)})" if count > 1 else "")) if count else no


# --- storage -----------------------------------------------------------------------------------------------


def save_model(db: sqlite_utils.Database, fit: ChurnFit) -> int:
    """Store ``fit`` as a new version in ``churn_models`` and make it the active one; return its version."""
    with transaction(db) as conn:
        row = conn.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM churn_models").fetchone()
        version = int(row[0])
        conn.execute("UPDATE churn_models SET active = 0 WHERE active = 1")
        conn.execute(
            "INSERT INTO churn_models (version, fitted_at, kind, features, params, metrics, active) "
            "VALUES (?, ?, ?, ?, ?, ?, 1)",
            [
                version,
                to_iso(utc_now()),
                fit.model.kind,
                json.dumps(list(fit.model.features)),
                json.dumps(fit.model.to_params(), sort_keys=True),
                json.dumps(fit.metrics, sort_keys=True),
            ],
        )
    return version


def load_model(db: sqlite_utils.Database, version: int | None = None) -> tuple[int, ChurnModel]:
    """The stored model ``version`` (default: the active one) as ``(version, model)``.

    Raises :class:`ChurnError` when there is none (run ``run_churn`` first).
    """
    sql = "SELECT version, kind, features, params FROM churn_models WHERE "
    row = db.conn.execute(
        sql + ("version = ?" if version is not None else "active = 1 ORDER BY version DESC LIMIT 1"),
        [version] if version is not None else [],
    ).fetchone()
    if row is None:
        which = f"version {version}" if version is not None else "an active model"
        raise ChurnError(f"no churn model ({which}) in the database: fit one first (run_churn)")
    return int(row[0]), ChurnModel.from_params(row[1], json.loads(row[2]), json.loads(row[3]))


def write_scores(db: sqlite_utils.Database, version: int, model: ChurnModel, features: ChurnFeatures) -> int:
    """Replace ``churn_scores`` with the risk and factors of every opted-in customer; return how many.

    Customers who did not opt in are never scored, and scores of customers no longer opted in are removed.
    """
    ids = [str(cid) for cid in features.opted_in.index[features.opted_in.to_numpy(dtype=bool)]]
    risks = model.risk(features.matrix.loc[ids]) if ids else np.array([])
    reasons = factors(model, features, ids) if ids else {}
    now = to_iso(utc_now())
    rows = [
        (cid, version, float(min(1.0, max(0.0, risk))), json.dumps(reasons[cid]), now)
        for cid, risk in zip(ids, risks, strict=True)
    ]
    with transaction(db) as conn:
        conn.execute("DELETE FROM churn_scores")
        conn.executemany(
            "INSERT INTO churn_scores (customer_id, model_version, risk, factors, scored_at) "
            "VALUES (?, ?, ?, ?, ?)",
            rows,
        )
    return len(rows)


def customer_risk(db: sqlite_utils.Database, customer_id: str) -> dict | None:
    """``{risk, model_version, factors, scored_at}`` of a customer; None when not scored (not opted in)."""
    row = db.conn.execute(
        "SELECT risk, model_version, factors, scored_at FROM churn_scores WHERE customer_id = ?",
        [customer_id],
    ).fetchone()
    if row is None:
        return None
    return {"risk": row[0], "model_version": row[1], "factors": json.loads(row[2]), "scored_at": row[3]}


# --- runs --------------------------------------------------------------------------------------------------


def run_churn(
    db: sqlite_utils.Database,
    *,
    own_brand: str,
    now: datetime | None = None,
    crm_only: bool = False,
    folds: int = 5,
    seed: int = 0,
) -> ChurnReport:
    """Fit, store and apply a churn model: the risk of every opted-in customer, with its top factors.

    Churn risk is scored for opted-in customers only (linked, or holding a consented handle); the model
    learns from every customer whose ``churned`` is known. ``own_brand`` is the configured brand name;
    ``now`` ends the window of posts read (default: the newest post). ``crm_only`` leaves the social
    features out. Raises :class:`ChurnError` for too few labelled customers or a single class.
    """
    started = time.perf_counter()
    features = build_features(db, own_brand=own_brand, now=now)
    if crm_only:
        features = features.crm_only()
    fit = fit_churn(features, folds=folds, seed=seed)
    version = save_model(db, fit)
    scored = write_scores(db, version, fit.model, features)
    metrics = fit.metrics
    return ChurnReport(
        version=version,
        kind=fit.model.kind,
        labelled=metrics["labelled"],
        churned=metrics["churned"],
        opted_in=int(features.opted_in.sum()),
        scored=scored,
        auc=metrics["auc"],
        brier=metrics["brier"],
        auc_opted_in=metrics["auc_opted_in"],
        seconds=time.perf_counter() - started,
        metrics=metrics,
    )


def score_active(db: sqlite_utils.Database, *, own_brand: str, now: datetime | None = None) -> int:
    """Score the opted-in customers again with the active model (no refit: after new posts); return how many.

    The features are rebuilt from the database; a feature the stored model does not know is ignored, one
    it knows but the data now lacks contributes nothing. Raises :class:`ChurnError` without a stored model.
    """
    version, model = load_model(db)
    features = build_features(db, own_brand=own_brand, now=now)
    if model.kind == "crm_only":
        features = features.crm_only()
    return write_scores(db, version, model, features)
