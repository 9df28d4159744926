"""Stable ids across refits: kept, born, retired, merged and split clusters on crafted 16-dim centroids."""

from __future__ import annotations

import numpy as np
import pytest

from nlp.topics.lineage import Cluster, LineageEvent, Weights, match, similarity_matrix

DIM = 16


def unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def random_unit(rs: np.random.RandomState) -> np.ndarray:
    return unit(rs.normal(size=DIM))


def world(seed: int = 0, k: int = 5, members: int = 100) -> list[Cluster]:
    """``k`` old clusters with stable ids 0..k-1, random centroids, 10 terms and disjoint members each."""
    rs = np.random.RandomState(seed)
    return [
        Cluster(
            id=i,
            centroid=random_unit(rs),
            terms=tuple(f"t{i}_{r}" for r in range(10)),
            members=frozenset(f"p{i}_{m}" for m in range(members)),
            size=members,
        )
        for i in range(k)
    ]


def relabel(clusters: list[Cluster], local_ids: list[int]) -> list[Cluster]:
    """The same clusters under the new run's local ids."""
    return [
        Cluster(local, c.centroid, c.terms, c.members, c.size)
        for c, local in zip(clusters, local_ids, strict=True)
    ]


def by_kind(result) -> dict[str, list[LineageEvent]]:
    kinds: dict[str, list[LineageEvent]] = {}
    for event in result.events:
        kinds.setdefault(event.event, []).append(event)
    return kinds


def test_first_fit_gives_fresh_ids_by_size_then_local_id():
    rs = np.random.RandomState(1)
    new = [Cluster(local, random_unit(rs), size=size) for local, size in [(0, 10), (1, 30), (2, 30), (3, 5)]]
    result = match([], new, next_id=7)
    assert result.ids == {1: 7, 2: 8, 0: 9, 3: 10}
    assert [e.event for e in result.events] == ["born"] * 4
    assert result.next_id == 11


def test_identical_refit_keeps_every_id():
    old = world()
    new = relabel(old, [40, 41, 42, 43, 44])
    result = match(old, new, next_id=5)
    assert result.ids == {40: 0, 41: 1, 42: 2, 43: 3, 44: 4}
    assert {e.event for e in result.events} == {"kept"}
    assert all(e.similarity == pytest.approx(1.0) for e in result.events)
    assert result.next_id == 5


@pytest.mark.parametrize("with_members", [True, False])
def test_perturbed_shuffled_refit_keeps_ids(with_members):
    old = world(k=8)
    rs = np.random.RandomState(2)
    order = rs.permutation(len(old))
    new = []
    for local, i in enumerate(order):
        c = old[i]
        terms = c.terms[:4] + ("changed",) + c.terms[5:]
        members = None
        if with_members:  # 10% of members leave, 10 unseen posts join
            members = frozenset(sorted(c.members)[10:]) | {f"fresh{i}_{m}" for m in range(10)}
        new.append(Cluster(100 + local, unit(c.centroid + rs.normal(scale=0.08, size=DIM)), terms, members))
    if not with_members:
        old = [Cluster(c.id, c.centroid, c.terms) for c in old]
    result = match(old, new, next_id=8)
    assert result.ids == {100 + local: int(i) for local, i in enumerate(order)}
    assert {e.event for e in result.events} == {"kept"}


def test_new_blob_is_born_and_vanished_one_retired():
    old = world(k=4)
    rs = np.random.RandomState(3)
    born = Cluster(9, random_unit(rs), ("brand", "new"), frozenset(f"n{m}" for m in range(50)), 50)
    new = relabel(old[:3], [0, 1, 2]) + [born]  # old id 3 vanishes
    result = match(old, new, next_id=4)
    assert result.ids == {0: 0, 1: 1, 2: 2, 9: 4}
    kinds = by_kind(result)
    assert [(e.topic_id, e.related) for e in kinds["born"]] == [(4, ())]
    assert [(e.topic_id, e.related) for e in kinds["retired"]] == [(3, ())]
    assert kinds["born"][0].similarity < 0.5 and kinds["retired"][0].similarity < 0.5
    assert result.next_id == 5


