"""No annotator stores a per-person inference on health, finances, politics, religion, ethnicity, sexuality.

Two proofs, over every registered annotator (embeddings aside: a vector of numbers per post, no label):

1. **Schema**: no annotation table has a column about a person (author, customer, handle) or named after a
   sensitive trait; annotations are keyed by post only.
2. **Behaviour**: posts that state sensitive traits outright are annotated, and every stored text value is
   either a quotation of the post (a substring of its normalised text: a need phrase, a mention surface) or
   a short label from a closed vocabulary (sentiment, need kind, intent, language code, brand name) that
   names no sensitive trait. So a trait can only appear where the author wrote it, in their own post,
   never as something tasteradar inferred about them.
"""

from __future__ import annotations

import re

import pytest

from nlp import ANNOTATORS, build_annotators, normalize, run_annotators
from nlp.mentions import Brand
from store import Post, upsert_posts

SENSITIVE = re.compile(
    r"health|medic|diagnos|disab|illness|pregnan|relig|faith|church|muslim|christian|jewish|hindu|"
    r"politic|party|vote|democrat|republican|liberal|conservative|ethnic|race|racial|black|white|hispanic|"
    r"asian|sexual|orientation|gay|lesbian|trans|queer|gender|income|debt|salary|credit|poor|wealth|financ",
    re.IGNORECASE,
)
PERSONAL_COLUMNS = re.compile(r"author|customer|handle|person|user", re.IGNORECASE)
LABEL = re.compile(r"^[a-z][a-z_]{0,23}$|^[a-z]{2,3}(-[A-Za-z]{2,4})?$")

POSTS = [
    "As a gay Muslim with diabetes I can't afford @Volt anymore, switching to @NimbusMobile",
    "I wish Nimbus Mobile had a discount for people on disability benefits, I'm broke and in debt",
    "Voted Republican, pray at church every Sunday, and Titan still drops my calls. Cancel my plan!",
    "Soy latina y lesbiana, y Orbit no tiene cobertura en mi pueblo",
    "My therapist says stress from @TitanTelecom billing is bad for my depression 😡 why can't you fix it",
]


BRANDS = (
    Brand("Nimbus Mobile", ("Nimbus",), ("NimbusMobile",)),
    Brand("Titan Telecom", ("Titan",), ("TitanTelecom",)),
    Brand("Volt", (), ("Volt",)),
    Brand("Orbit", (), ("Orbit",)),
)
FAMILIES = [family for family in ANNOTATORS if not family.startswith("embeddings.")]


@pytest.fixture(scope="module")
def annotators():
    return build_annotators(BRANDS, FAMILIES)


def test_no_annotation_table_describes_a_person(annotators) -> None:
    for annotator in annotators:
        for column in (annotator.table, *annotator.columns):
            assert not PERSONAL_COLUMNS.search(column), f"{annotator.name}: {column} is about a person"
            assert not SENSITIVE.search(column), f"{annotator.name}: {column} names a sensitive trait"


def test_stored_values_are_quotations_or_neutral_labels(db, annotators) -> None:
    from datetime import UTC, datetime

    when = datetime(2026, 5, 1, tzinfo=UTC)
    upsert_posts(db, [Post("x", str(i), text, when, author_handle=f"p{i}") for i, text in enumerate(POSTS)])
    run_annotators(db, annotators)
    texts = {f"x:{i}": normalize(text) for i, text in enumerate(POSTS)}
    brands = {brand.name for brand in BRANDS}
    checked = 0
    for annotator in annotators:
        for row in db.conn.execute(f"SELECT * FROM {annotator.table}").fetchall():
            values = dict(zip(annotator.columns, row, strict=False))
            for column, value in values.items():
                if column == "post_id" or not isinstance(value, str):
                    continue
                checked += 1
                quoted = value in texts[values["post_id"]]
                label = value in brands or (LABEL.match(value) and not SENSITIVE.search(value))
                assert quoted or label, f"{annotator.name}.{column} = {value!r} is neither quoted nor a label"
    assert checked > 0
