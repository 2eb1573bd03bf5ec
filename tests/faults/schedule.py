"""Seeded random schedules: front-desk commands on several desks, mixed with faults.

A schedule is plain JSON, so a failing one can be printed, shrunk, saved and replayed.
Each step carries its own `pick` seed: the arguments of a command (which member, which
class) are chosen when the step runs, from what that desk sees then, with that seed.
Dropping steps while shrinking therefore leaves every other step's choices alone.
"""

from __future__ import annotations

import random
from typing import Any

Schedule = dict[str, Any]
Step = dict[str, Any]

#: Commands staff give at the desk, by weight. Each is resolved by `actions.choose`.
COMMANDS: dict[str, int] = {
    "book": 22,
    "book_override": 4,
    "cancel": 10,
    "check_in": 14,
    "scan": 5,
    "check_in_override": 3,
    "walk_in": 6,
    "no_show": 4,
    "undo_check_in": 3,
    "sell": 6,
    "top_up": 2,
    "freeze": 3,
    "unfreeze": 1,
    "edit_member": 5,
    "merge": 3,
    "add_member": 2,
    "waive": 2,
    "mark_paid": 2,
    "refund": 2,
    "capacity": 2,
    "promote": 2,
    "cancel_session": 1,
    "feedback": 1,
    "sign_waiver": 1,
}

#: Faults, by weight; see `harness.Run` for what each does.
FAULTS: dict[str, int] = {
    "partition": 8,
    "partition_all": 4,
    "drop_answer": 6,
    "duplicate": 5,
    "error500": 3,
    "delay": 3,
    "kill_sync": 5,
    "kill_sync_after_commit": 5,
    "kill_live": 3,
    "kill_cloud": 2,
    "kill_cloud_after_commit": 2,
    "restart_cloud": 1,
    "clock": 3,
    "kill_cli": 3,
}

#: Faults that restart the cloud (about four seconds each on two cores).
CLOUD_FAULTS = frozenset({"kill_cloud", "kill_cloud_after_commit", "restart_cloud"})

SYNC_PATHS = ("/v1/sync/push", "/v1/sync/pull")


def _weighted(rng: random.Random, table: dict[str, int]) -> str:
    names = list(table)
    return rng.choices(names, [table[n] for n in names])[0]


def _skew(rng: random.Random) -> float:
    """A desk clock: mostly right, sometimes a little off, sometimes up to a day off."""
    roll = rng.random()
    if roll < 0.6:
        return 0.0
    if roll < 0.8:
        return float(rng.randint(-240, 240))  # within the studio's tolerance
    return float(rng.randint(-24 * 3600, 24 * 3600))


def generate(
    seed: int, *, backend: str = "sqlite", commands: int = 100, desks: int | None = None
) -> Schedule:
    """The schedule of one run: about `commands` commands and a handful of faults."""
    rng = random.Random(seed)
    count = desks or rng.choice((3, 3, 4) if backend == "sqlite" else (4, 5))
    desk_specs = [
        {
            # Most desks share the first location, so they compete for the same classes.
            "location": 0 if n < count - 1 or rng.random() < 0.5 else 1,
            "skew_s": _skew(rng),
            "live": n == 0 or rng.random() < 0.15,
        }
        for n in range(count)
    ]
    steps: list[Step] = []
    fault_count = rng.randint(3, 7)
    cloud_faults = 0
    partitioned: set[int] = set()
    fault_at = sorted(rng.sample(range(5, commands), fault_count))
    for index in range(commands):
        desk = rng.randrange(count)
        if rng.random() < 0.01:
            steps.append({"op": "cli", "desk": desk, "kind": rng.choice(("book", "checkin",
                          "cancel", "walk_in")), "pick": rng.getrandbits(32), "kill_ms": None})
        else:
            steps.append({"op": "cmd", "desk": desk, "kind": _weighted(rng, COMMANDS),
                          "pick": rng.getrandbits(32)})
        if index in fault_at:
            kind = _weighted(rng, FAULTS)
            while kind in CLOUD_FAULTS and cloud_faults >= 1:
                kind = _weighted(rng, FAULTS)
            cloud_faults += kind in CLOUD_FAULTS
            steps.append(_fault(rng, kind, count, partitioned))
        if rng.random() < 0.05:
            chosen = sorted(rng.sample(range(count), rng.randint(1, count)))
            steps.append({"op": "sync", "desks": chosen})
        if partitioned and rng.random() < 0.004:
            # A long outage: desks in backoff must still notice the network healing (by
            # then a live sync has backed off to 4-8 s between tries).
            steps.append({"op": "idle", "seconds": rng.randint(3, 8)})
        if partitioned and rng.random() < 0.05:
            steps.append({"op": "reconnect", "desks": sorted(partitioned)})
            partitioned.clear()
    return {
        "seed": seed,
        "backend": backend,
        "members": 40,
        "seed_age_min": rng.randint(0, 45),
        "desks": desk_specs,
        "steps": steps,
    }


def _fault(rng: random.Random, kind: str, desks: int, partitioned: set[int]) -> Step:
    desk = rng.randrange(desks)
    if kind == "partition":
        partitioned.add(desk)
        return {"op": "partition", "desks": [desk]}
    if kind == "partition_all":
        partitioned.update(range(desks))
        return {"op": "partition", "desks": list(range(desks))}
    if kind in ("drop_answer", "duplicate"):
        return {"op": kind, "desk": desk, "path": rng.choice(SYNC_PATHS),
                "skip": rng.randint(0, 3)}
    if kind == "error500":
        return {"op": kind, "desk": desk, "path": rng.choice(SYNC_PATHS), "skip": rng.randint(0, 6)}
    if kind == "delay":
        return {"op": kind, "desks": sorted(rng.sample(range(desks), min(desks, 2))),
                "count": rng.randint(1, 6)}
    if kind == "kill_sync":
        return {"op": kind, "desk": desk, "after": rng.randint(1, 26)}
    if kind == "kill_sync_after_commit":
        return {"op": kind, "desk": desk}
    if kind == "kill_live":
        return {"op": kind, "desk": desk, "restart": rng.random() < 0.7}
    if kind == "kill_cloud":
        return {"op": kind, "after": rng.randint(0, 40)}
    if kind == "kill_cloud_after_commit":
        return {"op": kind, "desk": desk}
    if kind == "restart_cloud":
        return {"op": kind}
    if kind == "clock":
        return {"op": kind, "desk": desk, "skew_s": _skew(rng)}
    if kind == "kill_cli":
        return {"op": "cli", "desk": desk, "kind": rng.choice(("book", "checkin", "cancel",
                "walk_in")), "pick": rng.getrandbits(32), "kill_ms": rng.randint(300, 1600)}
    raise ValueError(kind)


def fault_kinds(schedule: Schedule) -> list[str]:
    """The faults a schedule injects, by kind (for the campaign's tally)."""
    kinds = []
    count = len(schedule["desks"])
    for step in schedule["steps"]:
        op = step["op"]
        if op in ("cmd", "sync", "reconnect", "idle"):
            continue
        if op == "cli":
            if step.get("kill_ms") is not None:
                kinds.append("kill_cli")
            continue
        if op == "partition":
            kinds.append("partition_all" if len(step["desks"]) == count > 1 else "partition")
            continue
        kinds.append(op)
    kinds += ["clock_skew" for d in schedule["desks"] if d["skew_s"]]
    return kinds
