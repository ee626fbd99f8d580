"""Every worked case of SLA_SPEC §9, one test each, through the pure engine."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sla.calendar import BusinessCalendar, CalendarSpecError
from sla.engine import Event, Policy, Rule, Target, compute, select_policy

NY_TZ, LDN_TZ = ZoneInfo("America/New_York"), ZoneInfo("Europe/London")
WEEKDAYS_9_17 = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)]
NY = BusinessCalendar(timezone="America/New_York", hours=WEEKDAYS_9_17, holiday_country="US")
LDN = BusinessCalendar(timezone="Europe/London", hours=WEEKDAYS_9_17, holiday_country="GB")
NY_SPLIT = BusinessCalendar(
    timezone="America/New_York",
    hours=[
        {"weekday": d, "start": s, "end": e}
        for d in range(5)
        for s, e in (("09:00", "12:00"), ("13:00", "17:00"))
    ],
    holiday_country="US",
)
NIGHT_HOURS = [{"weekday": d, "start": "22:00", "end": "06:00"} for d in range(7)]
MIN = 60


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def policy(calendar, *targets, warn=75, pause_on=("pending", "on_hold")) -> Policy:
    """targets: (metric, minutes) for priority normal, or (priority, metric, minutes[, biz])."""
    built = []
    for target in targets:
        if len(target) == 2:
            built.append(Target("normal", target[0], target[1]))
        else:
            built.append(Target(*target))
    return Policy(targets=tuple(built), calendar=calendar, warn_at_percent=warn, pause_on=pause_on)


def created(when: str, priority: str = "normal") -> Event:
    return Event("created", at(when), priority=priority)


def reply(when: str) -> Event:
    return Event("agent_reply", at(when))


def cust(when: str) -> Event:
    return Event("customer_reply", at(when))


def status(when: str, value: str) -> Event:
    return Event("status_changed", at(when), status=value)


def priority(when: str, value: str) -> Event:
    return Event("priority_changed", at(when), priority=value)


def timers(result, metric="first_reply"):
    return [t for t in result.timers if t.metric == metric]


def only(result, metric="first_reply"):
    (timer,) = timers(result, metric)
    return timer


def test_case_01_reply_within_business_hours():
    t = only(
        compute(
            events=[created("2026-03-03T10:00-05:00"), reply("2026-03-03T13:30-05:00")],
            policy=policy(NY, ("first_reply", 240)),
            now=at("2026-03-04T12:00-05:00"),
        )
    )
    assert (t.due_at, t.status, t.elapsed_seconds) == (
        at("2026-03-03T14:00-05:00"),
        "met",
        210 * MIN,
    )


def test_case_02_friday_afternoon_breached_monday():
    t = only(
        compute(
            events=[created("2026-01-09T16:30-05:00"), reply("2026-01-12T11:00-05:00")],
            policy=policy(NY, ("first_reply", 120)),
            now=at("2026-01-13T12:00-05:00"),
        )
    )
    assert t.due_at == t.breached_at == at("2026-01-12T10:30-05:00")
    assert (t.status, t.elapsed_seconds) == ("breached", 150 * MIN)
    assert t.fulfilled_at == at("2026-01-12T11:00-05:00")


def test_case_03_created_on_saturday():
    t = only(
        compute(
            events=[created("2026-01-10T11:00-05:00"), reply("2026-01-12T09:45-05:00")],
            policy=policy(NY, ("first_reply", 60)),
            now=at("2026-01-12T18:00-05:00"),
        )
    )
    assert (t.due_at, t.status, t.elapsed_seconds) == (
        at("2026-01-12T10:00-05:00"),
        "met",
        45 * MIN,
    )


def test_case_04_christmas_and_weekend_skipped():
    t = only(
        compute(
            events=[created("2026-12-24T18:30-05:00")],
            policy=policy(NY, ("first_reply", 60)),
            now=at("2026-12-30T12:00-05:00"),
        )
    )
    assert t.due_at == t.breached_at == at("2026-12-28T10:00-05:00")
    assert t.status == "breached"


def test_case_05_london_substitute_bank_holiday():
    t = only(
        compute(
            events=[created("2026-12-24T18:00+00:00")],
            policy=policy(LDN, ("first_reply", 60)),
            now=at("2026-12-24T19:00+00:00"),
        )
    )
    assert (t.due_at, t.status) == (at("2026-12-29T10:00+00:00"), "active")


def test_case_06_new_york_spring_forward_weekend():
    t = only(
        compute(
            events=[created("2026-03-06T16:00-05:00"), reply("2026-03-09T11:30-04:00")],
            policy=policy(NY, ("first_reply", 240)),
            now=at("2026-03-10T12:00-04:00"),
        )
    )
    assert t.due_at == at("2026-03-09T16:00+00:00")
    assert (t.status, t.elapsed_seconds) == ("met", 210 * MIN)


def test_case_07_london_spring_forward_weekend():
    t = only(
        compute(
            events=[created("2026-03-27T15:30+00:00")],
            policy=policy(LDN, ("first_reply", 180)),
            now=at("2026-03-27T16:00+00:00"),
        )
    )
    assert t.due_at == at("2026-03-30T10:30+01:00")


def test_case_08_london_fall_back_weekend():
    t = only(
        compute(
            events=[created("2026-10-23T16:00+01:00"), reply("2026-10-26T09:59+00:00")],
            policy=policy(LDN, ("first_reply", 120)),
            now=at("2026-10-27T09:00+00:00"),
        )
    )
    assert (t.due_at, t.status, t.elapsed_seconds) == (
        at("2026-10-26T10:00+00:00"),
        "met",
        119 * MIN,
    )


def test_case_09_24x7_over_spring_forward_is_24_real_hours():
    always = BusinessCalendar(timezone="America/New_York", always_open=True)
    t = only(
        compute(
            events=[created("2026-03-07T12:00-05:00")],
            policy=policy(always, ("first_reply", 1440)),
            now=at("2026-03-07T13:00-05:00"),
        )
    )
    assert t.due_at == at("2026-03-08T13:00-04:00") == at("2026-03-08T17:00+00:00")


def test_case_10_night_shift_on_spring_forward_night_lasts_7_hours():
    night = BusinessCalendar(timezone="America/New_York", hours=NIGHT_HOURS)
    events = [created("2026-03-07T22:00-05:00")]
    p = policy(night, ("first_reply", 480))
    morning = only(compute(events=events, policy=p, now=at("2026-03-08T06:00-04:00")))
    assert morning.elapsed_seconds == 420 * MIN
    assert morning.due_at == at("2026-03-08T23:00-04:00")


def test_case_11_night_shift_in_london_spring_forward():
    night = BusinessCalendar(timezone="Europe/London", hours=NIGHT_HOURS)
    t = only(
        compute(
            events=[created("2026-03-28T22:00+00:00")],
            policy=policy(night, ("first_reply", 480)),
            now=at("2026-03-28T23:00+00:00"),
        )
    )
    assert t.due_at == at("2026-03-29T23:00+01:00")


def test_case_12_window_starting_in_the_gap_resolves_to_the_transition():
    cal = BusinessCalendar(
        timezone="Europe/London", hours=[{"weekday": 6, "start": "01:30", "end": "03:30"}]
    )
    t = only(
        compute(
            events=[created("2026-03-28T12:00+00:00")],
            policy=policy(cal, ("first_reply", 90)),
            now=at("2026-03-28T13:00+00:00"),
        )
    )
    assert t.due_at == at("2026-03-29T03:30+01:00")
    (window,) = cal.intervals(at("2026-03-29T12:00+01:00").date())
    assert window == (at("2026-03-29T02:00+01:00"), at("2026-03-29T03:30+01:00"))


def test_case_13_window_through_the_fold_is_510_real_minutes():
    cal = BusinessCalendar(
        timezone="America/New_York", hours=[{"weekday": 6, "start": "01:30", "end": "09:00"}]
    )
    t = only(
        compute(
            events=[created("2026-10-31T12:00-04:00")],
            policy=policy(cal, ("first_reply", 510)),
            now=at("2026-10-31T13:00-04:00"),
        )
    )
    assert t.due_at == at("2026-11-01T09:00-05:00")


def test_case_14_lunch_break_skipped():
    t = only(
        compute(
            events=[created("2026-04-15T11:30-04:00"), reply("2026-04-15T14:00-04:00")],
            policy=policy(NY_SPLIT, ("first_reply", 120)),
            now=at("2026-04-15T15:00-04:00"),
        )
    )
    assert (t.due_at, t.status, t.elapsed_seconds) == (
        at("2026-04-15T14:30-04:00"),
        "met",
        90 * MIN,
    )


def test_case_15_zero_target_is_due_at_once():
    t = only(
        compute(
            events=[created("2026-05-05T10:00-04:00"), reply("2026-05-05T10:01-04:00")],
            policy=policy(NY, ("first_reply", 0)),
            now=at("2026-05-05T11:00-04:00"),
        )
    )
    assert t.due_at == t.breached_at == at("2026-05-05T10:00-04:00")
    assert (t.status, t.elapsed_seconds) == ("breached", 1 * MIN)


def test_case_16_thirty_business_days_skip_holidays():
    t = only(
        compute(
            events=[created("2026-11-02T09:00-05:00")],
            policy=policy(NY, ("resolution", 14400)),
            now=at("2026-11-02T10:00-05:00"),
        ),
        "resolution",
    )
    assert t.due_at == at("2026-12-15T17:00-05:00")


def test_case_17_pending_pauses_resolution_customer_reopens():
    result = compute(
        events=[
            created("2026-02-05T10:00-05:00"),
            reply("2026-02-05T14:00-05:00"),
            status("2026-02-05T14:00-05:00", "pending"),
            cust("2026-02-09T11:00-05:00"),
            reply("2026-02-10T10:00-05:00"),
            status("2026-02-10T10:00-05:00", "solved"),
        ],
        policy=policy(
            NY,
            ("first_reply", 240),
            ("next_reply", 120),
            ("resolution", 960),
            pause_on=("pending",),
        ),
        now=at("2026-02-11T12:00-05:00"),
    )
    first = only(result)
    assert (first.due_at, first.status, first.elapsed_seconds) == (
        at("2026-02-05T14:00-05:00"),
        "met",
        240 * MIN,
    )
    resolution = only(result, "resolution")
    assert resolution.due_at == at("2026-02-10T15:00-05:00")
    assert (resolution.status, resolution.fulfilled_at, resolution.elapsed_seconds) == (
        "met",
        at("2026-02-10T10:00-05:00"),
        660 * MIN,
    )
    paused = [s for s in resolution.segments if s.reason == "paused: pending"]
    assert (paused[0].start, paused[0].end) == (
        at("2026-02-05T14:00-05:00"),
        at("2026-02-09T11:00-05:00"),
    )
    nxt = only(result, "next_reply")
    assert (nxt.cycle, nxt.started_at, nxt.due_at) == (
        1,
        at("2026-02-09T11:00-05:00"),
        at("2026-02-09T13:00-05:00"),
    )
    assert (nxt.status, nxt.breached_at, nxt.fulfilled_at, nxt.elapsed_seconds) == (
        "breached",
        at("2026-02-09T13:00-05:00"),
        at("2026-02-10T10:00-05:00"),
        420 * MIN,
    )


def test_case_17_while_paused_due_is_null():
    result = compute(
        events=[
            created("2026-02-05T10:00-05:00"),
            reply("2026-02-05T14:00-05:00"),
            status("2026-02-05T14:00-05:00", "pending"),
        ],
        policy=policy(NY, ("resolution", 960), pause_on=("pending",)),
        now=at("2026-02-06T12:00-05:00"),
    )
    t = only(result, "resolution")
    assert (t.status, t.due_at, t.elapsed_seconds, t.running) == ("paused", None, 240 * MIN, False)


URGENT_NORMAL = (("urgent", "first_reply", 60), ("normal", "first_reply", 240))


def test_case_18_priority_raised_due_moves_from_the_original_start():
    events = [created("2026-07-09T09:00-04:00"), priority("2026-07-09T09:40-04:00", "urgent")]
    p = policy(NY, *URGENT_NORMAL)
    before = only(compute(events=events[:1], policy=p, now=at("2026-07-09T09:30-04:00")))
    assert before.due_at == at("2026-07-09T13:00-04:00")
    t = only(
        compute(
            events=[*events, reply("2026-07-09T09:55-04:00")],
            policy=p,
            now=at("2026-07-09T12:00-04:00"),
        )
    )
    assert (t.due_at, t.status, t.elapsed_seconds) == (
        at("2026-07-09T10:00-04:00"),
        "met",
        55 * MIN,
    )


R1 = Rule(name="R1", metric="first_reply", trigger="breach", after_minutes=0, position=1)
R2 = Rule(
    name="R2",
    metric="first_reply",
    trigger="breach",
    after_minutes=30,
    position=2,
    action="move_to_queue",
    target_queue="engineering",
)


def test_case_19_breach_survives_a_downgrade_and_the_ladder_continues():
    result = compute(
        events=[
            created("2026-07-09T09:00-04:00", priority="urgent"),
            priority("2026-07-09T10:15-04:00", "normal"),
            reply("2026-07-09T11:00-04:00"),
        ],
        policy=policy(NY, *URGENT_NORMAL),
        now=at("2026-07-09T12:00-04:00"),
        rules=[R1, R2],
    )
    t = only(result)
    assert t.breached_at == at("2026-07-09T10:00-04:00")
    # X5: a breach freezes target and due_at; the downgrade does not move them to 13:00.
    assert (t.due_at, t.target_minutes) == (at("2026-07-09T10:00-04:00"), 60)
    assert (t.status, t.elapsed_seconds) == ("breached", 120 * MIN)
    assert [(f.rule.name, f.at) for f in result.firings] == [
        ("R1", at("2026-07-09T10:00-04:00")),
        ("R2", at("2026-07-09T10:30-04:00")),
    ]


def test_case_20_resolution_reactivated_by_reopen():
    result = compute(
        events=[
            created("2026-09-14T09:00-04:00"),
            reply("2026-09-14T12:00-04:00"),
            status("2026-09-14T12:00-04:00", "solved"),
            cust("2026-09-16T10:00-04:00"),
            reply("2026-09-16T14:00-04:00"),
            status("2026-09-16T14:00-04:00", "solved"),
        ],
        policy=policy(NY, ("first_reply", 240), ("next_reply", 120), ("resolution", 480)),
        now=at("2026-09-17T09:00-04:00"),
    )
    first = only(result)
    assert (first.status, first.elapsed_seconds) == ("met", 180 * MIN)
    resolution = only(result, "resolution")
    assert (resolution.status, resolution.elapsed_seconds) == ("met", 420 * MIN)
    assert resolution.fulfilled_at == at("2026-09-16T14:00-04:00")
    assert resolution.due_at == at("2026-09-16T15:00-04:00")
    nxt = only(result, "next_reply")
    assert (nxt.started_at, nxt.due_at, nxt.status, nxt.elapsed_seconds) == (
        at("2026-09-16T10:00-04:00"),
        at("2026-09-16T12:00-04:00"),
        "breached",
        240 * MIN,
    )


def test_case_20_while_reopened_resolution_is_due_at_15():
    result = compute(
        events=[
            created("2026-09-14T09:00-04:00"),
            reply("2026-09-14T12:00-04:00"),
            status("2026-09-14T12:00-04:00", "solved"),
            cust("2026-09-16T10:00-04:00"),
        ],
        policy=policy(NY, ("first_reply", 240), ("resolution", 480)),
        now=at("2026-09-16T10:30-04:00"),
    )
    resolution = only(result, "resolution")
    assert (resolution.status, resolution.due_at, resolution.elapsed_seconds) == (
        "active",
        at("2026-09-16T15:00-04:00"),
        210 * MIN,
    )


def test_case_21_warning_at_half_the_target():
    t = only(
        compute(
            events=[created("2026-03-10T15:00-04:00"), reply("2026-03-11T10:30-04:00")],
            policy=policy(NY, ("first_reply", 240), warn=50),
            now=at("2026-03-11T12:00-04:00"),
        )
    )
    assert t.warning_at == at("2026-03-10T17:00-04:00")
    assert (t.due_at, t.status, t.elapsed_seconds) == (
        at("2026-03-11T11:00-04:00"),
        "met",
        210 * MIN,
    )


def test_case_22_a_reply_stops_the_ladder():
    result = compute(
        events=[created("2026-08-14T15:45-04:00"), reply("2026-08-17T09:05-04:00")],
        policy=policy(NY, ("first_reply", 60)),
        now=at("2026-08-17T12:00-04:00"),
        rules=[R1, R2],
    )
    assert only(result).breached_at == at("2026-08-14T16:45-04:00")
    assert [(f.rule.name, f.at) for f in result.firings] == [("R1", at("2026-08-14T16:45-04:00"))]
    # Without the reply, R2 would have fired on Monday at 09:15.
    unanswered = compute(
        events=[created("2026-08-14T15:45-04:00")],
        policy=policy(NY, ("first_reply", 60)),
        now=at("2026-08-14T17:30-04:00"),
        rules=[R1, R2],
    )
    assert [(f.rule.name, f.at) for f in unanswered.upcoming] == [
        ("R2", at("2026-08-17T09:15-04:00"))
    ]


def test_case_23_policy_selection_by_position_and_match():
    always = BusinessCalendar(timezone="America/New_York", always_open=True)
    policies = [
        (2, {}),  # B: catch-all
        (1, {"tiers": ["enterprise"]}),  # A
    ]
    a = Policy(
        targets=(Target("normal", "first_reply", 60, business_hours=False),), calendar=always
    )
    b = Policy(targets=(Target("normal", "first_reply", 240),), calendar=NY)
    chosen = {
        tier: [b, a][
            select_policy(policies, priority="normal", tier=tier, channel="api", queue="q")
        ]
        for tier in ("enterprise", "standard")
    }
    events = [created("2026-05-09T10:00-04:00")]
    now = at("2026-05-09T10:30-04:00")
    x = only(compute(events=events, policy=chosen["enterprise"], now=now))
    y = only(compute(events=events, policy=chosen["standard"], now=now))
    assert x.due_at == at("2026-05-09T11:00-04:00")
    assert y.due_at == at("2026-05-11T13:00-04:00")


def test_case_24_calendar_without_hours_is_rejected():
    with pytest.raises(CalendarSpecError) as error:
        BusinessCalendar(timezone="America/New_York", always_open=False, hours=[])
    assert error.value.param == "hours"


def test_elapsed_is_whole_seconds():
    t = only(
        compute(
            events=[created("2026-03-03T10:00:00.250000-05:00")],
            policy=policy(NY, ("first_reply", 240)),
            now=at("2026-03-03T10:00:01.900000-05:00"),
        )
    )
    assert t.elapsed_seconds == 1
    assert t.due_at - at("2026-03-03T10:00:00.250000-05:00") == timedelta(hours=4)
