"""Random days at a small studio: whatever staff do, the books balance and rooms hold.

A Hypothesis state machine runs random commands (with a clock that moves forward) and
checks the studio's invariants after every step: balances equal their ledger, no credit
is spent twice, no booking beyond capacity without a recorded reason, waitlists stay in
queue order and promote in it, merging or erasing members loses no history, and a
command re-run on top of its own effects (a rebase after a lost answer) changes nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from frontdesk.domain import Result, Status, execute
from frontdesk.domain.codec import encode
from frontdesk.domain.model import (
    HOLDS_SPOT,
    AuditEntry,
    Booking,
    BookingStatus,
    Entitlement,
    EntitlementKind,
    Feedback,
    LedgerEntry,
    Member,
    MemberStatus,
    Penalty,
    Role,
    Sale,
    Session,
    SessionStatus,
)
from frontdesk.domain.rules import waitlist
from tests.studio import Studio

MINUTE = timedelta(minutes=1)
OWNED = (Booking, Entitlement, Sale, LedgerEntry, Feedback)
#: Commands that may promote the waitlist by themselves (the one promotion routine).
AUTO_PROMOTERS = {"cancel_booking", "mark_no_show", "undo_check_in", "change_capacity",
                  "merge_members"}


class StudioDay(RuleBasedStateMachine):
    """A few members and classes; random staff actions; invariants checked every step."""

    def __init__(self) -> None:
        super().__init__()
        self.studio = Studio(seed="a random day")
        self.now = self.studio.now
        self.created: dict[str, int] = {}  # booking id -> step it was created in
        self.step = 0
        self.replay_over_capacity: set[str] = set()  # bookings kept over by replay warning
        self.last_command_id = ""

    @initialize(
        penalty=st.sampled_from(list(Penalty)),
        no_show=st.sampled_from(list(Penalty)),
        capacities=st.lists(st.integers(0, 3), min_size=4, max_size=4),
    )
    def open_studio(self, penalty: Penalty, no_show: Penalty, capacities: list[int]) -> None:
        s = self.studio
        s.policy = replace(s.policy, late_cancel_penalty=penalty, no_show_penalty=no_show,
                           penalty_fee_cents=1500, waitlist_cutoff_minutes=30)
        s.member("Pack", credits=3)
        s.member("Member", kind=EntitlementKind.MEMBERSHIP, credits=0, until=date(2027, 1, 1))
        card = s.member("Card", credits=0)
        s.entitlement(card, credits=25000, kind=EntitlementKind.STORED_VALUE)
        s.member("Nothing", credits=0)
        limited = s.member("Limited", credits=0)
        s.entitlement(limited, credits=5, until=date(2026, 12, 31), max_per_day=1)
        for hours, capacity in zip((1, 2, 4, 30), capacities, strict=True):
            s.session(start=self.now + timedelta(hours=hours), capacity=capacity, waitlist=2)

    # -- helpers -----------------------------------------------------------------------
    def run(self, name: str, role: Role = Role.FRONT_DESK, *, replay: bool = False,
            **args: Any) -> Result:
        before = self._queues()
        command_id = self.last_command_id = self.studio.new_id()
        result = self.studio.run(name, role, replay=replay, now=self.now,
                                 command_id=command_id, **args)
        self.step += 1
        if result.outcome.status is Status.REJECTED:
            assert result.changes == []
        else:
            # A lost answer and a rebase re-run the command on its own effects: no-op.
            ctx = self.studio.ctx(role, replay=replay, now=self.now)
            again = execute(name, 1, encode(args), command_id, ctx, self.studio.state)
            assert [c for c in again.changes
                    if self.studio.state.get(type(c), getattr(c, "id")) != c] == [], name  # noqa: B009
        for change in result.changes:
            if isinstance(change, Booking) and change.id not in self.created:
                self.created[change.id] = self.step
        if replay and any(w.code == "over_capacity" for w in result.outcome.warnings):
            assert result.outcome.subject_id is not None
            self.replay_over_capacity.add(result.outcome.subject_id)
        self._check_promotions(name, before)
        return result

    def _queues(self) -> dict[str, list[str]]:
        return {s.id: [b.id for b in waitlist(self.studio.bookings(s))]
                for s in self.studio.state.all(Session)}

    def _check_promotions(self, name: str, before: dict[str, list[str]]) -> None:
        for session_id, queue in before.items():
            promoted = [b for b in queue
                        if self.studio.booking(b).status is BookingStatus.BOOKED]
            if not promoted or name == "promote_from_waitlist":
                continue
            assert name in AUTO_PROMOTERS, name
            # Strict queue order: the promoted are the head of the queue, in order...
            still_queued = [b for b in queue
                            if self.studio.booking(b).status is BookingStatus.WAITLISTED]
            assert promoted == queue[: len(promoted)], (promoted, queue)
            assert all(queue.index(b) > queue.index(promoted[-1]) for b in still_queued)
            # ...and only up to the cutoff before the class.
            session = self.studio.get(Session, session_id)
            cutoff = session.start - self.studio.policy.waitlist_cutoff_minutes * MINUTE
            assert self.now < cutoff

    def members(self) -> list[Member]:
        return self.studio.state.all(Member)

    def sessions(self) -> list[Session]:
        return self.studio.state.all(Session)

    def bookings(self) -> list[Booking]:
        return self.studio.state.all(Booking)

    def pick(self, data: st.DataObject, rows: list[Any], what: str) -> str:
        """An id drawn from `rows`, labelled by position so failures read short."""
        index = data.draw(st.integers(0, len(rows) - 1), label=what)
        return str(rows[index].id)

    def pick_booking(self, data: st.DataObject, *statuses: BookingStatus) -> str | None:
        """Mostly a booking the command can act on; sometimes any, to exercise refusals."""
        fitting = [b for b in self.bookings() if b.status in statuses]
        if fitting and data.draw(st.integers(0, 3), label="fitting") > 0:
            return self.pick(data, fitting, "booking")
        return self.pick(data, self.bookings(), "booking") if self.bookings() else None

    # -- the clock -----------------------------------------------------------------------
    @rule(minutes=st.integers(0, 90))
    def time_passes(self, minutes: int) -> None:
        self.now += minutes * MINUTE

    # -- bookings and attendance ---------------------------------------------------------
    @rule(data=st.data(), override=st.booleans())
    def book(self, data: st.DataObject, override: bool) -> None:
        member_id = self.pick(data, self.members(), "member")
        session_id = self.pick(data, self.sessions(), "session")
        role = Role.MANAGER if override else Role.FRONT_DESK
        self.run("book", role, member_id=member_id, session_id=session_id,
                 override_capacity=override, reason="regular" if override else "")

    @rule(data=st.data(), waive=st.booleans())
    def cancel(self, data: st.DataObject, waive: bool) -> None:
        booking_id = self.pick_booking(data, BookingStatus.BOOKED, BookingStatus.WAITLISTED)
        if booking_id is None:
            return
        role = Role.MANAGER if waive else Role.FRONT_DESK
        self.run("cancel_booking", role, booking_id=booking_id, waive_penalty=waive,
                 reason="goodwill" if waive else "")

    @rule(data=st.data(), replay=st.booleans(), override=st.booleans(),
          role=st.sampled_from([Role.FRONT_DESK, Role.MANAGER, Role.COACH, Role.KIOSK]))
    def check_in(self, data: st.DataObject, replay: bool, override: bool, role: Role) -> None:
        member_id = self.pick(data, self.members(), "member")
        session_id = self.pick(data, self.sessions(), "session")
        self.run("check_in", role, replay=replay, member_id=member_id, session_id=session_id,
                 override=override, reason="manager says so" if override else "")

    @rule(data=st.data(), guest=st.booleans(), plan=st.sampled_from(["drop_in", "pack", None]))
    def walk_in(self, data: st.DataObject, guest: bool, plan: str | None) -> None:
        session_id = self.pick(data, self.sessions(), "session")
        who: dict[str, Any] = (
            {"guest": {"name": f"Guest {self.step}"}} if guest
            else {"member_id": self.pick(data, self.members(), "member")})
        plan_id = {"drop_in": self.studio.drop_in.id, "pack": self.studio.pack.id}.get(plan or "")
        self.run("walk_in", session_id=session_id, plan_id=plan_id, **who)

    @rule(data=st.data())
    def mark_no_show(self, data: st.DataObject) -> None:
        started = {s.id for s in self.sessions() if s.start <= self.now}
        booked = [b for b in self.bookings()
                  if b.status is BookingStatus.BOOKED and b.session_id in started]
        if booked and data.draw(st.integers(0, 1), label="started") == 1:
            self.run("mark_no_show", Role.COACH, booking_id=self.pick(data, booked, "booking"))
        elif (booking_id := self.pick_booking(data, BookingStatus.BOOKED)) is not None:
            self.run("mark_no_show", Role.COACH, booking_id=booking_id)

    @rule(data=st.data())
    def undo_check_in(self, data: st.DataObject) -> None:
        if (booking_id := self.pick_booking(data, BookingStatus.CHECKED_IN)) is not None:
            self.run("undo_check_in", booking_id=booking_id)

    @rule(data=st.data(), override=st.booleans())
    def promote(self, data: st.DataObject, override: bool) -> None:
        if (booking_id := self.pick_booking(data, BookingStatus.WAITLISTED)) is not None:
            self.run("promote_from_waitlist", Role.MANAGER, booking_id=booking_id,
                     override_capacity=override, reason="coach agreed")

    @rule(data=st.data())
    def waive_penalty(self, data: st.DataObject) -> None:
        booking_id = self.pick_booking(data, BookingStatus.LATE_CANCELLED,
                                       BookingStatus.NO_SHOW)
        if booking_id is not None:
            self.run("waive_penalty", Role.MANAGER, booking_id=booking_id, reason="storm")

    # -- the schedule --------------------------------------------------------------------
    @rule(data=st.data(), capacity=st.integers(0, 4))
    def change_capacity(self, data: st.DataObject, capacity: int) -> None:
        session_id = self.pick(data, self.sessions(), "session")
        self.run("change_capacity", Role.MANAGER, session_id=session_id, capacity=capacity)

    # -- money ---------------------------------------------------------------------------
    @rule(data=st.data(), plan=st.sampled_from(["pack", "drop_in", "monthly"]),
          paid=st.booleans())
    def sell(self, data: st.DataObject, plan: str, paid: bool) -> None:
        member_id = self.pick(data, self.members(), "member")
        self.run("sell", member_id=member_id, plan_id=getattr(self.studio, plan).id,
                 method="cash", paid=paid)

    @rule(data=st.data(), amount=st.integers(1, 30000))
    def top_up(self, data: st.DataObject, amount: int) -> None:
        member_id = self.pick(data, self.members(), "member")
        self.run("top_up", member_id=member_id, amount_cents=amount, method="wechat_pay")

    @rule(data=st.data(), full=st.booleans(), amount=st.integers(1, 100000))
    def refund(self, data: st.DataObject, full: bool, amount: int) -> None:
        sales = self.studio.sales()
        if sales:
            sale = self.studio.get(Sale, self.pick(data, sales, "sale"))
            left = sale.amount_cents - sale.refunded_cents
            self.run("refund", Role.MANAGER, sale_id=sale.id,
                     amount_cents=left if full else amount, reason="asked")

    @rule(data=st.data())
    def mark_paid(self, data: st.DataObject) -> None:
        sales = self.studio.sales()
        if sales:
            self.run("mark_paid", sale_id=self.pick(data, sales, "sale"), method="cash")

    @rule(data=st.data(), start=st.integers(-3, 5), days=st.integers(0, 4),
          unfreeze_after=st.integers(-1, 5))
    def freeze_and_unfreeze(self, data: st.DataObject, start: int, days: int,
                            unfreeze_after: int) -> None:
        ent_id = self.pick(data, self.studio.state.all(Entitlement), "entitlement")
        first = self.now.date() + timedelta(days=start)
        self.run("freeze", Role.MANAGER, entitlement_id=ent_id, start=first,
                 end=first + timedelta(days=days))
        if data.draw(st.booleans()):
            self.run("unfreeze", Role.MANAGER, entitlement_id=ent_id,
                     on=first + timedelta(days=unfreeze_after))

    # -- rarer events: each wipes out a lot, so they share one rule ----------------------
    @rule(data=st.data(), event=st.sampled_from(["merge", "anonymise", "cancel_session"]))
    def rare_event(self, data: st.DataObject, event: str) -> None:
        if event == "merge":
            self.merge(data)
        elif event == "anonymise":
            self.anonymise(data)
        else:
            session_id = self.pick(data, self.sessions(), "session")
            self.run("cancel_session", Role.MANAGER, session_id=session_id, reason="coach ill")

    def merge(self, data: st.DataObject) -> None:
        keep = self.studio.get(Member, self.pick(data, self.members(), "keep"))
        gone = self.studio.get(Member, self.pick(data, self.members(), "gone"))
        owned_before = self._owned_by(self._resolved(keep).id) + self._owned_by(gone.id)
        result = self.run("merge_members", Role.MANAGER, keep_id=keep.id, merge_id=gone.id)
        if result.outcome.ok and result.outcome.code == "ok":
            kept = result.outcome.subject_id
            assert kept is not None
            # Nothing lost; the only new rows give back the charge of a duplicate place.
            returned = Counter(type(c).__name__ for c in result.changes
                               if isinstance(c, LedgerEntry)
                               and c.command_id == self.last_command_id)
            assert self._owned_by(kept) == owned_before + returned
            assert self._owned_by(gone.id) == Counter()

    def anonymise(self, data: st.DataObject) -> None:
        member_id = self.pick(data, self.members(), "member")
        owned_before = self._owned_by(member_id)
        self.run("anonymise_member", Role.MANAGER, member_id=member_id, reason="asked")
        assert self._owned_by(member_id) == owned_before

    def _resolved(self, member: Member) -> Member:
        while member.merged_into is not None:
            member = self.studio.get(Member, member.merged_into)
        return member

    def _owned_by(self, member_id: str) -> Counter[str]:
        return Counter(cls.__name__ for cls in OWNED for row in self.studio.state.all(cls)
                       if getattr(row, "member_id") == member_id)  # noqa: B009

    # -- invariants ------------------------------------------------------------------------
    @invariant()
    def balances_equal_their_ledger_and_never_go_negative(self) -> None:
        for ent in self.studio.state.all(Entitlement):
            assert ent.balance == self.studio.ledger_balance(ent), ent
            assert ent.balance >= 0, ent
        for entry in self.studio.ledger():
            owner = self.studio.get(Entitlement, entry.entitlement_id)
            assert entry.member_id == owner.member_id, entry

    @invariant()
    def no_credit_is_spent_twice(self) -> None:
        by_booking: Counter[str] = Counter()
        for entry in self.studio.ledger():
            if entry.booking_id is not None:
                by_booking[entry.booking_id] -= entry.delta
        for booking in self.bookings():
            assert by_booking[booking.id] == booking.charged, booking
            if booking.charged:
                assert booking.entitlement_id is not None
                ent = self.studio.get(Entitlement, booking.entitlement_id)
                assert ent.member_id == booking.member_id

    @invariant()
    def rooms_hold_no_more_than_capacity_without_a_recorded_reason(self) -> None:
        audited = {a.subject_id for a in self.studio.state.all(AuditEntry)
                   if a.action == "override_capacity"}
        for session in self.sessions():
            held = [b for b in self.studio.bookings(session) if b.status in HOLDS_SPOT]
            plain = [b for b in held if not b.over_capacity]
            assert len(plain) <= session.capacity, (session, held)
            for b in held:
                if b.over_capacity:
                    assert b.id in audited | self.replay_over_capacity, b

    @invariant()
    def waitlists_keep_creation_order(self) -> None:
        for session in self.sessions():
            queue = waitlist(self.studio.bookings(session))
            positions = [b.waitlist_position for b in queue]
            assert all(p is not None and p > 0 for p in positions), queue
            assert [self.created[b.id] for b in queue] == sorted(
                self.created[b.id] for b in queue)
            assert len(set(positions)) == len(positions)
            if session.status is SessionStatus.CANCELLED:
                assert queue == []

    @invariant()
    def bookings_are_coherent(self) -> None:
        current: Counter[tuple[str, str]] = Counter()
        for b in self.bookings():
            assert (b.waitlist_position is not None) == (b.status is BookingStatus.WAITLISTED)
            if b.status is BookingStatus.CHECKED_IN:
                assert b.checked_in_at is not None and b.checked_in_by is not None
            if b.status not in (BookingStatus.CANCELLED, BookingStatus.LATE_CANCELLED):
                current[(b.session_id, b.member_id)] += 1
            member = self.studio.get(Member, b.member_id)
            assert member.status is not MemberStatus.MERGED, b
        assert all(n == 1 for n in current.values()), current

    @invariant()
    def merged_records_own_nothing(self) -> None:
        for member in self.members():
            if member.status is MemberStatus.MERGED:
                assert self._owned_by(member.id) == Counter()
                assert member.merged_into != member.id
            if member.status is MemberStatus.ANONYMISED:
                assert (member.phone, member.email, member.card_code) == ("", "", "")


StudioDay.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_a_random_day_at_the_studio = StudioDay.TestCase



# --- local days, for any zone ------------------------------------------------------------

ZONES = ["Asia/Shanghai", "America/New_York", "Europe/London", "Asia/Kolkata",
         "Pacific/Auckland", "America/Los_Angeles", "Australia/Adelaide"]
UNTIL = date(2026, 12, 3)


def _local_start(tz: str, day: date, minute_of_day: int) -> datetime:
    local = datetime.combine(day, time(minute_of_day // 60, minute_of_day % 60),
                             tzinfo=ZoneInfo(tz))
    return local.astimezone(UTC)


@settings(max_examples=150, deadline=None)
@given(tz=st.sampled_from(ZONES), day_offset=st.integers(-2, 2),
       minute_of_day=st.integers(0, 24 * 60 - 1))
def test_valid_until_is_judged_on_the_locations_calendar(tz: str, day_offset: int,
                                                         minute_of_day: int) -> None:
    day = UNTIL + timedelta(days=day_offset)
    start = _local_start(tz, day, minute_of_day)
    studio = Studio(tz=tz, now=start - timedelta(days=1), seed="valid until")
    member = studio.member(until=UNTIL)

    result = studio.run("book", member_id=member.id, session_id=studio.session(start=start).id)

    if day <= UNTIL:
        assert result.outcome.status is Status.APPLIED, (start, result.outcome)
    else:
        assert result.outcome.code == "expired", (start, result.outcome)


@settings(max_examples=150, deadline=None)
@given(tz=st.sampled_from(ZONES), first=st.integers(0, 24 * 60 - 1),
       second=st.integers(0, 24 * 60 - 1), days_apart=st.integers(0, 1))
def test_a_daily_limit_counts_the_locations_calendar_day(tz: str, first: int, second: int,
                                                         days_apart: int) -> None:
    day = date(2026, 12, 10)
    one = _local_start(tz, day, first)
    two = _local_start(tz, day + timedelta(days=days_apart), second)
    studio = Studio(tz=tz, now=min(one, two) - timedelta(days=1), seed="daily limit")
    member = studio.member(credits=0)
    studio.entitlement(member, until=None, max_per_day=1)

    studio.run("book", member_id=member.id, session_id=studio.session(start=one).id)
    again = studio.run("book", member_id=member.id, session_id=studio.session(start=two).id)

    if days_apart == 0:
        assert again.outcome.code == "daily_limit_reached", (one, two, again.outcome)
    else:
        assert again.outcome.status is Status.APPLIED, (one, two, again.outcome)
