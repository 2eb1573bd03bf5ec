"""`python -m tests.faults --runs N`: the long fault campaign (see campaign.py)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
from pathlib import Path

from tests.faults.campaign import RESULTS, environments, replay, run_campaign, run_parallel
from tests.faults.schedule import Schedule


def _stop(signum: int, _frame: object) -> None:
    """SIGTERM (a stopped `make faults`) unwinds like Ctrl-C: clouds, PostgreSQL, desks go."""
    raise SystemExit(128 + signum)


def main() -> int:
    signal.signal(signal.SIGTERM, _stop)
    parser = argparse.ArgumentParser(prog="python -m tests.faults")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--seed-base", type=int, default=1)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--shrink-seconds", type=float, default=900.0,
                        help="time to spend shrinking each failing schedule")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    parser.add_argument("--workdir", type=Path, help="where clouds and desks live (temp dir)")
    parser.add_argument("--replay", type=Path, help="run one schedule file and report")
    parser.add_argument("--jobs", type=int, default=1,
                        help="worker processes, each with its own cloud and desks")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # "k/n": the runs of worker k
    parser.add_argument("--failures-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    worker = (0, 1)
    if args.worker:
        first, _, count = args.worker.partition("/")
        if not (first.isdigit() and count.isdigit() and int(first) < int(count)):
            parser.error("--worker is K/N with 0 <= K < N")
        worker = (int(first), int(count))
    schedule = _schedule(parser, args.replay) if args.replay else None
    with tempfile.TemporaryDirectory(prefix="frontdesk-faults-") as tmp:
        workdir = args.workdir or Path(tmp)
        if schedule is not None:
            with environments(workdir) as envs:
                result = replay(envs, schedule, workdir)
            print(result.report.summary())
            return 0 if result.ok else 1
        if args.jobs > 1 and not args.worker:
            document = run_parallel(args.runs, args.jobs, seed_base=args.seed_base,
                                    backends=args.backend, workdir=workdir, out=args.out,
                                    shrink_s=args.shrink_seconds,
                                    log=lambda line: print(line, flush=True))
            print(json.dumps(document, indent=1))
            return 1 if document["failures"] else 0
        tally = run_campaign(args.runs, seed_base=args.seed_base, backends=args.backend,
                             workdir=workdir, out=args.out, shrink_s=args.shrink_seconds,
                             log=lambda line: print(line, flush=True),
                             worker=worker, failures=args.failures_dir)
    if args.worker:
        return 0  # ran every seed it was given; the parent reads the failures in its tally
    print(json.dumps(tally.document(args.seed_base), indent=1))
    return 1 if tally.failures else 0


def _schedule(parser: argparse.ArgumentParser, path: Path) -> Schedule:
    """A schedule file to replay, or a clear error (never a traceback)."""
    try:
        schedule = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        parser.error(f"cannot read {path}: {exc.strerror}")
    except ValueError as exc:
        parser.error(f"{path} is not JSON: {exc}")
    if not isinstance(schedule, dict) or not {"seed", "backend", "desks", "steps"} <= set(
            schedule):
        parser.error(f"{path} is not a schedule (it needs seed, backend, desks and steps; "
                     "see results/failures/ for saved ones)")
    if schedule["backend"] not in ("sqlite", "postgres"):
        parser.error(f"{path}: backend must be sqlite or postgres")
    return schedule


if __name__ == "__main__":
    sys.exit(main())
