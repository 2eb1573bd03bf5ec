"""The cloud under load on PostgreSQL: connected desks and commands a second (bench.load)."""

from __future__ import annotations

import json
import subprocess
import sys

from .common import Result
from .procs import ROOT, Cloud, cpu_seconds, finish


def cloud_load(cloud: Cloud, desks: int, rate: float, seconds: float) -> Result:
    staff = cloud.access("desk-sh")
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.load", cloud.url, json.dumps(staff), cloud.location,
         "--desks", str(desks), "--rate", str(rate), "--seconds", str(seconds)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        raise RuntimeError(f"the load generator did not start: {finish(process)}")
    cloud_cpu0 = cloud.cpu()
    gen_cpu0 = cpu_seconds(process.pid)
    if process.stdout.readline().strip() != "done":
        raise RuntimeError(f"the load generator stopped: {finish(process)}")
    cloud_cpu = cloud.cpu() - cloud_cpu0
    gen_cpu = cpu_seconds(process.pid) - gen_cpu0
    report = finish(process, timeout=120)
    p99 = float(report["p99_ms"])
    errors = int(report["push_errors"]) + int(report["live_errors"])
    wall = float(report["wall_s"])
    ok = p99 <= 100.0 and errors == 0 and int(report["rejected"]) == 0
    note = (f"{report['desks']} desks holding the live poll ({report['min_holding']} at least "
            f"while pushing), {report['sent']} commands at {report['rate']:.0f}/s for "
            f"{seconds:.0f} s; p50 {report['p50_ms']:.1f} ms, max {report['max_ms']:.0f} ms; "
            f"errors {errors} (push {report['push_errors']}, live {report['live_errors']}), "
            f"rejected {report['rejected']}; {report['live_answers']} live answers; CPU over "
            f"{wall:.0f} s: cloud {cloud_cpu:.1f} s ({cloud_cpu / wall:.0%} of a core), "
            f"generator {gen_cpu:.1f} s ({gen_cpu / wall:.0%})")
    if report["errors"]:
        note += f"; first errors: {report['errors'][:2]}"
    return Result("cloud_load", p99, "ms", "p99 <= 100 ms", ok, p50=report["p50_ms"],
                  p95=report["p95_ms"], p99=p99, note=note)
