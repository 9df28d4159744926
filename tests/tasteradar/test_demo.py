"""The demo world: deterministic, with the structure later benchmarks rely on, written through the store."""

from __future__ import annotations

import csv
import html
import json
import re
import sqlite3
import tomllib
from collections import Counter, defaultdict

import pytest

from collectors import reddit as reddit_mapping
from collectors import x as x_mapping
from tasteradar.demo import GENERATOR_VERSION, build_demo, demo_is_current, generate_world
from tasteradar.demo.world import BROAD_SEGMENTS, NEED_BY_ID, SEGMENT_BY_ID

SEED, POSTS = 11, 3_000  # the same world as the suite's ``small_demo`` fixture
POST_COLUMNS = "id, platform, native_id, author_id, author_handle, text, created_at, url, lang, reply_to, " \
    "conversation_id, metrics, raw, query, collected_at"  # fmt: skip


@pytest.fixture(scope="module")
def world():
    return generate_world(SEED, POSTS)


@pytest.fixture(scope="module")
def truth(world):
    return world.truth


def daily(truth, keep) -> Counter:
    return Counter(label["day"] for label in truth["posts"].values() if keep(label))


# ---- determinism -------------------------------------------------------------------------------------------


def test_same_seed_same_world_and_another_seed_another(world):
    again = generate_world(SEED, POSTS)
    assert json.dumps(again.truth, sort_keys=True) == json.dumps(world.truth, sort_keys=True)
    assert [(p.id, p.text, p.created_at) for p in again.posts] == [
        (p.id, p.text, p.created_at) for p in world.posts
    ]
    assert again.payloads == world.payloads and again.config_text == world.config_text
    other = generate_world(SEED + 1, POSTS)
    assert {p.text for p in other.posts} != {p.text for p in world.posts}
    assert other.truth["customers"] != world.truth["customers"]


def test_sizes_follow_the_requested_post_count(world, truth):
    meta = truth["meta"]
    assert len(world.posts) == meta["posts"] == POSTS
    assert meta["customers"] == len(world.customers) == 450
    assert meta["authors"] == len(world.authors) == 900
    assert meta["generator_version"] == GENERATOR_VERSION and meta["seed"] == SEED


# ---- segments, customers and consent -----------------------------------------------------------------------


def test_micro_segments_sit_inside_broad_segments(truth):
    broad = {name for name, _ in BROAD_SEGMENTS}
    segments = truth["definitions"]["micro_segments"]
    assert 8 <= len(segments) <= 12
    assert all(seg["broad_segment"] in broad and 1 <= len(seg["needs"]) <= 3 for seg in segments)
    assert {seg["broad_segment"] for seg in segments} == broad
    for customer in truth["customers"].values():
        assert SEGMENT_BY_ID[customer["micro_segment"]].broad_segment == customer["broad_segment"]
    counts = Counter(c["micro_segment"] for c in truth["customers"].values())
    assert set(counts) == {seg["id"] for seg in segments}
    assert all(0.03 <= n / len(truth["customers"]) <= 0.25 for n in counts.values())


def test_consent_opt_in_share_and_handles_without_consent(world, truth):
    customers = truth["customers"].values()
    opted = [c for c in customers if c["consent"]]
    without = [c for c in customers if c["has_handle"] and not c["consent"]]
    assert 0.37 <= len(opted) / len(truth["customers"]) <= 0.43
    assert len(without) >= 3
    handles = {(h.customer_id, h.platform): h for h in world.handles}
    assert sum(h.consent for h in world.handles) == len(opted)
    assert all(
        h.synthetic and h.handle == h.handle.lower() and not h.handle.startswith("@") for h in world.handles
    )
    posters = Counter(label["customer_id"] for label in truth["posts"].values() if label["customer_id"])
    for customer_id, customer in truth["customers"].items():
        if not customer["has_handle"]:
            assert customer_id not in posters  # customers without a handle never appear as authors
            continue
        assert posters[customer_id] >= 2
        handle = handles[(customer_id, customer["platform"])]
        assert handle.handle == customer["handle"].lower()
        assert truth["authors"][customer["author"]]["handle"] == customer["handle"]


