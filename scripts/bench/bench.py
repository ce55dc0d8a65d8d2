"""Side-by-side benchmark: `mlflow models serve` and the mlstack API on the same registered versions.

For each reference model it starts both servers with the same worker count, pinned to core 0 where
the machine has two cores, and drives them with wrk pinned to the other core, interleaving the two
servers round by round so drift hits both. It records req/s, rows/s, p50/p99/p99.9 latency, errors and
RSS per worker, plus our `/healthz` (the HTTP stack's ceiling), and checks the issue's targets.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from pathlib import Path
from statistics import median

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
MODELS = [  # (registered name, dataset, family)
    ("bench-iris-logistic", "sklearn:iris", "logistic"),
    ("bench-wine-forest", "sklearn:wine", "random_forest"),
    ("bench-cancer-hgb", "sklearn:breast_cancer", "hist_gradient_boosting"),
]
CONNECTIONS = (1, 16, 64)
BATCH_ROWS = 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not answer 200 within {timeout:.0f}s")


def pinned(core: int | None) -> list[str]:
    return ["taskset", "-c", str(core)] if core is not None else []


class Server:
    def __init__(self, name: str, command: list[str], env: dict[str, str], ready_url: str, log: Path) -> None:
        self.name = name
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            command, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_http(ready_url)

    def rss_per_worker_mb(self, field: str = "VmRSS") -> float:
        """Mean RSS (or, with field="VmHWM", peak RSS) of the processes that serve (the leaves of the
        process tree)."""
        children: dict[int, list[int]] = defaultdict(list)
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
            except OSError:
                continue
            children[int(fields["PPid"])].append(int(fields["Pid"]))
        tree, frontier = [], [self.proc.pid]
        while frontier:
            pid = frontier.pop()
            tree.append(pid)
            frontier.extend(children.get(pid, []))
        leaves = [pid for pid in tree if not children.get(pid)] or [self.proc.pid]
        sizes = []
        for pid in leaves:
            match = re.search(rf"{field}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
            sizes.append(int(match.group(1)) / 1024 if match else 0.0)
        return sum(sizes) / len(sizes)

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


def wrk(url: str, body: Path | None, connections: int, seconds: int, core: int | None) -> dict:
    env = {**os.environ, "BENCH_BODY": str(body or os.devnull), "BENCH_METHOD": "POST" if body else "GET"}
    command = [
        *pinned(core),
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(HERE / "wrk-report.lua"),
        url,
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    line = next(line for line in done.stdout.splitlines() if line.startswith("BENCH "))
    result = json.loads(line.removeprefix("BENCH "))
    result["rps"] = result["requests"] / result["seconds"]
    return result


def train(tracking_uri: str, state: Path) -> None:
    for name, data, family in MODELS:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "training",
                "--data",
                data,
                "--model",
                family,
                "--model-name",
                name,
                "--experiment",
                "bench",
                "--tracking-uri",
                tracking_uri,
                "--log-level",
                "WARNING",
            ],
            check=True,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )


def bodies(name: str, data: str, folder: Path) -> dict[str, Path]:
    """Request bodies for both servers: one record, and BATCH_ROWS records (dataset rows repeated)."""
    from training.data import load_dataset

    frame = load_dataset(data, None).features
    rows = frame.to_dict(orient="records")
    batch = [rows[i % len(rows)] for i in range(BATCH_ROWS)]
    out = {}
    for label, payload in (
        ("mlflow-single", {"dataframe_records": rows[:1]}),
        ("ours-single", {"inputs": rows[0]}),
        ("mlflow-batch", {"dataframe_records": batch}),
        ("ours-batch", {"instances": batch}),
    ):
        path = folder / f"{name}-{label}.json"
        path.write_text(json.dumps(payload))
        out[label] = path
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", "10")))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", "2")))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--models", default=",".join(m[0] for m in MODELS))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    two_cores = (os.cpu_count() or 1) >= 2
    server_core, load_core = (0, 1) if two_cores else (None, None)
    state = Path(tempfile.mkdtemp(prefix="mlstack-bench-"))
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    mlflow_port = free_port()
    tracking = Server(
        "tracking",
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(mlflow_port),
            "--backend-store-uri",
            f"sqlite:///{state}/mlflow.db",
            "--artifacts-destination",
            str(state / "artifacts"),
            "--workers",
            "1",
        ],
        env,
        f"http://127.0.0.1:{mlflow_port}/health",
        args.out / "tracking.log",
    )
    tracking_uri = f"http://127.0.0.1:{mlflow_port}"
    results: list[dict] = []
    try:
        train(tracking_uri, state)
        for name, data, _ in MODELS:
            if name not in args.models.split(","):
                continue
            body = bodies(name, data, state)
            theirs_port, ours_port = free_port(), free_port()
            serve_env = {**env, "MLFLOW_TRACKING_URI": tracking_uri}
            theirs = Server(
                "mlflow",
                [
                    *pinned(server_core),
                    sys.executable,
                    "-m",
                    "mlflow",
                    "models",
                    "serve",
                    "-m",
                    f"models:/{name}@production",
                    "--env-manager",
                    "local",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(theirs_port),
                    "--workers",
                    str(args.workers),
                ],
                serve_env,
                f"http://127.0.0.1:{theirs_port}/health",
                args.out / f"{name}-mlflow.log",
            )
            ours = Server(
                "mlstack",
                [
                    *pinned(server_core),
                    sys.executable,
                    "-m",
                    "api",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(ours_port),
                    "--workers",
                    str(args.workers),
                    "--log-level",
                    "WARNING",
                ],
                {**serve_env, "MLSTACK_MODEL_NAME": name, "MLSTACK_MODEL_CACHE_DIR": str(state / "cache")},
                f"http://127.0.0.1:{ours_port}/readyz",
                args.out / f"{name}-mlstack.log",
            )
            try:
                targets = {
                    "mlflow": (f"http://127.0.0.1:{theirs_port}/invocations", "mlflow"),
                    "mlstack": (f"http://127.0.0.1:{ours_port}/v1/predict", "ours"),
                }
                for round_no in range(args.rounds):
                    for shape in ("single", "batch"):
                        for connections in CONNECTIONS:
                            order = ("mlflow", "mlstack") if round_no % 2 == 0 else ("mlstack", "mlflow")
                            for server in order:
                                url, prefix = targets[server]
                                r = wrk(url, body[f"{prefix}-{shape}"], connections, args.seconds, load_core)
                                rows = 1 if shape == "single" else BATCH_ROWS
                                results.append(
                                    {
                                        "model": name,
                                        "server": server,
                                        "shape": shape,
                                        "connections": connections,
                                        "round": round_no,
                                        "rows_per_s": r["rps"] * rows,
                                        **r,
                                    }
                                )
                            if shape == "single":
                                h = wrk(
                                    f"http://127.0.0.1:{ours_port}/healthz",
                                    None,
                                    connections,
                                    args.seconds,
                                    load_core,
                                )
                                results.append(
                                    {
                                        "model": name,
                                        "server": "mlstack-healthz",
                                        "shape": "healthz",
                                        "connections": connections,
                                        "round": round_no,
                                        "rows_per_s": 0,
                                        **h,
                                    }
                                )
                rss = {"mlflow": theirs.rss_per_worker_mb(), "mlstack": ours.rss_per_worker_mb()}
                peak = {
                    "mlflow": theirs.rss_per_worker_mb("VmHWM"),
                    "mlstack": ours.rss_per_worker_mb("VmHWM"),
                }
                for row in results:
                    if row["model"] == name and row["server"] in rss:
                        row["rss_mb_per_worker"] = rss[row["server"]]
                        row["peak_rss_mb_per_worker"] = peak[row["server"]]
                sys.stderr.write(f"{name}: done (RSS per worker: {rss}, peak: {peak})\n")
            finally:
                theirs.stop()
                ours.stop()
    finally:
        tracking.stop()
    return report(results, args.out)


def report(results: list[dict], out: Path) -> int:
    (out / "results.json").write_text(json.dumps(results, indent=2))
    fields = [
        "model",
        "server",
        "shape",
        "connections",
        "round",
        "rps",
        "rows_per_s",
        "p50_ms",
        "p99_ms",
        "p999_ms",
        "errors",
        "requests",
        "seconds",
        "rss_mb_per_worker",
        "peak_rss_mb_per_worker",
    ]
    with (out / "results.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(results)

    def med(model: str, server: str, shape: str, conns: int, key: str) -> float:
        values = [
            r[key]
            for r in results
            if (r["model"], r["server"], r["shape"], r["connections"]) == (model, server, shape, conns)
        ]
        return median(values) if values else float("nan")

    checks = []
    for model in sorted({r["model"] for r in results}):
        for conns in (16, 64):
            ratio = med(model, "mlstack", "single", conns, "rps") / med(
                model, "mlflow", "single", conns, "rps"
            )
            checks.append((model, f"single-record req/s vs mlflow at {conns} conns", ratio, ">=", 5.0))
        ratio = med(model, "mlstack", "single", 64, "p99_ms") / med(model, "mlflow", "single", 64, "p99_ms")
        checks.append((model, "p99 at 64 conns vs mlflow", ratio, "<=", 0.2))
        ratio = med(model, "mlstack", "batch", 16, "rows_per_s") / med(
            model, "mlflow", "batch", 16, "rows_per_s"
        )
        checks.append((model, "1000-row batch rows/s vs mlflow (16 conns)", ratio, ">=", 3.0))
        ours = next(
            r["rss_mb_per_worker"] for r in results if r["model"] == model and r["server"] == "mlstack"
        )
        theirs = next(
            r["rss_mb_per_worker"] for r in results if r["model"] == model and r["server"] == "mlflow"
        )
        checks.append((model, "RSS per worker vs mlflow", ours / theirs, "<=", 1.0))
        ratio = med(model, "mlstack", "single", 64, "rps") / med(
            model, "mlstack-healthz", "healthz", 64, "rps"
        )
        checks.append((model, "single-record req/s vs our /healthz at 64 conns", ratio, ">=", 0.6))
    lines = ["| model | check | ratio | target | met |", "|---|---|---|---|---|"]
    failed = 0
    for model, what, ratio, op, target in checks:
        met = ratio >= target if op == ">=" else ratio <= target
        failed += not met
        lines.append(f"| {model} | {what} | {ratio:.2f} | {op} {target} | {'yes' if met else 'NO'} |")
    summary = "\n".join(lines)
    (out / "summary.md").write_text(summary + "\n")
    sys.stdout.write(summary + "\n")
    chart(results, out / "chart.png")
    return 1 if failed else 0


def chart(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = sorted({r["model"] for r in results})
    fig, axes = plt.subplots(len(models), 3, figsize=(15, 4 * len(models)), squeeze=False)
    for row, model in enumerate(models):
        for col, (shape, key, label) in enumerate(
            (
                ("single", "rps", "single record: req/s"),
                ("single", "p99_ms", "single record: p99 ms"),
                ("batch", "rows_per_s", "1000-row batch: rows/s"),
            )
        ):
            ax = axes[row][col]
            for server in ("mlflow", "mlstack") + (("mlstack-healthz",) if key == "rps" else ()):
                wanted = "healthz" if server == "mlstack-healthz" else shape
                points = [
                    (
                        c,
                        median(
                            [
                                r[key]
                                for r in results
                                if (r["model"], r["server"], r["shape"], r["connections"])
                                == (model, server, wanted, c)
                            ]
                            or [float("nan")]
                        ),
                    )
                    for c in CONNECTIONS
                ]
                ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=server)
            ax.set_xscale("log", base=2)
            ax.set_xticks(CONNECTIONS, [str(c) for c in CONNECTIONS])
            ax.set_title(f"{model}: {label}")
            ax.set_xlabel("connections")
            ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=80)


if __name__ == "__main__":
    sys.exit(main())
