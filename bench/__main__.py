"""`python -m bench [--quick]`: run the benchmarks, print the table, write latest.json."""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from . import data, desk_local
from .common import Result, stopwatch, write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="small data, no bars judged")
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    members = 2_000 if args.quick else args.members
    repeat = 50 if args.quick else 2_000
    now = datetime.now(UTC)
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        ref = data.build(members, now)
        with stopwatch() as took:
            replica = data.load(Path(tmp) / "bench.db", ref)
        print(f"reference replica: {members} members loaded in {took[0]:.1f} s", file=sys.stderr)
        results.append(desk_local.search(replica, ref, repeat))
        results.append(desk_local.checkin(replica, ref, min(repeat, 100)))
        replica.close()
    for result in results:
        print(result.line())
    path = write(results, args.out)
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
