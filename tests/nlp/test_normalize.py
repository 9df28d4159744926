"""Normalisation: entities unescaped once, Unicode folded with emoji kept, tokens kept, idempotent."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlp.normalize import blank_english, canonical, normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("AT&amp;T is fine", "AT&T is fine"),
        ("&amp;amp; stays an entity the author typed", "&amp; stays an entity the author typed"),
        ("5 &lt; 6 &gt; 4 &quot;ok&quot; &#39;x&#39;", "5 < 6 > 4 \"ok\" 'x'"),
        ("Ｎｉｍｂｕｓ and 𝐍𝐢𝐦𝐛𝐮𝐬 and ﬁne", "Nimbus and Nimbus and fine"),
        ("cafe\u0301", "caf\u00e9"),
        ("a\u00a0b\u200bc\n\n\t d  ", "a bc d"),
        ("T\u2011Mobile", "T-Mobile"),
        ("love it 😀👍🏽 👨\u200d👩\u200d👧 ❤️ ™️", "love it 😀👍🏽 👨\u200d👩\u200d👧 ❤️ ™️"),
        (
            "see https://t.co/AbC?x=1&amp;y=2 @Nimbus_Help #NimbusMobile",
            "see https://t.co/AbC?x=1&y=2 @Nimbus_Help #NimbusMobile",
        ),
        ("", ""),
    ],
)
def test_normalize_cases(raw, expected):
    assert normalize(raw) == expected


def test_handles_hashtags_urls_and_emoji_stay_single_tokens():
    doc = blank_english()(normalize("Hey @NimbusHelp, #nimbusmobile! (#TMobile) https://t.co/x?a=1 😀😀 #1"))
    tokens = [token.text for token in doc]
    for kept in ("@NimbusHelp", "#nimbusmobile", "#TMobile", "https://t.co/x?a=1", "#1"):
        assert kept in tokens
    assert tokens.count("😀") == 2


texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)


@given(texts)
def test_canonical_is_idempotent(text):
    once = canonical(text)
    assert canonical(once) == once


@given(texts)
def test_normalize_output_is_canonical(text):
    once = normalize(text)
    assert canonical(once) == once


@given(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="&\uff06\ufe60"),
        max_size=60,
    )
)
def test_normalize_is_idempotent_without_entities(text):
    once = normalize(text)
    assert normalize(once) == once


@pytest.mark.parametrize("text", ["AT&T &amp; co", "&amp;amp;", "&lt;3 &#x1F600;", "a && b"])
def test_normalize_is_idempotent_once_entities_are_gone(text):
    once = normalize(normalize(text))
    assert normalize(once) == once


def test_parse_texts_normalises_tokenizes_and_shares_docs() -> None:
    from nlp.normalize import parse_texts

    raw = ["Nimbus &amp; Volt ＃5G", "@Titan why?", "Nimbus &amp; Volt ＃5G"]
    first = parse_texts(raw)
    assert [doc.text for doc in first] == [normalize(text) for text in raw]
    assert [token.text for token in first[1]] == ["@Titan", "why", "?"]
    assert first[0] is first[2]  # one parse per distinct text
    assert parse_texts(raw[1:2])[0] is first[1]  # the next annotator over the same range reuses it
