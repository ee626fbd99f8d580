"""Timer derivation: (a ticket's events, its policy, now) -> its SLA timers (SLA_SPEC §3-§8).

Pure and deterministic (I1): no database, no clock. The recompute of live tickets, imports
and the what-if preview all call `compute`.

How it works: the events are replayed in order. Each timer keeps a list of stretches of its
life, each either running (counting in its basis) or stopped with a reason (paused, solved).
Before each event is applied, every running timer whose due instant lies strictly before the
event is breached at that due instant (Q1: events at an instant apply before judging). Due
and warning instants are always recomputed from the timer's whole history with its current
target, so a target change counts from the original start (X1) -- until the timer breaches:
a breach freezes its target, due and breach instants (X5). Outcomes recorded earlier (under
another policy, priority or calendar) are passed in as `recorded` and kept (X3, D4): a
breach, a met or a cancelled timer stays as it was judged. A met `resolution` timer is
final only while the ticket stays solved from that solve on: a reopen re-activates it and
the last solve judges it.

Two instants are told apart: `reach` is where the counting time reaches a threshold (D1,
what `due_at` shows), `overrun` is where a running timer is past it (Q1, Q2: when it
breaches or an escalation fires). They differ when a run ends exactly at the threshold: a
pause at `due_at` leaves a timer due then, breached only when it runs again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from .calendar import REAL_TIME, Basis, Segment, Unreachable

METRICS = ("first_reply", "next_reply", "resolution")
SOLVED = ("solved", "closed")
REOPENED_BY_CUSTOMER = ("pending", "on_hold", "solved")
EVENT_TYPES = (
    "created",
    "agent_reply",
    "customer_reply",
    "internal_note",
    "status_changed",
    "priority_changed",
)


@dataclass(frozen=True)
class Event:
    type: str
    at: datetime
    status: str | None = None
    priority: str | None = None


@dataclass(frozen=True)
class Target:
    priority: str
    metric: str
    minutes: int
    business_hours: bool = True


@dataclass(frozen=True)
class Policy:
    targets: tuple[Target, ...]
    calendar: Basis
    warn_at_percent: int = 75
    pause_on: tuple[str, ...] = ("pending", "on_hold")
    id: int | None = None
    name: str = ""

    def target(self, priority: str, metric: str) -> Target | None:
        for target in self.targets:
            if target.priority == priority and target.metric == metric:
                return target
        return None


@dataclass(frozen=True)
class Recorded:
    """A final outcome already stored for a timer (metric, cycle): breached (frozen, X5),
    met or cancelled (never re-judged, X3). The first four fields are what a breach needs;
    met and cancelled outcomes also keep the instants and elapsed time they were judged by."""

    breached_at: datetime | None
    due_at: datetime | None
    target_minutes: int
    business_hours: bool
    status: str = "breached"
    fulfilled_at: datetime | None = None
    cancelled_at: datetime | None = None
    warning_at: datetime | None = None
    elapsed_seconds: int | None = None
    started_at: datetime | None = None  # to tell the recorded timer apart (None: trusted)


@dataclass(frozen=True)
class Rule:
    name: str
    metric: str
    trigger: str
    after_minutes: int = 0
    priorities: tuple[str, ...] = ()
    id: int | None = None
    action: str = "notify"
    target_queue: str | None = None
    position: int = 0


@dataclass
class TimerSegment:
    start: datetime
    end: datetime
    counted: bool
    reason: str


@dataclass
class Timer:
    metric: str
    cycle: int
    status: str
    running: bool
    target_minutes: int
    business_hours: bool
    started_at: datetime
    due_at: datetime | None
    warning_at: datetime | None
    fulfilled_at: datetime | None
    breached_at: datetime | None
    cancelled_at: datetime | None
    elapsed_seconds: int
    segments: list[TimerSegment]
    next_change_at: datetime | None


@dataclass(frozen=True)
class Firing:
    rule: Rule
    metric: str
    cycle: int
    at: datetime


@dataclass
class Result:
    timers: list[Timer]
    firings: list[Firing]
    upcoming: list[Firing]


@dataclass
class _Stretch:
    start: datetime
    end: datetime | None
    running: bool
    reason: str = ""


@dataclass
class _Track:
    """One timer while the events are replayed."""

    metric: str
    started_at: datetime
    target: Target
    basis: Basis
    stretches: list[_Stretch] = field(default_factory=list)
    fulfilled_at: datetime | None = None
    cancelled_at: datetime | None = None
    breached_at: datetime | None = None
    warned_at: datetime | None = None
    final: bool = False  # reply timers once fulfilled or cancelled
    cycle: int = 0
    frozen_due: datetime | None = None  # X5: the due instant in force at a recorded breach
    # X3: a recorded met or cancelled outcome, shown as it was judged.
    settled: Recorded | None = None

    @property
    def running(self) -> bool:
        return (
            bool(self.stretches) and self.stretches[-1].end is None and self.stretches[-1].running
        )

    @property
    def target_seconds(self) -> int:
        return self.target.minutes * 60

    def warn_seconds(self, percent: int) -> int:
        return self.target.minutes * 60 * percent // 100

    def stop(self, at: datetime, *, running: bool, reason: str = "") -> None:
        """End the current stretch at `at` and open a new one (running or stopped)."""
        if self.stretches and self.stretches[-1].end is None:
            last = self.stretches[-1]
            if last.running == running and last.reason == reason:
                return
            last.end = at
        self.stretches.append(_Stretch(at, None, running, reason))

    def close(self, at: datetime) -> None:
        if self.stretches and self.stretches[-1].end is None:
            self.stretches[-1].end = at

    def runs(self) -> list[tuple[datetime, datetime | None]]:
        return [
            (s.start, s.end)
            for s in self.stretches
            if s.running and (s.end is None or s.end > s.start)
        ]

    def elapsed_at(self, at: datetime) -> int:
        total = 0
        for start, end in self.runs():
            if start >= at:
                break
            total += self.basis.elapsed(start, min(end, at) if end else at)
        return total

    def _add(self, start: datetime, seconds: int) -> datetime | None:
        try:
            return self.basis.add(start, seconds)
        except Unreachable:
            # A calendar with too few hours for the target: the timer runs with no due
            # instant rather than stopping the recompute (validation refuses such policies;
            # this keeps one that slipped through harmless).
            return None

    def reach(self, threshold: int, *, project: bool = False) -> datetime | None:
        """D1: the earliest instant at which the counting time reaches `threshold` seconds,
        or None if it did not within the runs so far. A run that ends exactly there reached
        it (a pause at due_at). `project` treats the last run as if it had not ended (a
        theoretical due)."""
        runs = self.runs()
        counted = 0
        for index, (start, end) in enumerate(runs):
            last = index == len(runs) - 1
            if counted >= threshold and index > 0:
                # Only a zero target whose first run never counted gets here: it was due
                # when that run ended, never later than the resume that breaches it (Q2).
                return runs[index - 1][1]
            instant = self._add(start, threshold - counted)
            if instant is None:
                return None
            if end is None or instant <= end or (last and project):
                return instant
            counted += self.basis.elapsed(start, end)
        return None

    def overrun(self, threshold: int) -> datetime | None:
        """The instant a running timer is past `threshold` seconds (it breaches, a rule
        fires), or None if it was not within the runs so far. A run's end is exclusive: an
        event at that instant applied first (Q1)."""
        runs = self.runs()
        counted = 0
        for index, (start, end) in enumerate(runs):
            if counted >= threshold and index > 0:
                return start  # Q2: no time left when it runs again
            instant = self._add(start, threshold - counted)
            if instant is None:
                return None
            if end is None or instant < end:
                return instant
            counted += self.basis.elapsed(start, end)
        return None


def select_policy(
    policies: Sequence[tuple[int, Mapping]], *, priority: str, tier: str, channel: str, queue: str
) -> int | None:
    """P1: the lowest-position policy whose match lists all accept the ticket."""
    wanted = {"priorities": priority, "tiers": tier, "channels": channel, "queues": queue}
    order = sorted(range(len(policies)), key=lambda i: (policies[i][0], i))
    for index in order:
        match = policies[index][1] or {}
        if all(not match.get(key) or value in match.get(key) for key, value in wanted.items()):
            return index
    return None


class _Replay:
    def __init__(
        self,
        policy: Policy,
        now: datetime,
        recorded: Mapping[tuple[str, int], Recorded] | None = None,
    ):
        self.policy = policy
        self.now = now
        self.recorded = recorded or {}
        self.status = "new"
        self.priority = "normal"
        self.priorities: list[tuple[datetime, str]] = []
        self.tracks: list[_Track] = []
        self.first_reply_done = False
        # X3: metric -> the solve at which a recorded met outcome was judged (resolution).
        self.judged_until: dict[str, datetime] = {}

    # -- helpers ------------------------------------------------------------------

    def _basis(self, target: Target) -> Basis:
        return self.policy.calendar if target.business_hours else REAL_TIME

    def _start(self, metric: str, at: datetime, *, running: bool = True, reason: str = ""):
        target = self.policy.target(self.priority, metric)
        if target is None:
            return None  # P3: not tracked
        track = _Track(metric=metric, started_at=at, target=target, basis=self._basis(target))
        track.stretches.append(_Stretch(at, None, running, reason))
        track.cycle = self._cycle_for(metric, at)
        self.tracks.append(track)
        self._apply_record(track)
        return track

    def _cycle_for(self, metric: str, at: datetime) -> int:
        """Cycles count from 1 in order of start; Q3 timers (started and ended at one
        instant, unbreached) take no number. Earlier timers of this metric are final by
        now. A recorded timer keeps its number (its row is the record, X3): a timer that
        starts when a recorded one started takes that number, and a number recorded for
        another timer is not given to this one (a policy that tracks a cycle the recorded
        one did not -- P3 -- numbers it after them rather than re-using a recorded row)."""
        used = {t.cycle for t in self.tracks if t.metric == metric and not _never_existed(t)}
        same_start = [
            cycle
            for (m, cycle), record in self.recorded.items()
            if m == metric and record.started_at == at and cycle not in used
        ]
        if same_start:
            return min(same_start)
        cycle = max(used, default=0) + 1
        while True:
            record = self.recorded.get((metric, cycle))
            if record is None or record.started_at is None or record.started_at == at:
                return cycle
            cycle += 1

    def _apply_record(self, track: _Track) -> None:
        """X3/X5: a stored outcome for this timer is replayed as judged, from its start:
        a breach keeps its instant and target (nothing later moves or cancels it); a reply
        timer that ended (met, cancelled, or breached and then answered) ends as recorded
        and keeps its target, a met or cancelled one never breaches. A met resolution is
        only known to be final at the end (a reopen re-activates it): until its recorded
        solve it is in time (`judged_until`)."""
        record = self.recorded.get((track.metric, track.cycle))
        if record is None:
            return
        if record.started_at is not None and record.started_at != track.started_at:
            return  # another timer than the one recorded (the cycles were told apart)
        if record.breached_at is not None:
            track.breached_at = record.breached_at
            if track.metric != "resolution" and (record.fulfilled_at or record.cancelled_at):
                track.settled = record  # a reply timer that has ended: it ends as recorded
        elif record.status == "cancelled" and record.cancelled_at is not None:
            track.settled = record
        elif record.status == "met" and record.fulfilled_at is not None:
            if track.metric == "resolution":
                self.judged_until[track.metric] = record.fulfilled_at
                return  # its target is the current one until `compute` settles it
            track.settled = record
        else:
            return
        track.target = Target(
            priority=track.target.priority,
            metric=track.metric,
            minutes=record.target_minutes,
            business_hours=record.business_hours,
        )
        track.basis = self._basis(track.target)

    def _open(self, metric: str) -> list[_Track]:
        return [t for t in self.tracks if t.metric == metric and not t.final]

    def _judged(self, track: _Track, instant: datetime | None) -> datetime | None:
        """A resolution recorded as met at a solve was in time until then (X3), whatever
        the policy that applies now says: an instant it would place at or before that solve
        counts only once the re-activated timer runs again (Q2), None until it does."""
        until = self.judged_until.get(track.metric)
        if until is None or instant is None or instant > until:
            return instant
        later = [start for start, _ in track.runs() if start >= until]
        return later[0] if later else None

    def judge_until(self, at: datetime) -> None:
        """Breach and warn every running timer whose instant lies before `at` (Q1, Q4)."""
        for track in self.tracks:
            if track.settled is not None:
                # Recorded as ended: it ends when it was recorded to (normally the event
                # there ends it; a cancellation may have had none), and is not judged again.
                end = _recorded_end(track.settled)
                if not track.final and end is not None and end < at:
                    self._finish(track, end, fulfilled=track.settled.fulfilled_at is not None)
                continue
            if not track.running or track.final:
                continue
            if track.warned_at is None:
                warn = track.overrun(track.warn_seconds(self.policy.warn_at_percent))
                warn = self._judged(track, warn)
                if warn is not None and warn < at:
                    track.warned_at = warn
            if track.breached_at is None:
                due = self._judged(track, track.overrun(track.target_seconds))
                if due is not None and due < at:
                    track.breached_at = due

    # -- events -------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        at = event.at
        if event.type == "created":
            self.status = event.status or "new"
            self.priority = event.priority or "normal"
            self.priorities.append((at, self.priority))
            self._start("first_reply", at)
            paused = self.status in self.policy.pause_on
            self._start(
                "resolution",
                at,
                running=not paused,
                reason=f"paused: {self.status}" if paused else "",
            )
            if self.status in SOLVED:
                self._set_status(self.status, at, force=True)
        elif self.status == "closed":
            return  # final: nothing moves a closed ticket's timers
        elif event.type == "agent_reply":
            for track in self._open("first_reply") + self._open("next_reply"):
                if not self._end_as_recorded(track, at):
                    self._finish(track, at, fulfilled=True)
            self.first_reply_done = True
        elif event.type == "customer_reply":
            if self.status in REOPENED_BY_CUSTOMER:
                self._set_status("open", at)  # S2
            # next_reply starts at the oldest unanswered customer message once first_reply
            # is final (answered, or cancelled by a solve); later messages do not restart it.
            first = [t for t in self.tracks if t.metric == "first_reply"]
            first_final = self.first_reply_done or (first and all(t.final for t in first))
            if first_final and not self._open("next_reply"):
                self._start("next_reply", at)
        elif event.type == "status_changed" and event.status:
            self._set_status(event.status, at)
        elif event.type == "priority_changed" and event.priority:
            self._set_priority(event.priority, at)

    def _end_as_recorded(self, track: _Track, at: datetime) -> bool:
        """A timer recorded as ended ends only at its recorded instant, as recorded (met,
        or cancelled), whatever event is there: True if it is such a timer."""
        if track.settled is None:
            return False
        if _recorded_end(track.settled) == at:
            self._finish(track, at, fulfilled=track.settled.fulfilled_at is not None)
        return True

    def _finish(self, track: _Track, at: datetime, *, fulfilled: bool) -> None:
        track.close(at)
        track.final = True
        if fulfilled:
            track.fulfilled_at = at
        else:
            track.cancelled_at = at

    def _set_status(self, status: str, at: datetime, *, force: bool = False) -> None:
        previous, self.status = self.status, status
        if status == previous and not force:
            return
        if status in SOLVED:
            for track in self._open("first_reply") + self._open("next_reply"):
                if not self._end_as_recorded(track, at):
                    self._finish(track, at, fulfilled=False)
            for track in self._open("resolution"):
                if previous not in SOLVED or force:
                    track.fulfilled_at = at  # judged at the last solve
                track.stop(at, running=False, reason="solved")
            return
        for track in self._open("resolution"):
            if previous in SOLVED and track.breached_at is None:
                # Re-activated by the reopen (§5): it runs on under the target of the
                # priority now (X1); priority changes while solved waited for this.
                target = self.policy.target(self.priority, track.metric)
                if target is None:
                    self._finish(track, at, fulfilled=False)
                    continue
                track.target, track.basis = target, self._basis(target)
            paused = status in self.policy.pause_on
            track.stop(at, running=not paused, reason=f"paused: {status}" if paused else "")
            if previous in SOLVED:
                track.fulfilled_at = None  # re-activated by the reopen (§5)

    def _set_priority(self, priority: str, at: datetime) -> None:
        self.priority = priority
        self.priorities.append((at, priority))
        for track in [t for t in self.tracks if not t.final]:
            if track.breached_at is not None:
                continue  # X5: a breach freezes the timer's target and due instant
            if track.settled is not None:
                continue  # X3: recorded as met or cancelled under the target it had
            if track.metric == "resolution" and self.status in SOLVED:
                continue  # judged at the solve; a reopen adopts the priority of then
            judged = self.judged_until.get(track.metric)
            if judged is not None and at <= judged:
                continue  # recorded in time until its solve (X3); judged when it runs again
            target = self.policy.target(priority, track.metric)
            if target is None:
                if track.running or track.stretches[-1].end is None:
                    self._finish(track, at, fulfilled=False)
                continue
            track.target, track.basis = target, self._basis(target)
            # X2: already past the new target: breached at the moment of the change.
            if (
                track.breached_at is None
                and track.fulfilled_at is None
                and track.elapsed_at(at) >= track.target_seconds
            ):
                track.breached_at = at
            if track.warned_at is None and track.elapsed_at(at) >= track.warn_seconds(
                self.policy.warn_at_percent
            ):
                track.warned_at = at if track.running else None

    def priority_at(self, at: datetime) -> str:
        current = self.priorities[0][1] if self.priorities else self.priority
        for when, priority in self.priorities:
            if when <= at:
                current = priority
        return current


def compute(
    *,
    events: Sequence[Event],
    policy: Policy | None,
    now: datetime,
    rules: Sequence[Rule] = (),
    recorded: Mapping[tuple[str, int], Recorded] | None = None,
) -> Result:
    """`recorded`: final outcomes already stored (breached, met, cancelled), by (metric,
    cycle); they stand as recorded whatever this policy would say now (D4, X3, X5). A met
    resolution stands only while the ticket stays solved from that solve on."""
    if policy is None or not events:
        return Result([], [], [])
    # sorted() is stable: events at one instant keep their order (T3).
    ordered = sorted((e for e in events if e.at <= now), key=lambda e: e.at)
    if not ordered or ordered[0].type != "created":
        return Result([], [], [])
    replay = _Replay(policy, now, recorded)
    for event in ordered:
        if event.type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {event.type!r}")
        replay.judge_until(event.at)
        replay.apply(event)
    replay.judge_until(now)

    timers: list[Timer] = []
    firings: list[Firing] = []
    upcoming: list[Firing] = []
    rules = sorted(rules, key=lambda r: (r.position, r.name))
    for track in sorted(replay.tracks, key=lambda t: (METRICS.index(t.metric), t.started_at)):
        if _never_existed(track):
            continue  # Q3: would start and end at the same instant
        frozen = replay.recorded.get((track.metric, track.cycle))
        if frozen is not None and frozen.breached_at is not None:
            if track.breached_at == frozen.breached_at:
                _freeze(track, frozen, replay)
            if track.settled is not None:
                _settle(track, track.settled, replay)
        elif track.settled is not None or (
            frozen is not None and _still_final(track, frozen, replay)
        ):
            _settle(track, track.settled or frozen, replay)
        timers.append(_timer(track, replay))
        fired, pending = _ladder(track, replay, rules)
        firings += fired
        upcoming += pending
    firings.sort(key=lambda f: (f.at, f.rule.position))
    upcoming.sort(key=lambda f: (f.at, f.rule.position))
    return Result(timers, firings, upcoming)


def _never_existed(track: _Track) -> bool:
    """Q3: a timer that would start and end at the same instant is not created."""
    end = track.fulfilled_at or track.cancelled_at
    return track.final and end == track.started_at and track.breached_at is None


def _freeze(track: _Track, recorded: Recorded, replay: _Replay) -> None:
    """X5: the stored breach stands with the target it was judged by; the ladder goes on
    from its breached_at."""
    track.breached_at = recorded.breached_at
    track.target = Target(
        priority=track.target.priority,
        metric=track.metric,
        minutes=recorded.target_minutes,
        business_hours=recorded.business_hours,
    )
    track.basis = replay._basis(track.target)
    due = recorded.due_at
    if due is None or due > recorded.breached_at:
        # Rows stored before X5 may show a due instant moved after the breach: derive it
        # again from the frozen target, never later than the breach.
        due = track.reach(track.target_seconds, project=True) or recorded.breached_at
        due = min(due, recorded.breached_at)
    track.frozen_due = due


def _still_final(track: _Track, recorded: Recorded, replay: _Replay) -> bool:
    """Whether a met resolution recorded at a solve still stands: the ticket has stayed
    solved since that solve. A reopen re-activated it (SLA_SPEC §5) and the last solve
    judges it. (Met and cancelled reply timers were settled when they started.)"""
    return (
        track.metric == "resolution"
        and recorded.status == "met"
        and recorded.breached_at is None
        and recorded.fulfilled_at is not None
        and replay.status in SOLVED
        and track.fulfilled_at == recorded.fulfilled_at
        and track.breached_at is None
    )


def _settle(track: _Track, recorded: Recorded, replay: _Replay) -> None:
    """X3: a recorded final outcome stands as judged -- its target, due instant, end
    (fulfilment or cancellation) and elapsed time -- whatever the policy that applies now
    would say (a shorter target would otherwise turn a met reply into a breach). The ladder
    sees a final timer: nothing fires after its end, and no breach is invented before it."""
    end = _recorded_end(recorded)
    track.target = Target(
        priority=track.target.priority,
        metric=track.metric,
        minutes=recorded.target_minutes,
        business_hours=recorded.business_hours,
    )
    track.basis = replay._basis(track.target)
    track.fulfilled_at = recorded.fulfilled_at
    track.cancelled_at = recorded.cancelled_at
    if recorded.breached_at is None:
        track.breached_at = None
        # The warning instant it was judged by, if it came before the end; none otherwise.
        warning = recorded.warning_at
        track.warned_at = warning if warning and end and warning < end else None
    if end is not None and (track.metric != "resolution" or recorded.status == "cancelled"):
        _truncate(track, end)
        track.final = True
    track.settled = recorded


def _recorded_end(recorded: Recorded) -> datetime | None:
    return recorded.fulfilled_at or recorded.cancelled_at


def _truncate(track: _Track, end: datetime) -> None:
    """Make the timer's life end at `end` (a final timer neither runs nor pauses after)."""
    kept = [s for s in track.stretches if s.start < end]
    if not kept:
        kept = [_Stretch(end, end, False, "stopped")]
    if kept[-1].end is None or kept[-1].end > end:
        kept[-1].end = end
    track.stretches = kept