def test_two_old_clusters_merging_into_one_new():
    old = world(k=4)
    a, b = old[1], old[2]
    merged = Cluster(
        0,
        unit(a.centroid + b.centroid),
        tuple(t for pair in zip(a.terms, b.terms, strict=True) for t in pair),
        a.members | b.members,
    )
    new = [merged] + relabel([old[0], old[3]], [1, 2])
    result = match(old, new, next_id=4)
    survivor = result.ids[0]
    assert survivor in (1, 2)
    gone = 3 - survivor
    kinds = by_kind(result)
    assert [(e.topic_id, e.related) for e in kinds["merged"]] == [(gone, (survivor,))]
    assert sorted(e.topic_id for e in kinds["kept"]) == [0, survivor, 3]
    assert "retired" not in kinds and "born" not in kinds
    assert result.next_id == 4


def test_one_old_cluster_splitting_in_two_the_larger_child_keeps_the_id():
    old = world(k=3)
    parent = old[1]
    rs = np.random.RandomState(4)
    shift = rs.normal(scale=0.35, size=DIM)
    ordered = sorted(parent.members)
    small = Cluster(5, unit(parent.centroid - shift), parent.terms[:6] + ("x", "y"), frozenset(ordered[:40]))
    large = Cluster(6, unit(parent.centroid + shift), parent.terms[:7], frozenset(ordered[40:]))
    new = relabel([old[0], old[2]], [0, 1]) + [small, large]
    result = match(old, new, next_id=3)
    assert result.ids == {0: 0, 1: 2, 6: 1, 5: 3}
    kinds = by_kind(result)
    assert [(e.topic_id, e.related) for e in kinds["split"]] == [(3, (1,))]
    assert "born" not in kinds and "retired" not in kinds and "merged" not in kinds


def test_member_overlap_decides_when_centroids_are_ambiguous():
    rs = np.random.RandomState(5)
    base = random_unit(rs)
    a_dir, b_dir = rs.normal(scale=0.05, size=DIM), rs.normal(scale=0.05, size=DIM)
    a = Cluster(0, unit(base + a_dir), members=frozenset(f"a{m}" for m in range(60)))
    b = Cluster(1, unit(base + b_dir), members=frozenset(f"b{m}" for m in range(60)))
    # each new cluster's centroid sits nearer the *other* old cluster; its members say where it came from
    x = Cluster(0, unit(base + 1.2 * b_dir), members=a.members)
    y = Cluster(1, unit(base + 1.2 * a_dir), members=b.members)
    centroid_only = similarity_matrix([a, b], [x, y], weights=Weights(terms=0, members=0))
    assert centroid_only[0, 1] > centroid_only[0, 0] and centroid_only[1, 0] > centroid_only[1, 1]
    assert match([a, b], [x, y], next_id=2).ids == {0: 0, 1: 1}


def test_member_overlap_counts_only_ids_both_runs_saw():
    a = Cluster(0, np.eye(DIM)[0], members=frozenset(range(100)))
    # the new run sampled posts 50..149: half of a's posts unseen, 50 posts a never saw
    x = Cluster(0, np.eye(DIM)[0], members=frozenset(range(50, 150)))
    members_only = Weights(centroid=0, terms=0, members=1)
    assert similarity_matrix([a], [x], weights=members_only)[0, 0] == pytest.approx(1.0)
    nothing_shared = Cluster(0, np.eye(DIM)[1], members=frozenset(range(500, 600)))
    # no shared id: the member signal is absent, the centroid (orthogonal here) decides alone
    assert similarity_matrix([a], [nothing_shared])[0, 0] == pytest.approx(0.0)


def test_weights_renormalise_over_available_signals():
    rs = np.random.RandomState(6)
    a, b = random_unit(rs), random_unit(rs)
    cosine = max(0.0, float(a @ b))
    bare = similarity_matrix([Cluster(0, a)], [Cluster(0, b)])
    assert bare[0, 0] == pytest.approx(cosine)
    with_terms = similarity_matrix([Cluster(0, a, ("k",))], [Cluster(0, b, ("k",))])
    assert with_terms[0, 0] == pytest.approx((cosine + 1.0) / 2)


