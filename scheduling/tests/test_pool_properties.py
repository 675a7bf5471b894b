"""Property tests of the pool rules (docs/spec.md §17): the sweep agrees with a brute-force count of
the units held at every minute."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling import engine
from scheduling.engine import Busy, ConflictKind

UTC = dt.timezone.utc
MINUTE = dt.timedelta(minutes=1)
BASE = dt.datetime(2027, 1, 4, 8, tzinfo=UTC)
SPAN = 6 * 60  # minutes in which everything happens


@st.composite
def pools(draw):
    capacity = draw(st.integers(1, 6))
    bookings = []
    for i in range(draw(st.integers(0, 12))):
        start = draw(st.integers(0, SPAN - 1))
        end = draw(st.integers(start + 1, min(SPAN, start + 180)))
        bookings.append((i + 1, start, end, draw(st.integers(1, capacity))))
    start = draw(st.integers(0, SPAN - 1))
    end = draw(st.integers(start + 1, SPAN))
    quantity = draw(st.integers(1, capacity))
    before, after = draw(st.sampled_from([0, 0, 10, 30])), draw(st.sampled_from([0, 0, 15]))
    return capacity, bookings, start, end, quantity, engine.Policy(buffer_before=before, buffer_after=after)


def at(minute: int) -> dt.datetime:
    return BASE + minute * MINUTE


def held(bookings, minute: int) -> int:
    """Units held at one minute: the brute force."""
    return sum(q for _, s, e, q in bookings if s <= minute < e)


def busy_of(bookings):
    return [Busy(ConflictKind.BOOKING, pk, at(s), at(e), "confirmed", quantity=q) for pk, s, e, q in bookings]


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(pools())
def test_capacity_conflicts_are_the_minutes_with_too_few_units_free(scenario):
    capacity, bookings, start, end, quantity, _ = scenario
    loads = [(at(s), at(e), q) for _, s, e, q in bookings]
    conflicts = engine.capacity_conflicts(loads, at(start), at(end), capacity=capacity, quantity=quantity)
    # Minute by minute: short exactly where the brute force says, with the free units it counts.
    # (The scenes may overbook, as no write checked them: the free units never go below 0.)
    expected = {m: max(0, capacity - held(bookings, m)) for m in range(start, end) if capacity - held(bookings, m) < quantity}
    found = {}
    for c in conflicts:
        assert c.kind == ConflictKind.CAPACITY and c.id is None
        for m in range((c.start_at - BASE) // MINUTE, (c.end_at - BASE) // MINUTE):
            assert m not in found
            found[m] = c.remaining
    assert found == expected
    # Maximal parts: two neighbours never share a number of free units.
    assert not any(a.end_at == b.start_at and a.remaining == b.remaining for a, b in zip(conflicts, conflicts[1:]))
    minimum = min(capacity - held(bookings, m) for m in range(start, end))
    assert engine.remaining_units(loads, at(start), at(end), capacity) == max(0, minimum)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(pools())
def test_find_conflicts_and_free_intervals_agree_with_the_brute_force_under_buffers(scenario):
    capacity, bookings, start, end, quantity, policy = scenario
    before, after = policy.buffer_before, policy.buffer_after
    # The stored occupied ranges carry the buffers too.
    stored = [(pk, s - before, e + after, q) for pk, s, e, q in bookings]
    busy = [
        Busy(ConflictKind.BOOKING, pk, at(s), at(e), "confirmed", at(s - before), at(e + after), quantity=q) for pk, s, e, q in bookings
    ]

    def fits(s: int, e: int) -> bool:
        return all(held(stored, m) + quantity <= capacity for m in range(s - before, e + after))

    conflicts = engine.find_conflicts(
        start=at(start), end=at(end), active=True, resource_id=1, working=None, busy=busy, policy=policy, capacity=capacity, quantity=quantity
    )
    if capacity == 1:
        # An exclusive resource: today's booking conflicts, one per overlapping booking.
        assert all(c.kind == ConflictKind.BOOKING for c in conflicts)
    else:
        assert all(c.kind == ConflictKind.CAPACITY for c in conflicts)
    assert (not conflicts) == fits(start, end)
    # free_intervals: a minute [m, m+1) is free exactly when one more booking of it fits.
    free = engine.free_intervals(start=at(0), end=at(SPAN), working=None, busy=busy, policy=policy, capacity=capacity, quantity=quantity)
    free_minutes = {m for s, e in free for m in range((s - BASE) // MINUTE, (e - BASE) // MINUTE)}
    assert free_minutes == {m for m in range(SPAN) if fits(m, m + 1)}


def test_a_pool_of_three_reports_each_shortage_once():
    loads = [(at(0), at(120), 2), (at(60), at(180), 1)]
    conflicts = engine.capacity_conflicts(loads, at(0), at(180), capacity=3, quantity=2)
    assert [(c.start_at, c.end_at, c.remaining) for c in conflicts] == [(at(0), at(60), 1), (at(60), at(120), 0)]
    assert engine.remaining_units(loads, at(0), at(180), 3) == 0
    assert engine.remaining_units(loads, at(120), at(180), 3) == 2
