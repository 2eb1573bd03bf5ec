"""Chooses the arguments of a front-desk command from what one desk sees right now.

Reads the desk's effective state (pending layer over server rows) straight from its
SQLite file. A choice may well be refused by the rules (a full class, a spent pass):
that is part of the campaign too.
"""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

KINDS = ("member", "entitlement", "session", "booking", "plan", "staff", "sale", "location")
HOLDS = ("booked", "checked_in")
REASON = "fault campaign"


@dataclass
class View:
    """One desk's effective entities by kind and id, and its business clock."""

    location_id: str
    now: datetime  # the desk's business time: its clock plus its measured offset
    entities: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def all(self, kind: str) -> list[dict[str, Any]]:
        found = self.entities.get(kind, {})
        return [found[k] for k in sorted(found)]

    def timezone(self) -> str:
        location = self.entities.get("location", {}).get(self.location_id)
        return str(location["timezone"]) if location else "UTC"

    def today(self) -> date:
        return self.now.astimezone(ZoneInfo(self.timezone())).date()


def load_view(db_path: Path, desk_now: datetime) -> View:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        offset = float(meta.get("clock_offset_s") or 0.0)
        view = View(meta.get("location_id", ""), desk_now + timedelta(seconds=offset))
        marks = ",".join("?" * len(KINDS))
        for table in ("rows", "overlay"):  # the pending layer wins
            for kind, entity_id, data in conn.execute(
                f"SELECT kind, id, data FROM {table} WHERE kind IN ({marks})", KINDS
            ):
                view.entities.setdefault(kind, {})[entity_id] = json.loads(data)
    finally:
        conn.close()
    return view


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@dataclass(frozen=True)
class Choice:
    """A command to record: its name, arguments and the role of who gives it."""

    name: str
    args: dict[str, Any]
    role: str = "front_desk"
    scan_code: str | None = None  # check in by scanning this code instead


