"""chalicelib.names.NameCache: a container's names as last read and its misses, given what it
reads and its clock (no AWS): a pending name is read to find out, then at most once a second;
a read name is kept CACHE_SECONDS; forgetting one makes its next lookup read."""
from __future__ import annotations

from chalicelib import names


def cache_at(now: list[float], stored: dict[str, str], reads: list[str]) -> names.NameCache:
    return names.NameCache(lambda parameter: reads.append(parameter) or stored.get(parameter),
                           clock=lambda: now[0])


def test_a_pending_name_is_read_once_to_find_out_then_at_most_once_a_second():
    """The first miss is remembered MISS_FIRST_SECONDS (an idle pipeline has written the name by
    then), every further one MISS_SECONDS: of the page's asks (templates/js/hello.js: at once, after
    0.1 s, x1.5 each time, at most 1 s) those at 0 and 0.25 s read, then at most one a second."""
    now, stored, reads = [1000.0], {}, []
    cache = cache_at(now, stored, reads)
    asked: list[float] = []
    at, delay = 0.0, 0.1
    while at < 6.0:
        now[0] = 1000.0 + at
        if cache.lookup("name") == (None, True):
            asked.append(round(at, 3))
        at, delay = at + delay, min(1.0, delay * 1.5)
    assert asked == [0.0, 0.25, 1.319, 3.078, 4.078, 5.078]
    assert len(reads) == len(asked)
    assert names.MISS_FIRST_SECONDS < 0.25 and names.MISS_SECONDS == 1.0
    stored["name"] = "Soon"
    assert cache.next_read_in("name") > 0
    cache.forget("name")  # what names.put does in the process that wrote it
    assert cache.next_read_in("name") == 0.0
    assert cache.lookup("name") == ("Soon", True)


def test_a_read_name_is_kept_cache_seconds_then_read_again():
    now, stored, reads = [1000.0], {"name": "Ada"}, []
    cache = cache_at(now, stored, reads)
    assert cache.lookup("name") == ("Ada", True)
    stored["name"] = "Ada Lovelace"  # changed by another container
    now[0] += names.CACHE_SECONDS - 0.1
    assert cache.lookup("name") == ("Ada", False)
    now[0] += 0.1
    assert cache.lookup("name") == ("Ada Lovelace", True)
    assert reads == ["name", "name"]


def test_clear_forgets_every_name_and_miss():
    now, stored, reads = [1000.0], {"a": "Ada"}, []
    cache = cache_at(now, stored, reads)
    cache.lookup("a"), cache.lookup("b")
    cache.clear()
    cache.lookup("a"), cache.lookup("b")
    assert reads == ["a", "b", "a", "b"]
