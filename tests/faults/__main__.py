"""`python -m tests.faults --runs N`: the long fault campaign (see campaign.py)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
from pathlib import Path

from tests.faults.campaign import RESULTS, environments, replay, run_campaign, run_parallel


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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="frontdesk-faults-") as tmp:
        workdir = args.workdir or Path(tmp)
        if args.replay:
            schedule = json.loads(args.replay.read_text())
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
        worker = tuple(int(n) for n in args.worker.split("/")) if args.worker else (0, 1)
        tally = run_campaign(args.runs, seed_base=args.seed_base, backends=args.backend,
                             workdir=workdir, out=args.out, shrink_s=args.shrink_seconds,
                             log=lambda line: print(line, flush=True),
                             worker=(worker[0], worker[1]))
    if not args.worker:
        print(json.dumps(tally.document(args.seed_base), indent=1))
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())