def test_customer_posts_mostly_voice_their_own_micro_segment(truth):
    own = total = 0
    for label in truth["posts"].values():
        if label["customer_id"] and label["need"] and not label["trend"] and label["lang"] == "en":
            total += 1
            own += label["need"] in SEGMENT_BY_ID[label["micro_segment"]].needs
    assert total > 100 and own / total >= 0.6


def test_churn_rate_and_churners_voice_intent(truth):
    customers = truth["customers"]
    rate = sum(c["churn"] for c in customers.values()) / len(customers)
    assert 0.20 <= rate <= 0.27
    intent = defaultdict(int)
    for label in truth["posts"].values():
        if label["customer_id"] and label["intent"] != "none":
            intent[label["customer_id"]] += 1
    posting = [cid for cid, c in customers.items() if c["consent"]]
    churners = [cid for cid in posting if customers[cid]["churn"]]
    stayers = [cid for cid in posting if not customers[cid]["churn"]]
    churner_share = sum(intent[cid] > 0 for cid in churners) / len(churners)
    stayer_share = sum(intent[cid] > 0 for cid in stayers) / len(stayers)
    assert churner_share >= 0.7 and stayer_share > 0.0 and churner_share >= 3 * stayer_share


# ---- trend, price change, needs, intents -------------------------------------------------------------------


def test_trend_ramps_up_over_the_last_three_weeks(truth):
    trend = truth["meta"]["trend"]
    start = trend["start_day"]
    counts = daily(truth, lambda label: label["trend"])
    before = sum(counts[d] for d in range(start)) / start
    window = [counts[d] for d in range(start, start + trend["days"])]
    assert trend["days"] == 21 and sum(window) > 30
    assert sum(window) / len(window) >= 5 * max(before, 0.05)
    assert sum(window[-7:]) > 2 * sum(window[:7])


def test_switching_to_the_planted_competitor_rises_after_the_price_change(truth):
    change = truth["meta"]["price_change"]
    day, target = change["day"], change["switch_target"]
    volt = daily(truth, lambda label: label["intent"] == "switch" and label["to_brand"] == target)
    before = sum(volt[d] for d in range(day)) / day
    after = sum(volt[d] for d in range(day, truth["meta"]["days"])) / (truth["meta"]["days"] - day)
    assert after >= 3 * before
    late = Counter(
        label["to_brand"]
        for label in truth["posts"].values()
        if label["day"] >= day and label["intent"] == "switch" and label["to_brand"] != "Nimbus Mobile"
    )
    assert late.most_common(1)[0][0] == target


def test_needs_are_defined_and_their_phrases_are_in_the_text(world, truth):
    needs = Counter()
    for post in world.posts:
        label = truth["posts"][post.id]
        text = html.unescape(post.text)
        if label["need"]:
            assert label["need"] in NEED_BY_ID
            needs[label["need"]] += 1
            if label["need_phrase"]:
                assert label["need_phrase"] in text
        for brand, surface in label["mentions"]:
            assert surface in text and brand in label["brands"]
        assert set(label["brand_sentiment"]) == set(label["brands"])
    assert len(needs) >= 15 and min(needs.values()) >= 3


def test_brand_sentiment_splits_when_leaving_one_brand_for_another(truth):
    split = [label for label in truth["posts"].values()
             if label["intent"] == "switch" and label["brand_sentiment"].get(label["from_brand"]) == "neg"
             and label["brand_sentiment"].get(label["to_brand"]) == "pos"]  # fmt: skip
    assert len(split) >= 10
    gaps = [label for label in truth["posts"].values() if label["need"] and len(label["brand_sentiment"]) == 2
            and "pos" in label["brand_sentiment"].values()]  # fmt: skip
    assert len(gaps) >= 20  # competitor praised for what the brand lacks


# ---- noise -------------------------------------------------------------------------------------------------