def test_a_changed_top_term_costs_more_than_a_changed_tail_term():
    terms = tuple(f"w{r}" for r in range(10))
    old = [Cluster(0, np.eye(DIM)[0], terms)]
    head = [Cluster(0, np.eye(DIM)[0], ("other",) + terms[1:])]
    tail = [Cluster(0, np.eye(DIM)[0], terms[:-1] + ("other",))]
    only_terms = Weights(centroid=0, terms=1, members=0)
    head_score = similarity_matrix(old, head, weights=only_terms)[0, 0]
    tail_score = similarity_matrix(old, tail, weights=only_terms)[0, 0]
    assert 0 < head_score < tail_score < 1


def refit(rs: np.random.RandomState, current: list[Cluster], generation: int) -> tuple[list[Cluster], dict]:
    """The next run's clusters (local ids 0..) and the stable ids of the planted changes: the largest cluster
    splits 60/40 (each child taking half its terms), the next two merge, the smallest vanishes, the rest stay
    (perturbed), and a new blob appears (local id 3)."""
    parent, first, second, *rest, gone = sorted(current, key=lambda c: (-len(c.members), c.id))
    ordered = sorted(parent.members)
    cut = len(ordered) * 3 // 5
    halves = (parent.terms[::2] + (f"g{generation}a",), parent.terms[1::2] + (f"g{generation}b",))
    new = [
        Cluster(
            0, unit(parent.centroid + rs.normal(scale=0.3, size=DIM)), halves[0], frozenset(ordered[:cut])
        ),
        Cluster(
            1, unit(parent.centroid + rs.normal(scale=0.3, size=DIM)), halves[1], frozenset(ordered[cut:])
        ),
        Cluster(
            2,
            unit(first.centroid + second.centroid),
            first.terms + second.terms,
            first.members | second.members,
        ),
        Cluster(3, random_unit(rs), (f"g{generation}",), frozenset(f"g{generation}_{m}" for m in range(80))),
    ]
    for c in rest:
        new.append(Cluster(len(new), unit(c.centroid + rs.normal(scale=0.05, size=DIM)), c.terms, c.members))
    planted = {
        "parent": parent.id,
        "merging": {first.id, second.id},
        "gone": gone.id,
        "stay": [c.id for c in rest],
    }
    return new, planted


def test_ids_are_never_reused_across_three_refits():
    rs = np.random.RandomState(7)
    current = world(k=9)
    next_id = 9
    ever = set(range(9))
    for generation in range(3):
        new, planted = refit(rs, current, generation)
        result = match(current, new, next_id=next_id)
        kinds = by_kind(result)
        # the planted changes are recognised: larger child keeps the parent's id, smaller one is split from it
        assert result.ids[0] == planted["parent"]
        assert [(e.topic_id, e.related) for e in kinds["split"]] == [(result.ids[1], (planted["parent"],))]
        [merged] = kinds["merged"]
        assert {merged.topic_id, result.ids[2]} == planted["merging"] and merged.related == (result.ids[2],)
        assert [e.topic_id for e in kinds["retired"]] == [planted["gone"]]
        assert [e.topic_id for e in kinds["born"]] == [result.ids[3]]
        assert [result.ids[local] for local in range(4, len(new))] == planted["stay"]
        # fresh ids are new, consecutive from next_id, and never an id handed out before
        fresh = {result.ids[1], result.ids[3]}
        assert fresh == set(range(next_id, result.next_id))
        assert not fresh & ever
        ever |= fresh
        next_id = result.next_id
        current = [Cluster(result.ids[c.id], c.centroid, c.terms, c.members, c.size) for c in new]
    assert next_id == 9 + 2 * 3


