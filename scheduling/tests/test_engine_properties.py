"""Property tests: the engine agrees with a brute-force, minute-by-minute reading of the rules.

The brute force states the rule of docs/spec.md §2.2 directly: a UTC minute is working time when the
resource's wall clock at that minute shows a time inside a window of that local date's weekday.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling import engine
from scheduling.engine import MIDNIGHT, Busy, WorkingWindow

UTC = dt.timezone.utc
MINUTE = dt.timedelta(minutes=1)
ZONES = ["UTC", "Europe/Warsaw", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "America/St_Johns"]
# Days around DST changes, and an ordinary one.
BASE_DAYS = [
    dt.datetime(2026, 3, 28, tzinfo=UTC),
    dt.datetime(2026, 10, 24, tzinfo=UTC),
    dt.datetime(2026, 3, 7, tzinfo=UTC),
    dt.datetime(2026, 10, 31, tzinfo=UTC),
    dt.datetime(2026, 4, 4, tzinfo=UTC),
    dt.datetime(2026, 10, 3, tzinfo=UTC),
    dt.datetime(2026, 6, 15, tzinfo=UTC),
]

# Wall-clock times around the hours that DST skips or repeats come up often, the rest at random.
DST_EDGES = [dt.time(h, m) for h in (0, 1, 2, 3) for m in (0, 30)]
times = st.one_of(st.sampled_from(DST_EDGES), st.integers(0, 24 * 4 - 1).map(lambda q: dt.time(q // 4, q % 4 * 15)))
# DST changes happen on Sundays in these zones.
weekdays = st.one_of(st.just(6), st.integers(0, 6))


@st.composite
def windows(draw):
    start = draw(times)
    # end_time 00:00 means midnight; otherwise strictly after start.
    later = [t for t in (dt.time(q // 4, q % 4 * 15) for q in range(24 * 4)) if t > start]
    end = draw(st.one_of(st.sampled_from([t for t in DST_EDGES if t > start] + [MIDNIGHT]), st.sampled_from(later + [MIDNIGHT])))
    return WorkingWindow(draw(weekdays), start, end)


@st.composite
def scenarios(draw):
    zone = draw(st.sampled_from(ZONES))
    rows = draw(st.lists(windows(), max_size=5))
    base = draw(st.sampled_from(BASE_DAYS))
    start = base + draw(st.integers(0, 2 * 24 * 60)) * MINUTE
    end = start + draw(st.integers(1, 36 * 60)) * MINUTE
    busy = [
        Busy("booking", i, s, s + draw(st.integers(1, 600)) * MINUTE)
        for i, s in enumerate(base + draw(st.integers(0, 4 * 24 * 60)) * MINUTE for _ in range(draw(st.integers(0, 3))))
    ]
    return zone, rows, start, end, busy


def brute_working(zone_name, rows, minute):
    if not rows:
        return True
    wall = minute.astimezone(ZoneInfo(zone_name))
    t = wall.time().replace(tzinfo=None)
    return any(
        row.weekday == wall.weekday() and row.start_time <= t and (row.end_time == MIDNIGHT or t < row.end_time)
        for row in rows
    )


def minutes(start, end):
    t = start
    while t < end:
        yield t
        t += MINUTE


def covered(intervals, minute):
    return any(s <= minute < e for s, e in intervals)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_working_intervals_equal_the_brute_force(scenario):
    zone, rows, start, end, _ = scenario
    working = engine.working_intervals(rows, zone, start, end)
    for minute in minutes(start, end):
        expected = brute_working(zone, rows, minute)
        actual = True if working is None else covered(working, minute)
        assert actual == expected, (zone, rows, minute)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_conflicts_equal_the_brute_force(scenario):
    zone, rows, start, end, busy = scenario
    working = engine.working_intervals(rows, zone, start, end)
    conflicts = engine.find_conflicts(start=start, end=end, active=True, resource_id=1, working=working, busy=busy)
    outside = [(c.start_at, c.end_at) for c in conflicts if c.kind == "outside_availability"]
    clashing = {c.id for c in conflicts if c.kind == "booking"}
    expected_clashing = {b.id for b in busy if any(b.start_at <= m < b.end_at for m in minutes(start, end))}
    assert clashing == expected_clashing
    for minute in minutes(start, end):
        assert covered(outside, minute) == (not brute_working(zone, rows, minute))
    assert (not conflicts) == all(
        brute_working(zone, rows, m) and not any(b.start_at <= m < b.end_at for b in busy) for m in minutes(start, end)
    )


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(scenarios(), st.integers(15, 180), st.integers(15, 120))
def test_slots_equal_the_brute_force(scenario, duration_minutes, step_minutes):
    zone, rows, start, end, busy = scenario
    duration, step = duration_minutes * MINUTE, step_minutes * MINUTE
    working = engine.working_intervals(rows, zone, start, end)
    free = engine.free_intervals(start=start, end=end, working=working, busy=busy)
    slots = list(engine.slot_starts(start=start, end=end, duration=duration, step=step, free=free))

    free_minutes = {m for m in minutes(start, end) if brute_working(zone, rows, m) and not any(b.start_at <= m < b.end_at for b in busy)}
    expected = []
    t = start
    while t + duration <= end:
        if all(m in free_minutes for m in minutes(t, t + duration)):
            expected.append(t)
        t += step
    assert slots == expected


@pytest.mark.parametrize(
    ("row", "day", "expected"),
    [
        # Warsaw skips 02:00-03:00 on 2026-03-29 and repeats it on 2026-10-25.
        (WorkingWindow(6, dt.time(2), dt.time(3)), dt.datetime(2026, 3, 28, tzinfo=UTC), dt.timedelta(0)),
        (WorkingWindow(6, dt.time(1), dt.time(2, 30)), dt.datetime(2026, 3, 28, tzinfo=UTC), dt.timedelta(hours=1)),
        (WorkingWindow(6, dt.time(2), dt.time(2, 30)), dt.datetime(2026, 10, 24, tzinfo=UTC), dt.timedelta(hours=1)),
        (WorkingWindow(6, dt.time(1), dt.time(4)), dt.datetime(2026, 10, 24, tzinfo=UTC), dt.timedelta(hours=4)),
    ],
)
def test_windows_touching_the_skipped_or_repeated_hour(row, day, expected):
    working = engine.working_intervals([row], "Europe/Warsaw", day, day + dt.timedelta(days=3))
    assert engine.total(working) == expected


def test_a_whole_day_row_lasts_23_hours_on_spring_forward_and_25_on_fall_back():
    rows = [WorkingWindow(6, MIDNIGHT, MIDNIGHT)]
    spring = engine.working_intervals(rows, "Europe/Warsaw", dt.datetime(2026, 3, 28, tzinfo=UTC), dt.datetime(2026, 3, 31, tzinfo=UTC))
    fall = engine.working_intervals(rows, "Europe/Warsaw", dt.datetime(2026, 10, 24, tzinfo=UTC), dt.datetime(2026, 10, 27, tzinfo=UTC))
    assert engine.total(spring) == dt.timedelta(hours=23)
    assert engine.total(fall) == dt.timedelta(hours=25)


def test_merge_joins_touching_intervals_and_subtract_leaves_the_gaps():
    a = dt.datetime(2026, 1, 1, tzinfo=UTC)
    h = dt.timedelta(hours=1)
    assert engine.merge([(a + 2 * h, a + 3 * h), (a, a + h), (a + h, a + 2 * h)]) == [(a, a + 3 * h)]
    assert engine.subtract((a, a + 5 * h), [(a + h, a + 2 * h), (a + 3 * h, a + 4 * h)]) == [(a, a + h), (a + 2 * h, a + 3 * h), (a + 4 * h, a + 5 * h)]
    assert engine.intersect([(a, a + 3 * h)], [(a + h, a + 5 * h)]) == [(a + h, a + 3 * h)]


# --- Policies (docs/spec.md §13): the same brute force, with buffers, durations, grid, notice, horizon.


@st.composite
def policies(draw):
    low = draw(st.one_of(st.none(), st.integers(1, 120)))
    high = draw(st.one_of(st.none(), st.integers(low or 1, 240)))
    return engine.Policy(
        buffer_before=draw(st.sampled_from([0, 0, 5, 15, 60])),
        buffer_after=draw(st.sampled_from([0, 0, 10, 30])),
        min_notice=draw(st.one_of(st.none(), st.integers(1, 48 * 60))),
        max_horizon=draw(st.one_of(st.none(), st.integers(1, 3))),
        min_duration=low,
        max_duration=high,
        granularity=draw(st.sampled_from([None, 15, 30, 45, 60, 90])),
    )


@st.composite
def buffered_busy(draw, start, end):
    """Bookings near [start, end), each with the buffers it was written with."""
    busy = []
    for i in range(draw(st.integers(1, 4))):
        s = start + draw(st.integers(-6 * 60, int((end - start) / MINUTE))) * MINUTE
        e = s + draw(st.integers(1, 180)) * MINUTE
        busy.append(Busy("booking", i, s, e, None, s - draw(st.sampled_from([0, 5, 30])) * MINUTE, e + draw(st.sampled_from([0, 10, 30])) * MINUTE))
    return busy


def brute_on_grid(zone_name, instant, granularity):
    wall = instant.astimezone(ZoneInfo(zone_name))
    return (wall.hour * 60 + wall.minute) % granularity == 0 and wall.second == 0


def brute_occupied_clash(busy, start, end, policy):
    """The booking ids whose occupied minutes meet the minutes [start − before, end + after)."""
    before, after = policy.buffer_before * MINUTE, policy.buffer_after * MINUTE
    return {b.id for b in busy if any(b.occupied[0] <= m < b.occupied[1] for m in minutes(start - before, end + after))}


def brute_rules(zone, start, end, policy, now):
    broken = []
    if policy.min_notice and (start - now) < policy.min_notice * MINUTE:
        broken.append("min_notice")
    if policy.max_horizon and (start - now) > dt.timedelta(days=policy.max_horizon):
        broken.append("max_horizon")
    if policy.min_duration and (end - start) < policy.min_duration * MINUTE:
        broken.append("min_duration")
    if policy.max_duration and (end - start) > policy.max_duration * MINUTE:
        broken.append("max_duration")
    if policy.granularity and not (brute_on_grid(zone, start, policy.granularity) and brute_on_grid(zone, end, policy.granularity)):
        broken.append("granularity")
    return broken


@settings(max_examples=120, deadline=None)
@given(st.data(), scenarios(), policies(), st.integers(-48 * 60, 0))
def test_conflicts_with_policies_equal_the_brute_force(data, scenario, policy, now_offset):
    zone, rows, start, end, _ = scenario
    busy = data.draw(buffered_busy(start, end))
    now = start + now_offset * MINUTE
    working = engine.working_intervals(rows, zone, start, end)
    conflicts = engine.find_conflicts(start=start, end=end, active=True, resource_id=1, working=working, busy=busy, policy=policy)
    conflicts += engine.policy_conflicts(start=start, end=end, policy=policy, zone_name=zone, now=now)
    assert {c.id for c in conflicts if c.kind == "booking"} == brute_occupied_clash(busy, start, end, policy)
    assert [c.rule for c in conflicts if c.kind == "policy"] == brute_rules(zone, start, end, policy, now)


@settings(max_examples=80, deadline=None)
@given(st.data(), scenarios(), policies(), st.integers(15, 180), st.sampled_from([15, 30, 45]), st.integers(-36 * 60, 0))
def test_slots_with_policies_equal_the_brute_force(data, scenario, policy, duration_minutes, step_minutes, now_offset):
    zone, rows, start, end, _ = scenario
    busy = data.draw(buffered_busy(start, end))
    # Slot windows start on the quarter hour, as the API's grid from a whole-minute start would.
    start = start.replace(minute=start.minute - start.minute % 15)
    now = start + now_offset * MINUTE
    duration, step = duration_minutes * MINUTE, step_minutes * MINUTE
    working = engine.working_intervals(rows, zone, start, end)
    free = engine.free_intervals(start=start, end=end, working=working, busy=busy, policy=policy)
    slots = list(engine.policy_slot_starts(start=start, end=end, duration=duration, step=step, free=free, policy=policy, zone_name=zone, now=now))

    expected = []
    t = start
    while t + duration <= end:
        open_time = all(brute_working(zone, rows, m) for m in minutes(t, t + duration))
        if open_time and not brute_occupied_clash(busy, t, t + duration, policy) and not brute_rules(zone, t, t + duration, policy, now):
            expected.append(t)
        t += step
    assert slots == expected