class Chooser:
    def __init__(self, view: View, rng: random.Random) -> None:
        self.v = view
        self.rng = rng
        self.sessions = [
            s for s in view.all("session")
            if s["location_id"] == view.location_id and s["status"] == "scheduled"
        ]
        self.bookings_of: dict[str, list[dict[str, Any]]] = {}
        for b in view.all("booking"):
            self.bookings_of.setdefault(b["session_id"], []).append(b)
        self.members = [m for m in view.all("member") if m["status"] == "active"]

    # -- picking ------------------------------------------------------------------------
    def pick(self, items: list[Any]) -> Any | None:
        return self.rng.choice(items) if items else None

    def member(self) -> dict[str, Any] | None:
        hot = self.members[:8]  # ids come from the seed: every desk has the same hot set
        return self.pick(hot if hot and self.rng.random() < 0.6 else self.members)

    def taken(self, session: dict[str, Any]) -> int:
        return sum(1 for b in self.bookings_of.get(session["id"], []) if b["status"] in HOLDS)

    def future(self) -> list[dict[str, Any]]:
        return [s for s in self.sessions if _time(s["start"]) > self.v.now]

    def session_to_book(self) -> dict[str, Any] | None:
        future = self.future()
        if future and self.rng.random() < 0.6:
            # The fullest classes soon: where desks race for the last places.
            soon = sorted(future, key=lambda s: _time(s["start"]))[:15]
            return self.pick(sorted(soon, key=lambda s: s["capacity"] - self.taken(s))[:3])
        return self.pick(future)

    def open_sessions(self) -> list[dict[str, Any]]:
        out = []
        for s in self.sessions:
            start, end = _time(s["start"]), _time(s["end"])
            closes = max(end, start + timedelta(minutes=30))
            if start - timedelta(minutes=60) <= self.v.now <= closes:
                out.append(s)
        return out

    def bookings_here(self, *statuses: str, sessions: list[dict[str, Any]] | None = None
                      ) -> list[dict[str, Any]]:
        return [
            b for s in (self.sessions if sessions is None else sessions)
            for b in self.bookings_of.get(s["id"], []) if b["status"] in statuses
        ]

    def plan(self, *kinds: str) -> dict[str, Any] | None:
        return self.pick([p for p in self.v.all("plan") if p["kind"] in kinds and p["active"]])

    def guest(self) -> dict[str, str]:
        n = self.rng.randrange(10**6)
        card = ""
        if self.rng.random() < 0.3:
            card = f"G{n % 50:04d}"  # few codes: two desks may hand out the same card
        return {"name": f"Guest {n}", "phone": f"139{n:08d}", "card_code": card}

    # -- commands -----------------------------------------------------------------------
    def choose(self, kind: str) -> Choice | None:
        found: Choice | None = getattr(self, f"_{kind}")()
        return found

    def _book(self) -> Choice | None:
        member, session = self.member(), self.session_to_book()
        if member is None or session is None:
            return None
        return Choice("book", {"member_id": member["id"], "session_id": session["id"]})

    def _book_override(self) -> Choice | None:
        member, session = self.member(), self.session_to_book()
        if member is None or session is None:
            return None
        return Choice("book", {"member_id": member["id"], "session_id": session["id"],
                               "override_capacity": True, "reason": REASON}, "manager")

    def _cancel(self) -> Choice | None:
        booking = self.pick(self.bookings_here("booked", "waitlisted"))
        if booking is None:
            return None
        if self.rng.random() < 0.2:
            return Choice("cancel_booking", {"booking_id": booking["id"], "waive_penalty": True,
                                             "reason": REASON}, "manager")
        return Choice("cancel_booking", {"booking_id": booking["id"]})

    def _check_in(self) -> Choice | None:
        opened = self.open_sessions()
        booking = self.pick(self.bookings_here("booked", "waitlisted", sessions=opened))
        if booking is not None:
            return Choice("check_in", {"member_id": booking["member_id"],
                                       "session_id": booking["session_id"]})
        member, session = self.member(), self.pick(opened)
        if member is None or session is None:
            return None
        return Choice("check_in", {"member_id": member["id"], "session_id": session["id"]})

    def _scan(self) -> Choice | None:
        booking = self.pick(self.bookings_here("booked", "checked_in",
                                               sessions=self.open_sessions()))
        member = (self.v.entities["member"].get(booking["member_id"]) if booking
                  else self.member())
        if member is None:
            return None
        code = member["card_code"] or member["id"]
        if self.rng.random() < 0.1:
            code = f"NOPE{self.rng.randrange(1000)}"
        return Choice("check_in", {}, scan_code=code)

    def _check_in_override(self) -> Choice | None:
        member, session = self.member(), self.pick(self.open_sessions())
        if member is None or session is None:
            return None
        return Choice("check_in", {"member_id": member["id"], "session_id": session["id"],
                                   "override": True, "reason": REASON}, "manager")

    def _walk_in(self) -> Choice | None:
        session = self.pick(self.open_sessions())
        drop_in = self.plan("drop_in")
        if session is None:
            return None
        args: dict[str, Any] = {"session_id": session["id"], "method": "cash",
                                "paid": self.rng.random() < 0.8}
        if self.rng.random() < 0.6:
            args["guest"] = self.guest()
        else:
            member = self.member()
            if member is None:
                return None
            args["member_id"] = member["id"]
        if drop_in is not None and ("guest" in args or self.rng.random() < 0.5):
            args["plan_id"] = drop_in["id"]
        return Choice("walk_in", args)

    def _no_show(self) -> Choice | None:
        started = [s for s in self.sessions if _time(s["start"]) <= self.v.now]
        booking = self.pick(self.bookings_here("booked", sessions=started)
                            or self.bookings_here("booked"))
        if booking is None:
            return None
        return Choice("mark_no_show", {"booking_id": booking["id"]})

    def _undo_check_in(self) -> Choice | None:
        booking = self.pick(self.bookings_here("checked_in", sessions=self.open_sessions()))
        if booking is None:
            return None
        return Choice("undo_check_in", {"booking_id": booking["id"]})

    def _sell(self) -> Choice | None:
        member, plan = self.member(), self.plan("pack", "membership", "drop_in")
        if member is None or plan is None:
            return None
        return Choice("sell", {"member_id": member["id"], "plan_id": plan["id"],
                               "method": self.rng.choice(("cash", "card", "wechat_pay")),
                               "paid": self.rng.random() < 0.8})

    def _top_up(self) -> Choice | None:
        member = self.member()
        if member is None:
            return None
        return Choice("top_up", {"member_id": member["id"], "method": "alipay",
                                 "amount_cents": self.rng.choice((5000, 15000, 30000))})

    def _entitlement(self, frozen: bool) -> dict[str, Any] | None:
        active = {m["id"] for m in self.members}
        return self.pick([
            e for e in self.v.all("entitlement")
            if e["member_id"] in active and e["kind"] in ("pack", "membership")
            and (e["frozen_from"] is not None) == frozen
        ])

    def _freeze(self) -> Choice | None:
        ent = self._entitlement(frozen=False)
        if ent is None:
            return None
        start = self.v.today() + timedelta(days=self.rng.randint(-1, 3))
        end = start + timedelta(days=self.rng.randint(0, 6))
        return Choice("freeze", {"entitlement_id": ent["id"], "start": start.isoformat(),
                                 "end": end.isoformat(), "reason": REASON}, "manager")

    def _unfreeze(self) -> Choice | None:
        ent = self._entitlement(frozen=True)
        if ent is None:
            return None
        return Choice("unfreeze", {"entitlement_id": ent["id"],
                                   "on": self.v.today().isoformat()}, "manager")

    def _edit_member(self) -> Choice | None:
        member = self.member()
        if member is None:
            return None
        args: dict[str, Any] = {"member_id": member["id"]}
        roll = self.rng.random()
        if roll < 0.3:
            other = self.pick(self.members)
            args["card_code"] = (other["card_code"] if other and self.rng.random() < 0.3
                                 else f"C{self.rng.randrange(40):04d}")
        elif roll < 0.6:
            args["phone"] = f"137{self.rng.randrange(10**8):08d}"
        elif roll < 0.8:
            args["notes"] = self.rng.choice(("", "Knee injury", "Prefers front row"))
        else:
            args["name"] = f"{member['name'].split(' #')[0]} #{self.rng.randrange(100)}"
        return Choice("edit_member", args)

    def _merge(self) -> Choice | None:
        hot = self.members[:8]
        pool = hot if len(hot) >= 2 and self.rng.random() < 0.7 else self.members
        if len(pool) < 2:
            return None
        keep, gone = self.rng.sample(pool, 2)
        return Choice("merge_members", {"keep_id": keep["id"], "merge_id": gone["id"]},
                      "manager")

    def _add_member(self) -> Choice | None:
        return Choice("add_member", self.guest())

    def _waive(self) -> Choice | None:
        booking = self.pick([b for b in self.bookings_here("late_cancelled", "no_show")
                             if not b["penalty_waived"]])
        if booking is None:
            return None
        return Choice("waive_penalty", {"booking_id": booking["id"], "reason": REASON},
                      "manager")

    def _mark_paid(self) -> Choice | None:
        sale = self.pick([s for s in self.v.all("sale") if not s["paid"] and not s["void"]])
        if sale is None:
            return None
        return Choice("mark_paid", {"sale_id": sale["id"], "method": "card"})

    def _refund(self) -> Choice | None:
        sale = self.pick([s for s in self.v.all("sale")
                          if s["paid"] and s["amount_cents"] > s["refunded_cents"]])
        if sale is None:
            return None
        left = sale["amount_cents"] - sale["refunded_cents"]
        amount = left if self.rng.random() < 0.5 else max(1, left // 2)
        return Choice("refund", {"sale_id": sale["id"], "amount_cents": amount,
                                 "reason": REASON}, "manager")

    def _capacity(self) -> Choice | None:
        session = self.session_to_book()
        if session is None:
            return None
        capacity = max(0, self.taken(session) + self.rng.randint(-1, 2))
        return Choice("change_capacity", {"session_id": session["id"], "capacity": capacity},
                      "manager")

    def _promote(self) -> Choice | None:
        booking = self.pick(self.bookings_here("waitlisted"))
        if booking is None:
            return None
        if self.rng.random() < 0.5:
            return Choice("promote_from_waitlist", {"booking_id": booking["id"],
                                                    "override_capacity": True,
                                                    "reason": REASON}, "manager")
        return Choice("promote_from_waitlist", {"booking_id": booking["id"]})

    def _cancel_session(self) -> Choice | None:
        session = self.pick(self.future())
        if session is None:
            return None
        return Choice("cancel_session", {"session_id": session["id"], "reason": REASON},
                      "manager")

    def _feedback(self) -> Choice | None:
        member = self.member()
        if member is None:
            return None
        return Choice("record_feedback", {"member_id": member["id"],
                                          "rating": self.rng.randint(1, 5), "comment": "ok"})

    def _sign_waiver(self) -> Choice | None:
        member = self.pick([m for m in self.members if m["waiver_signed_at"] is None])
        if member is None:
            return None
        return Choice("sign_waiver", {"member_id": member["id"]})


def cli_args(kind: str, chooser: Chooser) -> list[str] | None:
    """The `frontdesk` command line of a desk job, or None when nothing fits."""
    if kind == "book":
        choice = chooser.choose("book")
        return None if choice is None else ["book", choice.args["member_id"],
                                            choice.args["session_id"]]
    if kind == "checkin":
        choice = chooser.choose("check_in")
        if choice is None:
            return None
        return ["checkin", choice.args["member_id"], "--session", choice.args["session_id"]]
    if kind == "cancel":
        choice = chooser.choose("cancel")
        return None if choice is None else ["cancel", choice.args["booking_id"]]
    session = chooser.pick(chooser.open_sessions())
    plan = chooser.plan("drop_in")
    if session is None or plan is None:
        return None
    guest = chooser.guest()
    return ["walk-in", session["id"], "--name", guest["name"], "--plan", plan["id"]]