def test_texts_are_unique_except_planted_duplicates_and_retweets(world, truth):
    planted = {pid for pid, label in truth["posts"].items() if label["duplicate_of"] or label["retweet_of"]}
    originals = Counter(post.text for post in world.posts if post.id not in planted)
    assert [text for text, n in originals.items() if n > 1] == []
    by_id = {post.id: post for post in world.posts}
    copies = [pid for pid, label in truth["posts"].items() if label["duplicate_of"]]
    assert len(copies) >= 10
    for pid in copies:
        assert by_id[pid].text == by_id[truth["posts"][pid]["duplicate_of"]].text
    retweets = [pid for pid, label in truth["posts"].items() if label["retweet_of"]]
    assert len(retweets) >= 50
    for pid in retweets:
        raw = by_id[pid].raw["data"]
        assert by_id[pid].text.startswith("RT @") and raw["referenced_tweets"][0]["type"] == "retweeted"


def test_feed_noise_is_present(world, truth):
    labels = truth["posts"]
    texts = [post.text for post in world.posts]
    share = Counter(label["lang"] for label in labels.values())
    assert 0.01 <= 1 - share["en"] / len(labels) <= 0.08 and len(share) >= 4
    assert sum(label["is_spam"] for label in labels.values()) >= 20
    assert all(labels[pid]["sentiment"] == "neg" for pid, label in labels.items() if label["sarcasm"]
               and label["topic"] not in ("copypasta",))  # fmt: skip
    assert sum(label["sarcasm"] for label in labels.values()) >= 20
    assert {labels[pid]["sentiment"] for pid, label in labels.items() if label["negation"]} == {"pos", "neg"}
    assert sum("&amp;" in text for text in texts) >= 5
    assert sum("https://" in text for text in texts) >= 30
    assert sum(bool(re.search(r"\b(ngl|tbh|smh|fr|lol)\b", text)) for text in texts) >= 100
    assert sum(bool(re.search("[\U0001f300-\U0001faff]", text)) for text in texts) >= 300
    forms = {
        surface
        for label in labels.values()
        for brand, surface in label["mentions"]
        if brand == "Nimbus Mobile"
    }
    assert {"Nimbus", "@NimbusMobile", "#nimbusmobile"} <= forms and len(forms) >= 8


def test_wording_is_combinatorial_not_a_few_templates(world):
    openings = Counter(" ".join(post.text.split()[:4]) for post in world.posts)
    assert len(openings) >= 0.8 * len(world.posts) * 0.8
    assert openings.most_common(1)[0][1] < 0.02 * len(world.posts)


# ---- payloads and mapping ----------------------------------------------------------------------------------


def test_ids_have_their_platform_forms(world):
    for post in world.posts:
        if post.platform == "x":
            assert re.fullmatch(r"[0-9]{19}", post.native_id)
            assert post.author_id.isdigit()
        else:
            assert re.fullmatch(r"t[13]_[0-9a-z]{7}", post.native_id)
            assert re.fullmatch(r"[0-9a-z]+", post.author_id)
    assert len({post.id for post in world.posts}) == len(world.posts)
    assert {p.platform for p in world.posts} == {"x", "reddit"}


def test_every_post_maps_through_to_post_and_keeps_its_payload(world, truth):
    mappers = {"x": x_mapping.to_post, "reddit": reddit_mapping.to_post}
    kinds = Counter()
    for (platform, raw), post in zip(world.payloads, world.posts, strict=True):
        again = mappers[platform](raw, query=post.query)
        mapped = (again.id, again.text, again.created_at, again.reply_to)
        assert mapped == (post.id, post.text, post.created_at, post.reply_to)
        assert post.raw is raw and post.query
        if platform == "x":
            kinds["note"] += "note_tweet" in raw["data"]
            kinds["reply"] += post.reply_to is not None
            assert raw["includes"]["users"][0]["id"] == raw["data"]["author_id"]
        else:
            kinds[raw["kind"]] += 1
        label = truth["posts"][post.id]
        if platform == "x" and label["lang"] != "en":
            assert post.lang == label["lang"]
    assert kinds["note"] >= 5 and kinds["reply"] >= 20 and kinds["t3"] >= 100 and kinds["t1"] >= 300


def test_reddit_threads_point_at_earlier_posts(world):
    by_id = {post.id: post for post in world.posts}
    for post in world.posts:
        if post.platform == "reddit" and post.reply_to:
            parent = by_id[post.reply_to]
            assert parent.created_at <= post.created_at
            assert post.conversation_id in by_id
            assert post.raw["data"]["subreddit"] == by_id[post.conversation_id].raw["data"]["subreddit"]


