"""Export writers: spreadsheet-safe CSV, exact JSON Lines and Parquet, files that appear only when done."""

from __future__ import annotations

import csv
import io
import json

import pyarrow.parquet as pq
import pytest

from store.exports import Column, neutralize, write_records

COLUMNS = (Column("id"), Column("score", "float"), Column("tags", "list"), Column("by", "map"))
RECORDS = [
    {"id": "x:1", "score": -0.5, "tags": ["=1+1", "ok"], "by": {"Volt": "positive"}},
    {"id": '=HYPERLINK("http://evil")', "score": None, "tags": [], "by": {}},
]


@pytest.mark.parametrize(
    "value", ["=1+1", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "\n=1", "  =cmd()", "＝1", "＠x"]
)
def test_formula_starts_are_neutralised(value: str) -> None:
    assert neutralize(value) == "'" + value


@pytest.mark.parametrize("value", ["Volt is great", "", "1-2", "a=b", "'quoted", "#hashtag"])
def test_plain_text_is_left_alone(value: str) -> None:
    assert neutralize(value) == value


def test_csv_neutralises_every_text_cell_and_keeps_numbers() -> None:
    out = io.BytesIO()
    assert write_records(RECORDS, COLUMNS, "csv", out) == 2
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8"))))
    assert rows[0] == ["id", "score", "tags", "by"]
    assert rows[1][1] == "-0.5"  # a number, not text: never prefixed
    assert json.loads(rows[1][2]) == ["=1+1", "ok"]  # JSON text starting with [ is safe as it is
    assert rows[2][0] == '\'=HYPERLINK("http://evil")'
    assert rows[2][1] == ""


def test_jsonl_keeps_values_exact() -> None:
    out = io.BytesIO()
    write_records(RECORDS, COLUMNS, "jsonl", out)
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first == RECORDS[0]
    assert second["id"] == '=HYPERLINK("http://evil")' and second["score"] is None


def test_json_is_one_array_of_exact_records() -> None:
    out = io.BytesIO()
    assert write_records(iter(RECORDS), COLUMNS, "json", out) == 2
    assert json.loads(out.getvalue()) == [RECORDS[0], {**RECORDS[1]}]
    empty = io.BytesIO()
    assert write_records([], COLUMNS, "json", empty) == 0
    assert json.loads(empty.getvalue()) == []


def test_parquet_types_and_empty_export(tmp_path) -> None:
    path = tmp_path / "posts.parquet"
    assert write_records(iter(RECORDS), COLUMNS, "parquet", path, chunk=1) == 2
    table = pq.read_table(path)
    assert table.column("tags").to_pylist() == [["=1+1", "ok"], []]
    assert table.column("by").to_pylist()[0] == [("Volt", "positive")]
    assert table.column("score").to_pylist() == [-0.5, None]
    empty = tmp_path / "empty.parquet"
    assert write_records([], COLUMNS, "parquet", empty) == 0
    assert pq.read_table(empty).num_rows == 0 and pq.read_table(empty).column_names == [
        "id",
        "score",
        "tags",
        "by",
    ]


def test_a_failed_export_leaves_no_finished_looking_file(tmp_path) -> None:
    def broken():
        yield RECORDS[0]
        raise RuntimeError("database went away")

    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError):
        write_records(broken(), COLUMNS, "csv", target)
    assert not target.exists()


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="choose one of jsonl, json, csv, parquet"):
        write_records([], COLUMNS, "xlsx", io.BytesIO())