def test_output_does_not_depend_on_input_order():
    rs = np.random.RandomState(8)
    old = world(k=9)
    new, _ = refit(rs, old, 0)
    expected = match(old, new, next_id=9)
    for seed in range(5):
        shuffle = np.random.RandomState(seed)
        old_shuffled = [old[i] for i in shuffle.permutation(len(old))]
        new_shuffled = [new[i] for i in shuffle.permutation(len(new))]
        assert match(old_shuffled, new_shuffled, next_id=9) == expected


def test_each_old_and_new_id_has_exactly_one_event():
    rs = np.random.RandomState(9)
    old = world(k=9)
    result = match(old, refit(rs, old, 0)[0], next_id=9)
    ids = [e.topic_id for e in result.events]
    assert len(ids) == len(set(ids))
    assert set(ids) == {c.id for c in old} | set(result.ids.values())


@pytest.mark.parametrize(
    ("old", "new", "next_id", "message"),
    [
        ([Cluster(0, np.eye(DIM)[0])], [], 0, "next_id"),
        ([], [Cluster(1, np.eye(DIM)[0]), Cluster(1, np.eye(DIM)[1])], 0, "duplicate new"),
        ([], [Cluster(-1, np.eye(DIM)[0])], 0, "outlier"),
        ([Cluster(0, np.eye(DIM)[0])], [Cluster(0, np.eye(8)[0])], 1, "dimensions"),
        ([], [Cluster(0, np.zeros(DIM))], 0, "zero centroid"),
    ],
)
def test_bad_input_says_what_is_wrong(old, new, next_id, message):
    with pytest.raises(ValueError, match=message):
        match(old, new, next_id=next_id)


def test_threshold_outside_the_unit_interval_is_refused():
    with pytest.raises(ValueError, match="threshold"):
        match([], [Cluster(0, np.eye(DIM)[0])], next_id=0, threshold=0)


def test_the_child_holding_more_of_the_parent_keeps_its_id_when_nothing_else_tells_them_apart():
    parent = Cluster(0, np.eye(DIM)[0], ("a", "b"), frozenset(range(100)))
    small = Cluster(0, np.eye(DIM)[0], ("a", "b"), frozenset(range(30)))
    large = Cluster(1, np.eye(DIM)[0], ("a", "b"), frozenset(range(30, 100)))
    result = match([parent], [small, large], next_id=1)
    assert result.ids == {1: 0, 0: 1}
    assert by_kind(result)["split"] == [LineageEvent("split", 1, (0,), pytest.approx(1.0))]


def test_a_merged_cluster_goes_to_the_new_cluster_holding_most_of_it():
    a, b, c = world(k=3)
    ordered = sorted(c.members)  # c's posts go 60/40 to the new clusters that keep a's and b's ids
    x = Cluster(
        0, unit(a.centroid + 0.7 * c.centroid), a.terms[:6] + c.terms[:4], a.members | set(ordered[:60])
    )
    y = Cluster(
        1, unit(b.centroid + 0.5 * c.centroid), b.terms[:7] + c.terms[:3], b.members | set(ordered[60:])
    )
    link = similarity_matrix([c], [x, y], overlap="containment")[0]
    assert link[0] > link[1] > 0.25
    result = match([a, b, c], [x, y], next_id=3, threshold=0.25)
    assert result.ids == {0: 0, 1: 1}
    assert [(e.event, e.related) for e in result.events if e.topic_id == 2] == [("merged", (0,))]


def test_a_split_child_drawn_from_two_kept_clusters_names_the_one_it_holds_most_of():
    a, b = world(k=2)
    sa, sb = sorted(a.members), sorted(b.members)
    x = Cluster(0, a.centroid, a.terms, frozenset(sa[:90]))
    y = Cluster(1, b.centroid, b.terms, frozenset(sb[:90]))
    z = Cluster(2, unit(7 * a.centroid + 8 * b.centroid), (), frozenset(sa[90:97] + sb[90:98]))
    result = match([a, b], [x, y, z], next_id=2)
    assert result.ids == {0: 0, 1: 1, 2: 2}
    assert by_kind(result)["split"][0].related == (1,)
