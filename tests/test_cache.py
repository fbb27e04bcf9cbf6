"""The entity cache's bookkeeping for a background fill: a fill that began before a
command changed a kind stores nothing; reads do not count as changes."""

from __future__ import annotations

from imptsh.cache import EntityCache

A = {"type": "product", "id": "a", "attributes": {"name": "A"}}
B = {"type": "product", "id": "b", "attributes": {"name": "B"}}


def test_a_fill_that_began_before_a_deletion_stores_nothing() -> None:
    cache = EntityCache()
    cache.store("product", [A, B], complete=True)
    began = cache.changes("product")
    cache.forget("product", "b")  # a command deleted B while the fill was listing
    assert not cache.store("product", [A, B], complete=True, unless_changed_since=began)
    assert cache.get("product", "b") is None and not cache.is_complete("product")


def test_a_fill_that_began_before_a_creation_stores_nothing() -> None:
    cache = EntityCache()
    began = cache.changes("product")
    cache.put("product", B)
    cache.invalidate("product")  # what a create does
    assert not cache.store("product", [A], complete=True, unless_changed_since=began)
    assert cache.get("product", "b") == B


def test_reads_meanwhile_do_not_stop_a_fill() -> None:
    cache = EntityCache()
    began = cache.changes("product")
    generation = cache.generation("product")
    cache.put("product", A)  # a command's GET
    assert cache.generation("product") != generation  # the index follows it
    assert cache.store("product", [A, B], complete=True, summary=True, unless_changed_since=began)
    assert cache.is_complete("product") and cache.is_summary("product", "b")
    cache.put("product", B)
    assert not cache.is_summary("product", "b")