def _status(track: _Track, replay: _Replay) -> str:
    if track.settled is not None:
        return track.settled.status
    if track.breached_at is not None:
        return "breached"
    if track.final and track.cancelled_at is not None:
        # A reply timer cancelled by a solve, or any timer whose priority lost its target:
        # a later solve does not make a cancelled resolution met.
        return "cancelled"
    if track.metric == "resolution":
        if replay.status in SOLVED:
            return "met"
        return "active" if track.running else "paused"
    if track.fulfilled_at is not None:
        return "met"
    return "active"


def _timer(track: _Track, replay: _Replay) -> Timer:
    now = replay.now
    status = _status(track, replay)
    solved = track.metric == "resolution" and replay.status in SOLVED
    paused = track.metric == "resolution" and not solved and not track.running and not track.final
    if track.final:
        until = track.fulfilled_at or track.cancelled_at or now
    elif solved:
        until = track.stretches[-1].start  # the last solve
    else:
        until = now
    percent = replay.policy.warn_at_percent
    if track.frozen_due is not None:
        due = track.frozen_due
    elif track.settled is not None:
        due = track.settled.due_at
    elif paused and track.breached_at is None:
        due = None  # R2: a paused timer has no due instant until it resumes
    else:
        # A breached timer keeps showing its due instant, paused or not (X5).
        due = track.reach(track.target_seconds, project=True)
        if track.breached_at is not None and (due is None or due > track.breached_at):
            # X2 before any counting time (a zero target adopted outside business hours,
            # or at the creation instant): it was due no later than its breach (X5).
            due = track.breached_at
    if track.settled is not None:
        warning = track.settled.warning_at
    else:
        warning = None if paused else track.reach(track.warn_seconds(percent), project=True)
    elapsed = track.elapsed_at(until)
    if track.settled is not None and track.settled.elapsed_seconds is not None:
        elapsed = track.settled.elapsed_seconds
    next_change = None
    if track.running and not track.final:
        candidates = [t for t in (warning, due) if t is not None and t >= now]
        next_change = min(candidates) if candidates else None
    return Timer(
        metric=track.metric,
        cycle=track.cycle,
        status=status,
        running=track.running and not track.final,
        target_minutes=track.target.minutes,
        business_hours=track.target.business_hours,
        started_at=track.started_at,
        due_at=due,
        warning_at=warning,
        fulfilled_at=track.fulfilled_at,
        breached_at=track.breached_at,
        cancelled_at=track.cancelled_at,
        elapsed_seconds=elapsed,
        segments=_segments(track, until),
        next_change_at=next_change,
    )


