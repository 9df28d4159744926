"""Altair helpers shared by the brand pages: time buckets, and charts that always carry a title and units.

Charts take data frames from :mod:`dashboard.queries.market`; text from posts never reaches a chart (labels of
topics and themes do, as data values, which Vega renders as text, never as HTML).
"""

from __future__ import annotations

from datetime import date

import altair as alt
import pandas as pd

__all__ = ["GRAIN_WEEK_AFTER_DAYS", "bucket", "categories", "grain", "heatmap", "line", "net_sentiment"]

#: Ranges longer than this are charted by ISO week (Monday), shorter ones by day.
GRAIN_WEEK_AFTER_DAYS = 31

DIVERGING = alt.Scale(scheme="redblue", domain=[-1, 1])


def categories(domain: list[str] | None = None) -> alt.Scale:
    """A colour scale for brands or platforms, distinct hues, in ``domain`` order when given."""
    return alt.Scale(scheme="tableau10", domain=domain) if domain else alt.Scale(scheme="tableau10")


def grain(days: int | None) -> str:
    """``day`` or ``week``: the bucket that keeps a chart of ``days`` days readable."""
    return "week" if days is None or days > GRAIN_WEEK_AFTER_DAYS else "day"


def bucket(
    frame: pd.DataFrame, by: list[str], unit: str, since: date | None, until: date | None
) -> pd.DataFrame:
    """Sum the numeric columns of a daily ``frame`` (column ``day``) per ``unit`` (day or week) and ``by``.

    Every bucket of ``[since, until]`` is there for every ``by`` value the frame has, with zeros where it had
    no row, so a line drops to zero over a quiet spell instead of being drawn straight across it. Adds
    ``days``: the calendar days of each bucket inside ``[since, until]``, so a partial first or last week can
    be shown as a daily mean rather than as a dip.
    """
    frame = frame.copy()
    if unit == "week":
        frame["day"] = _monday(frame["day"])
    summed = frame.groupby(["day", *by], as_index=False).sum(numeric_only=True)
    if summed.empty:
        return summed.assign(days=pd.Series(dtype="int64"))
    summed = _complete(summed, by, unit, since, until)
    if unit == "day":
        summed["days"] = 1
        return summed
    start = pd.Timestamp(since) if since else summed["day"].min()
    end = pd.Timestamp(until) if until else summed["day"].max() + pd.Timedelta(days=6)
    first = summed["day"].where(summed["day"] > start, start)
    last = (summed["day"] + pd.Timedelta(days=6)).where(summed["day"] + pd.Timedelta(days=6) < end, end)
    summed["days"] = (last - first).dt.days + 1
    return summed


def _monday(days: pd.Series) -> pd.Series:
    """Each day's week start (Monday)."""
    return days - pd.to_timedelta(days.dt.day_of_week, unit="D")


def _complete(
    summed: pd.DataFrame, by: list[str], unit: str, since: date | None, until: date | None
) -> pd.DataFrame:
    """``summed`` with a zero row for every bucket of the range and ``by`` value it lacks, in order."""
    first = pd.Timestamp(since) if since else summed["day"].min()
    last = pd.Timestamp(until) if until else summed["day"].max()
    if unit == "week":
        first, last = (_monday(pd.Series([first, last]))).tolist()
    buckets = pd.DataFrame({"day": pd.date_range(first, last, freq="7D" if unit == "week" else "D")})
    keys = summed[by].drop_duplicates() if by else pd.DataFrame(index=[0])
    grid = buckets.merge(keys, how="cross")
    values = [column for column in summed.columns if column not in ("day", *by)]
    full = grid.merge(summed, on=["day", *by], how="left")
    full[values] = full[values].fillna(0).astype(summed[values].dtypes.to_dict())
    return full.sort_values(["day", *by], ignore_index=True)


def net_sentiment(frame: pd.DataFrame) -> pd.Series:
    """(positive - negative) / labelled posts, NaN where none is labelled."""
    labelled = frame["positive"] + frame["neutral"] + frame["negative"]
    return (frame["positive"] - frame["negative"]) / labelled.where(labelled > 0)


def line(
    frame: pd.DataFrame,
    *,
    y: str,
    color: str,
    title: str,
    y_title: str,
    unit: str,
    color_title: str,
    y_format: str = ",.0f",
    y_domain: list[float] | None = None,
    domain: list[str] | None = None,
) -> alt.Chart:
    """A line per ``color`` value over ``day`` (bucketed by ``unit``), with a title, axis units and tooltips;
    ``domain`` fixes the colour order (the same brand keeps its colour on every chart)."""
    x_title = "Week starting (UTC)" if unit == "week" else "Day (UTC)"
    scale = alt.Scale(domain=y_domain) if y_domain else alt.Undefined
    return (
        alt.Chart(frame, title=title)
        .mark_line(point=unit == "week")
        .encode(
            x=alt.X("day:T", title=x_title),
            y=alt.Y(f"{y}:Q", title=y_title, axis=alt.Axis(format=y_format), scale=scale),
            color=alt.Color(f"{color}:N", title=color_title, scale=categories(domain)),
            tooltip=[
                alt.Tooltip("day:T", title=x_title),
                alt.Tooltip(f"{color}:N", title=color_title),
                alt.Tooltip(f"{y}:Q", title=y_title, format=y_format),
            ],
        )
    )


def heatmap(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    value: str,
    title: str,
    x_title: str,
    y_title: str,
    value_title: str,
    diverging: bool,
    tooltip: list[alt.Tooltip] | None = None,
    height: int = 300,
    x_angle: int = 0,
) -> alt.LayerChart:
    """Cells of ``value`` per ``x`` and ``y`` with the value written in each cell, ``height`` pixels tall
    (``x_angle``: the x labels' angle, for narrow charts)."""
    scale = DIVERGING if diverging else alt.Scale(scheme="blues")
    value_format = "+.2f" if diverging else ",.0f"
    base = alt.Chart(frame, title=title, height=height).encode(
        x=alt.X(
            f"{x}:N", title=x_title, axis=alt.Axis(labelAngle=x_angle, labelOverlap=False, labelLimit=180)
        ),
        y=alt.Y(f"{y}:N", title=y_title, axis=alt.Axis(labelLimit=260)),
    )
    cells = base.mark_rect().encode(
        color=alt.Color(f"{value}:Q", title=value_title, scale=scale),
        tooltip=tooltip or [f"{x}:N", f"{y}:N", alt.Tooltip(f"{value}:Q", format=value_format)],
    )
    text = base.mark_text(fontSize=11).encode(text=alt.Text(f"{value}:Q", format=value_format))
    return cells + text
