"""The processes of a crash run, each a real OS process: the GitHub simulator, the fake model
server, Triad's web process (`triad serve --job-concurrency 0`) and its workers
(`triad worker`), which the run kills with SIGKILL and starts again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from triad_lab.ports import free_port

WEBHOOK_SECRET = "crash-run-secret"


@dataclass
class Process:
    """One OS process and its log file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    #: the directory it runs in (None: this one)
    cwd: Path | None = None
    popen: subprocess.Popen[bytes] | None = None
    #: CPU seconds (user + system) of the instances that ended, read before each was reaped
    cpu_spent: float = 0.0

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                self.argv, env=self.env, cwd=self.cwd, stdout=out, stderr=subprocess.STDOUT
            )

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL: no drain, no cleanup, as a machine that loses power."""
        if self.popen is not None and self.popen.poll() is None:
            self.cpu_spent += cpu_seconds(self.popen.pid)
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait()

    def stop(self, timeout: float = 30.0) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        self.cpu_spent += cpu_seconds(self.popen.pid)
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU a live process used so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


@dataclass
class Fleet:
    """The simulator, the model server, one web process and `workers` worker processes."""

    workdir: Path
    database_url: str
    workers: int = 3
    concurrency: int = 2
    lease_seconds: float = 3.0
    model_latency: float = 0.0
    log_level: str = "WARNING"
    #: more settings for Triad's processes (e.g. TRIAD_JOB_MAX_ATTEMPTS)
    settings: dict[str, str] = field(default_factory=dict)
    #: interpreter options before a worker's `-m bot.cli worker` (e.g. a profiler's)
    worker_prefix: list[str] = field(default_factory=list)
    #: another checkout of Triad whose web and worker processes run instead of this one's
    #: (e.g. a baseline to compare with); the simulator and model server stay this one's
    triad_tree: Path | None = None
    sim_port: int = field(default_factory=free_port)
    model_port: int = field(default_factory=free_port)
    web_port: int = field(default_factory=free_port)
    simulator: Process | None = None
    models: Process | None = None
    web: Process | None = None
    worker_processes: list[Process] = field(default_factory=list)
    #: worker processes started, the first ones included
    worker_starts: int = 0

    @property
    def sim_url(self) -> str:
        return f"http://127.0.0.1:{self.sim_port}"

    @property
    def model_url(self) -> str:
        return f"http://127.0.0.1:{self.model_port}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        key = self.workdir / "app.pem"
        python = sys.executable
        self.simulator = self._process(
            "simulator",
            [
                python,
                "-m",
                "bot.cli",
                "simulator",
                "--port",
                str(self.sim_port),
                "--webhook-url",
                f"{self.web_url}/api/github/webhooks",
                "--webhook-secret",
                WEBHOOK_SECRET,
                "--key-file",
                str(key),
            ],
        )
        self.models = self._process(
            "models",
            [
                python,
                "-m",
                "triad_lab.simulator.model_server",
                "--port",
                str(self.model_port),
                "--latency",
                str(self.model_latency),
            ],
        )
        self.simulator.start()
        self.models.start()
        _wait_for(f"{self.sim_url}/_simulator/app", self.simulator)
        _wait_for(f"{self.model_url}/_script/requests", self.models)
        env = self._triad_env(key)
        self.web = self._process(
            "web",
            [
                python,
                "-m",
                "bot.cli",
                "serve",
                "--port",
                str(self.web_port),
                "--job-concurrency",
                "0",
            ],
            env,
        )
        self.web.start()
        _wait_for(f"{self.web_url}/healthz", self.web)
        for n in range(self.workers):
            worker = self._process(
                f"worker-{n}",
                [
                    python,
                    *self.worker_prefix,
                    "-m",
                    "bot.cli",
                    "worker",
                    "--concurrency",
                    str(self.concurrency),
                ],
                env,
            )
            self.worker_processes.append(worker)
            self.start_worker(n)

    def start_worker(self, index: int) -> None:
        self.worker_processes[index].start()
        self.worker_starts += 1

    def kill_worker(self, index: int) -> None:
        self.worker_processes[index].kill()

    def restart_dead_workers(self) -> None:
        for index, worker in enumerate(self.worker_processes):
            if not worker.alive:
                self.start_worker(index)

    def worker_cpu(self) -> float:
        """CPU seconds every worker process used so far, the killed ones included."""
        return sum(
            w.cpu_spent + (cpu_seconds(w.popen.pid) if w.alive and w.popen else 0.0)
            for w in self.worker_processes
        )

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of the simulator, the model server and the web process."""
        return {
            p.name: p.cpu_spent + (cpu_seconds(p.popen.pid) if p.alive and p.popen else 0.0)
            for p in (self.simulator, self.models, self.web)
            if p is not None
        }

    def stop(self) -> None:
        for worker in self.worker_processes:
            worker.stop(10)
        for process in (self.web, self.models, self.simulator):
            if process is not None:
                process.stop(10)

    def _process(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Process:
        """Triad's own processes (given `env`) run from `triad_tree` when there is one."""
        base = {k: v for k, v in os.environ.items() if not k.startswith("TRIAD_")}
        log = self.workdir / f"{name}.log"
        if env is None or self.triad_tree is None:
            return Process(name, argv, env or base, log)
        return Process(
            name, argv, {**env, "PYTHONPATH": str(self.triad_tree)}, log, self.triad_tree
        )

    def _triad_env(self, key: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAD_")}
        env.update(
            {
                "TRIAD_APP_ID": "1",
                "TRIAD_PRIVATE_KEY_PATH": str(key),
                "TRIAD_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "TRIAD_DATABASE_URL": self.database_url,
                "TRIAD_GITHUB_API_URL": self.sim_url,
                "TRIAD_ANTHROPIC_BASE_URL": self.model_url,
                "TRIAD_OPENAI_BASE_URL": f"{self.model_url}/v1",
                "TRIAD_GITHUB_WRITES_PER_MINUTE": "0",
                "TRIAD_JOB_LEASE_SECONDS": str(self.lease_seconds),
                "TRIAD_DRAIN_SECONDS": "1",
                "TRIAD_BOT_LOGIN": "triad[bot]",
                "TRIAD_LOG_FORMAT": "json",
                "TRIAD_LOG_LEVEL": self.log_level,
                # the lab reads the logs while the processes run, and kills them with SIGKILL
                "TRIAD_LOG_BATCH_SECONDS": "0",
                **self.settings,
            }
        )
        return env


def _wait_for(url: str, process: Process, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.alive:
            raise RuntimeError(f"{process.name} exited at start: see {process.log}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{process.name} did not answer {url} within {timeout:.0f} s")
