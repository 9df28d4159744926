"""Bucketing of daily series for the dashboard's charts (dashboard/charts.py)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from dashboard.charts import bucket


def daily(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        {"day": pd.to_datetime([day for day, _, _ in rows]), "brand": [b for _, b, _ in rows],
         "posts": [n for _, _, n in rows]}
    )  # fmt: skip


def test_quiet_days_are_zero_rows_not_missing() -> None:
    frame = daily([("2026-03-02", "A", 4), ("2026-03-05", "A", 2), ("2026-03-05", "B", 1)])
    out = bucket(frame, ["brand"], "day", date(2026, 3, 1), date(2026, 3, 6))
    assert len(out) == 6 * 2  # every day of the range for each brand the frame has
    a = out[out["brand"] == "A"].set_index("day")["posts"]
    assert a.loc["2026-03-01"] == 0 and a.loc["2026-03-02"] == 4 and a.loc["2026-03-03"] == 0
    assert a.loc["2026-03-05"] == 2 and out["posts"].dtype == frame["posts"].dtype
    assert out["posts"].sum() == 7 and (out["days"] == 1).all()


def test_quiet_weeks_are_zero_rows_with_their_days() -> None:
    # Mondays 2026-03-02 ... 2026-03-30; nothing in the weeks of 03-09 and 03-16
    frame = daily([("2026-03-04", "A", 7), ("2026-03-25", "A", 3), ("2026-04-01", "A", 1)])
    out = bucket(frame, ["brand"], "week", date(2026, 3, 4), date(2026, 4, 1))
    assert out["day"].dt.strftime("%m-%d").tolist() == ["03-02", "03-09", "03-16", "03-23", "03-30"]
    assert out["posts"].tolist() == [7, 0, 0, 3, 1]
    assert out["days"].tolist() == [5, 7, 7, 7, 3]  # partial first and last weeks


def test_without_a_range_the_data_span_is_filled_and_no_by_columns_work() -> None:
    frame = daily([("2026-03-02", "A", 1), ("2026-03-04", "A", 1)]).drop(columns="brand")
    out = bucket(frame, [], "day", None, None)
    assert out["posts"].tolist() == [1, 0, 1]


def test_an_empty_frame_stays_empty() -> None:
    out = bucket(daily([]), ["brand"], "week", date(2026, 3, 1), date(2026, 3, 31))
    assert out.empty and "days" in out.columns
