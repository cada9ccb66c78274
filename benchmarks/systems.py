"""The systems under load, each a separate process on 127.0.0.1: start, time to first 200, stop."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockserver.contract import Contract
from mockserver.serving.ports import free_port

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CONTRACT = ROOT / "openapi.yaml"
API_KEY = "pk-bench"
API_KEY_HEADER = Contract.load().require_api_key_header()
PRISM = HERE / "node_modules" / ".bin" / "prism"


KEY_WORKLOADS = ("retrieve", "list", "mixed", "create")  # on virtual keys
LIFECYCLES = ("configs",)
"""Create, retrieve, list, update, delete in turn, on a resource the engine serves (mixed's on configs)."""
PRISM_WORKLOADS = ("retrieve", "list", "create")  # Prism is stateless: no update or delete of what it made


@dataclass
class System:
    """How to start one system and where it answers."""

    name: str
    command: list[str]
    base: str  # path prefix of the API: "/v1", or "" for Prism (it ignores the servers' paths)
    ready_path: str  # the first path that answers 200 once it is up
    port: int
    missing: str | None = None  # why it cannot run here, if it cannot
    env: dict[str, str] = field(default_factory=dict)  # added to the process's environment
    workloads: tuple[str, ...] = KEY_WORKLOADS
    """What it is measured on: the virtual-key workloads; the configs lifecycle where it serves configs."""
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    start_cpu: float = 0.0
    """CPU seconds (user and system) the last start took, its process and children together."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> float:
        """Start the process; seconds from its start to the first 200 on `ready_path`."""
        with tempfile.TemporaryFile() as errors:  # the child keeps its own handle on it
            began = time.perf_counter()
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                env={**os.environ, **self.env} if self.env else None,
            )
            deadline = began + timeout
            while time.perf_counter() < deadline:
                if self.process.poll() is not None:
                    errors.seek(0)
                    said = errors.read().decode(errors="replace").strip()[-500:]
                    raise RuntimeError(f"{self.name} exited with status {self.process.returncode}: {said}")
                if _answers_200(self.url + self.ready_path):
                    seconds = time.perf_counter() - began
                    self.start_cpu = _tree_cpu(self.process.pid)
                    return seconds
                time.sleep(0.002)  # poll interval, bounded by the deadline
        self.stop()
        raise TimeoutError(f"{self.name} did not answer within {timeout} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def rss_bytes(self) -> int:
        """Resident memory of the process, from /proc."""
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS in /proc")

    def create_key(self) -> str:
        """Create one virtual key through the API; its slug (Prism answers its example's)."""
        body = {"name": "bench key", "provider": "openai", "key": "sk-bench-00000000wxyz"}
        return self._create("/virtual-keys", body)["data"]["slug"]

    def create_config(self) -> str:
        """Create one config through the API; its slug."""
        return self._create("/configs", {"name": "bench config", "config": {"retry": {"attempts": 3}}})[
            "slug"
        ]

    def _create(self, path: str, body: dict[str, object]) -> Any:
        request = urllib.request.Request(
            f"{self.url}{self.base}{path}",
            data=json.dumps(body).encode(),
            headers={API_KEY_HEADER: API_KEY, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)


DEFAULT_SERVER = "granian"  # the mock's command line default
REDIS_MISSING = "redis-server is not installed (apt-get install redis-server)"


def _named(name: str, server: str) -> str:
    return name if server == DEFAULT_SERVER else f"{name}/{server}"


def mock(server: str = DEFAULT_SERVER, seed: Path | None = None, name: str = "mock") -> System:
    """The mock in its default configuration (full validation, memory store), from its command line."""
    port = free_port()
    if server == "gunicorn":
        return _on_server(_named(name, server), server, "mockserver.app:create_app", port)
    command = [sys.executable, "-m", "mockserver.cli", "serve", "--port", str(port), "--server", server]
    command += ["--seed", str(seed)] if seed else []
    return System(_named(name, server), command, "/v1", "/__mock/health", port)


def mock_redis(redis_url: str | None) -> System:
    """The mock with the Redis store, one process on the default server: to compare with memory."""
    port = free_port()
    command = [sys.executable, "-m", "mockserver.cli", "serve", "--port", str(port)]
    command += ["--store", redis_url or "", "--redis-prefix", "bench-redis"]
    missing = None if redis_url else REDIS_MISSING
    return System("mock, redis", command, "/v1", "/__mock/health", port, missing)


def mock_workers(workers: int, redis_url: str | None) -> System:
    """The mock sharing state through Redis with `workers` processes, all on waitress so the rows
    compare worker counts only (`--workers` above 1 forks waitress processes)."""
    port = free_port()
    command = [sys.executable, "-m", "mockserver.cli", "serve", "--port", str(port), "--server", "waitress"]
    command += ["--store", redis_url or "", "--redis-prefix", f"bench-{workers}", "--workers", str(workers)]
    missing = None if redis_url else REDIS_MISSING
    return System(f"mock, redis, {workers} workers", command, "/v1", "/__mock/health", port, missing)


def redis_trip(redis_url: str | None) -> System:
    """One Redis trip per request and nothing else (benchmarks/redis_trip.py), on the mock's server."""
    factory = "benchmarks.redis_trip:create_redis_trip_app"
    system = _on_server("one Redis trip alone", DEFAULT_SERVER, factory, port=free_port())
    system.env = {"BENCH_REDIS_URL": redis_url or ""}
    system.missing = system.missing or (None if redis_url else REDIS_MISSING)
    return system


def baseline(server: str = DEFAULT_SERVER) -> System:
    """The same routes, domain and store without contract validation (benchmarks/baseline.py)."""
    factory = "benchmarks.baseline:create_baseline_app"
    return _on_server(_named("baseline", server), server, factory, port=free_port())


def _on_server(name: str, server: str, factory: str, port: int) -> System:
    """`factory`'s app on `server`, one process (one worker) and 8 threads, like the mock's defaults."""
    commands = {
        "waitress": [sys.executable, "-m", "waitress", "--port", str(port), "--threads", "8", "--call"],
        "gunicorn": [
            sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "8", "-b", f"127.0.0.1:{port}",
        ],
        "granian": [
            sys.executable, "-m", "granian", "--interface", "wsgi", "--workers", "1",
            "--blocking-threads", "8", "--log-level", "error",
            "--host", "127.0.0.1", "--port", str(port), "--factory",
        ],
    }  # fmt: skip
    target = f"{factory}()" if server == "gunicorn" else factory
    missing = None
    if not _importable(server):
        missing = f"{server} is not installed (pip install {server})"
    return System(name, [*commands[server], target], "/v1", "/__mock/health", port, missing)


def prism(page_size: int = 1) -> System:
    """Prism 5.16 mocking the same contract, installed with `npm ci` from benchmarks/package-lock.json.

    Prism is stateless: a list answers the contract's example page. With `page_size` above 1 it
    serves a copy of the contract whose example page holds that many keys, so that its list answers
    as much JSON as the mock's and the baseline's do.
    """
    port = free_port()
    contract = _with_example_page(page_size) if page_size > 1 else CONTRACT
    command = [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), "-v", "warn", str(contract)]
    system = System("prism", command, "", "/virtual-keys/ready-probe", port, workloads=PRISM_WORKLOADS)
    system.missing = install_prism()
    return system


def _with_example_page(size: int) -> Path:
    """A copy of the contract (JSON, in a temporary folder) whose list example holds `size` keys."""
    document = json.loads(json.dumps(Contract.load(CONTRACT).document, default=str))
    page = document["components"]["examples"]["ListPage"]["value"]
    item = page["data"][0]
    page["data"] = [
        {**item, "slug": f"{item['slug']}-{n}", "name": f"{item['name']} {n}"} for n in range(size)
    ]
    page["total"] = size
    folder = tempfile.mkdtemp(prefix="prism-contract-")
    atexit.register(shutil.rmtree, folder, True)
    path = Path(folder) / "openapi.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def install_prism() -> str | None:
    """Run `npm ci` once; why Prism cannot run here, or None."""
    if PRISM.exists():
        return None
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "Node.js and npm are missing (apt-get install nodejs npm), so Prism cannot run"
    print("installing Prism with npm ci in benchmarks/ ...", file=sys.stderr, flush=True)
    done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, capture_output=True, text=True)
    if done.returncode != 0 or not PRISM.exists():
        last = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        return f"npm ci failed: {last[0]}"
    return None


def _importable(module: str) -> bool:
    probe = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True)
    return probe.returncode == 0


def _answers_200(url: str) -> bool:
    request = urllib.request.Request(url, headers={API_KEY_HEADER: API_KEY})
    try:
        with urllib.request.urlopen(request, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def _tree_cpu(pid: int) -> float:
    """CPU seconds of process `pid` and its children (a server's workers) so far, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        process = todo.pop()
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
            for task in os.listdir(f"/proc/{process}/task"):
                todo += [int(c) for c in Path(f"/proc/{process}/task/{task}/children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue  # ended meanwhile
    return total
