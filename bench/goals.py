"""Issue 14's table: each measure beside its floor or peer and its goal, measured now.

    .venv/bin/python bench/goals.py ../shared/data/tweeteval-sentiment [--requests 300]

Runs bench/source_latency.py, bench/ack_latency.py (against PostgreSQL and Redis when
DATABASE_URL / REDIS_URL are set, else SQLite and the embedded redis-server) and
bench/transformer_variants.py on the default network as a scoring worker runs it (texts/s,
macro recall, peak RSS) and bench/scoring_speed.py's HF pipeline, and prints one row per
measure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from devtools.stack import cpu_model
from scoring.transformer import WEIGHTS

HERE = Path(__file__).resolve().parent


def run(script: str, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, str(HERE / script), *args], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    latency = run("source_latency.py", "--json")
    ack = run("ack_latency.py", "--requests", str(args.requests), "--json")["p99_ms"]
    data = str(args.data_dir)
    ours = run("transformer_variants.py", data, "--one", str(WEIGHTS), "auto")
    pipeline = run("scoring_speed.py", data, "--one", "hf-pipeline")
    rows = [
        (
            "analyze x,reddit (every call 0.6 s late): command to report",
            f"{latency['total_s']:.2f} s",
            f"slowest source {latency['floor_s']:.2f} s; all {latency['sum_s']:.2f} s",
            "≤ slowest + 1 s",
            latency["total_s"] <= latency["floor_s"] + 1.0,
        ),
        (
            "ack p99, one client at a time",
            f"{ack['sentibot']['1']:.1f} ms",
            f"bare Bolt app {ack['bare']['1']:.1f} ms",
            "≤ 2× the bare app",
            ack["sentibot"]["1"] <= 2 * ack["bare"]["1"],
        ),
        (
            "ack p99, 8 clients at once",
            f"{ack['sentibot']['8']:.1f} ms",
            f"bare Bolt app {ack['bare']['8']:.1f} ms",
            "≤ 2× the bare app",
            ack["sentibot"]["8"] <= 2 * ack["bare"]["8"],
        ),
        (
            "transformer texts/s, 2,000 validation tweets (median of 3 passes)",
            f"{ours['texts_per_s']:.0f} ({ours['precision']}, macro recall "
            f"{ours['macro_recall']:.3f})",
            f"HF pipeline fp32 {pipeline['texts_per_s']:.0f}",
            "≥ 400, macro recall ≥ 0.735",
            ours["texts_per_s"] >= 400 and ours["macro_recall"] >= 0.735,
        ),
        (
            "scoring peak RSS (transformer)",
            f"{ours['peak_rss_mb']:.0f} MB",
            "—",
            "≤ 600 MB",
            ours["peak_rss_mb"] <= 600,
        ),
    ]
    print(f"machine: {os.cpu_count()} cores, {cpu_model()}")
    print("| measure | now | floor / peer | goal | met |")
    print("| --- | --- | --- | --- | --- |")
    for measure, now, floor, goal, met in rows:
        print(f"| {measure} | {now} | {floor} | {goal} | {'yes' if met else 'no'} |")


if __name__ == "__main__":
    main()
