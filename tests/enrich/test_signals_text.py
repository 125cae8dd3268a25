"""Near-identical texts by MinHash candidates and an exact Jaccard check (pure)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.signals import fold
from indexer.signals_text import MIN_JACCARD, jaccard, near_groups, shingles

BASE = fold("Hoi lieverd ik ben Lisa een lieve en zachte meid uit de buurt bij mij kun je helemaal "
            "ontspannen in een schone en discrete kamer ik neem de tijd voor je en hou van een goed "
            "gesprek bel of app mij voor een afspraak ik ontvang je graag in Utrecht")
OTHER = fold("Massage salon in het centrum met drie ervaren masseuses en een sauna open van maandag "
             "tot zaterdag parkeren voor de deur reserveren via de website of telefonisch")


def test_one_word_changed_is_near_identical_and_a_different_text_is_not() -> None:
    changed = BASE.replace("lisa", "mira")
    assert jaccard(shingles(BASE), shingles(changed)) >= MIN_JACCARD
    assert near_groups([BASE, changed, OTHER]) == [{BASE, changed}]


def test_groups_are_transitive_and_short_texts_are_ignored() -> None:
    b = BASE.replace("lisa", "mira")
    c = b.replace("utrecht", "breda")
    assert near_groups([BASE, c, b]) == [{BASE, b, c}]
    assert near_groups(["kort", "twee woorden"]) == []


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(alphabet="abcdef ", min_size=0, max_size=80), max_size=12))
def test_every_reported_group_is_truly_similar(texts: list[str]) -> None:
    """No false positives: candidates from MinHash are always checked exactly."""
    folded = [fold(t) for t in texts]
    for group in near_groups(folded):
        members = sorted(group)
        # each member is similar to at least one other (transitive closure of checked pairs)
        for m in members:
            assert any(jaccard(shingles(m), shingles(o)) >= MIN_JACCARD for o in members if o != m)