def _segments(track: _Track, until: datetime) -> list[TimerSegment]:
    out: list[TimerSegment] = []
    for stretch in track.stretches:
        if stretch.start >= until:
            break
        end = min(stretch.end or until, until)
        if end <= stretch.start:
            continue
        pieces = (
            track.basis.segments(stretch.start, end)
            if stretch.running
            else [Segment(stretch.start, end, False, stretch.reason or "stopped")]
        )
        for piece in pieces:
            if (
                out
                and out[-1].end == piece.start
                and (out[-1].counted, out[-1].reason)
                == (
                    piece.counted,
                    piece.reason,
                )
            ):
                out[-1].end = piece.end
            else:
                out.append(TimerSegment(piece.start, piece.end, piece.counted, piece.reason))
    return out


def _ladder(track: _Track, replay: _Replay, rules: Sequence[Rule]):
    """Rule firings for one timer (E1-E3): fired ones (at or before now) and upcoming ones
    (if nothing changes). Each rule at most once per timer cycle."""
    fired: list[Firing] = []
    pending: list[Firing] = []
    now = replay.now
    percent = replay.policy.warn_at_percent
    for rule in rules:
        if rule.metric != track.metric:
            continue
        if rule.trigger == "breach":
            trigger_at = track.breached_at
            theoretical = track.target_seconds
        else:
            trigger_at = track.warned_at
            theoretical = track.warn_seconds(percent)
        if trigger_at is None:
            if track.running and not track.final:
                priority = replay.priority
                if rule.priorities and priority not in rule.priorities:
                    continue
                at = track.overrun(theoretical + rule.after_minutes * 60)
                if at is not None and at >= now:
                    pending.append(Firing(rule, track.metric, track.cycle, at))
            continue
        if rule.priorities and replay.priority_at(trigger_at) not in rule.priorities:
            continue
        if rule.after_minutes == 0:
            fired.append(Firing(rule, track.metric, track.cycle, trigger_at))
            continue
        threshold = track.elapsed_at(trigger_at) + rule.after_minutes * 60
        at = track.overrun(threshold)
        if at is None:
            continue  # the timer stopped first: a reply stops the ladder
        if at < now:
            fired.append(Firing(rule, track.metric, track.cycle, at))
        elif track.running and not track.final:
            pending.append(Firing(rule, track.metric, track.cycle, at))
    return fired, pending