# ---- on disk -----------------------------------------------------------------------------------------------


def test_build_writes_database_truth_config_and_csvs(small_demo):
    folder = small_demo.db_path.parent
    assert small_demo.posts == POSTS and small_demo.micro_segments == len(SEGMENT_BY_ID)
    assert (
        small_demo.config_path == folder / "tasteradar.toml"
        and small_demo.truth_path == folder / "truth.json"
    )
    config = tomllib.loads(small_demo.config_path.read_text(encoding="utf-8"))
    assert config["database"]["path"] == small_demo.db_path.name
    assert config["brand"]["name"] == "Nimbus Mobile" and len(config["competitors"]) >= 3
    assert any(c.get("host_network") for c in config["competitors"])
    assert small_demo.config_path.read_text(encoding="utf-8").startswith("# Generated by `tasteradar demo`")
    truth = json.loads(small_demo.truth_path.read_text(encoding="utf-8"))
    with sqlite3.connect(small_demo.db_path) as conn:
        ids = {row[0] for row in conn.execute("SELECT id FROM posts")}
        assert ids == set(truth["posts"])
        assert conn.execute("SELECT count(*) FROM authors").fetchone()[0] == small_demo.authors
        assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] == small_demo.customers
        consented = conn.execute("SELECT count(*) FROM customer_handles WHERE consent = 1").fetchone()[0]
        assert consented == small_demo.opted_in
    rows = list(csv.DictReader((folder / "crm.csv").open(encoding="utf-8")))
    assert len(rows) == small_demo.customers and rows[0]["customer_id"].startswith("NM-")
    assert any(value == "" for row in rows for value in row.values())  # realistic blank cells
    assert all(re.fullmatch(r"\d+\.\d{2}", row["monthly_charge"]) for row in rows)
    handles = list(csv.DictReader((folder / "handles.csv").open(encoding="utf-8")))
    assert len(handles) == small_demo.opted_in + small_demo.no_consent_handles
    assert {row["consent"] for row in handles} == {"yes", "no"}


def test_demo_config_loads_with_the_project_loader(small_demo):
    from tasteradar.config import load_config

    config = load_config(small_demo.config_path)
    assert config.database.path == small_demo.db_path
    assert config.brand.name == "Nimbus Mobile"


def test_demo_is_current_only_for_the_same_seed_size_and_version(small_demo):
    assert demo_is_current(small_demo.db_path, seed=SEED, posts=POSTS)
    assert not demo_is_current(small_demo.db_path, seed=SEED + 1, posts=POSTS)
    assert not demo_is_current(small_demo.db_path, seed=SEED, posts=POSTS + 1)
    assert not demo_is_current(small_demo.db_path.with_name("elsewhere.db"), seed=SEED, posts=POSTS)


def test_rebuild_on_the_same_path_is_deterministic(tmp_path):
    db = tmp_path / "demo" / "tasteradar.db"
    steps = []
    first = build_demo(
        db, seed=3, posts=1_000, progress=lambda step, done, total: steps.append((step, done, total))
    )
    truth_bytes = first.truth_path.read_bytes()
    rows = _post_rows(db)
    (db.parent / "crm.csv").write_text("stale", encoding="utf-8")
    second = build_demo(db, seed=3, posts=1_000)
    assert second.truth_path.read_bytes() == truth_bytes
    assert _post_rows(db) == rows
    assert (db.parent / "crm.csv").read_text(encoding="utf-8").startswith("customer_id,")
    assert steps and all(
        isinstance(s, str) and isinstance(d, int) and isinstance(t, int) for s, d, t in steps
    )


def _post_rows(db) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT {POST_COLUMNS} FROM posts ORDER BY id").fetchall()


def test_default_size_has_the_documented_counts(tmp_path):
    summary = build_demo(tmp_path / "tasteradar.db")
    assert summary.posts == 20_000 and summary.authors == 6_000 and summary.customers == 3_000
    assert summary.opted_in == 1_200 and 30 <= summary.no_consent_handles <= 60
