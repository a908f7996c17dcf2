"""Shared helpers of the benchmarks in bench/: throwaway databases, environments, percentiles, machine info.

Every benchmark only talks to 127.0.0.1 and only to databases it creates itself (``dandelion_bench*``) or to
temporary SQLite files; it drops / removes them at the end unless ``--keep`` is given.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python")
DANDELION = str(VENV_BIN / "dandelion")
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
TWCS = Path(os.environ.get("DANDELION_DATASETS") or REPO.parent / "shared" / "datasets") / \
    "twcs_customer_support" / "twcs_combined_10k.csv"


def check_local(url: str) -> None:
    if "127.0.0.1" not in url and "localhost" not in url:
        raise SystemExit(f"refusing a non-local database URL: {url}")


# --- PostgreSQL -------------------------------------------------------------------------------------------------


def _pg_admin():
    import psycopg

    check_local(PG_ADMIN_URL)
    return psycopg.connect(PG_ADMIN_URL + "/postgres", autocommit=True)


def pg_drop(name: str) -> None:
    assert name.startswith("dandelion_bench"), name
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_create(name: str, template: str | None = None) -> str:
    assert name.startswith("dandelion_bench"), name
    pg_drop(name)
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return f"{PG_ADMIN_URL}/{name}"


# --- environments -----------------------------------------------------------------------------------------------


def bench_env(database_url: str, var_dir: str, **extra: str) -> dict[str, str]:
    check_local(database_url) if database_url.startswith("postgres") else None
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url,
        "DANDELION_VAR_DIR": var_dir,
        "DJANGO_SETTINGS_MODULE": "dandelion.config.settings",
        "SECRET_KEY": "bench-not-secret",
        "DEBUG": "false",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


def dandelion(env: dict[str, str], *args: str, quiet: bool = True) -> None:
    out = subprocess.run([DANDELION, *args], check=False, env=env, cwd=REPO, capture_output=quiet, text=True)
    if out.returncode:
        raise SystemExit(f"`dandelion {' '.join(args)}` failed:\n{out.stdout}\n{out.stderr}")


def create_seeded(name: str, database_url: str, var_dir: str) -> float:
    """Create the database ``name``, migrate it and load the demo organisation; returns the seconds it took."""
    pg_create(name)
    env = bench_env(database_url, var_dir)
    t = time.perf_counter()
    dandelion(env, "migrate", "--no-input")
    dandelion(env, "seed-demo")
    return time.perf_counter() - t


def setup_template(kind: str, workdir: str) -> tuple[str, str]:
    """A migrated and seeded database to clone per run: (database url or sqlite path, var dir)."""
    var_dir = os.path.join(workdir, "var")
    os.makedirs(var_dir, exist_ok=True)
    if kind == "postgres":
        url = pg_create("dandelion_bench_tpl")
    else:
        url = f"sqlite:///{os.path.join(workdir, 'template.sqlite3')}"
    env = bench_env(url, var_dir)
    t = time.perf_counter()
    dandelion(env, "migrate", "--no-input")
    dandelion(env, "seed-demo")
    print(f"  [{kind}] template migrated + seeded in {time.perf_counter() - t:.1f} s", flush=True)
    return url, var_dir


def clone(kind: str, template_url: str, name: str, workdir: str) -> str:
    if kind == "postgres":
        return pg_create(name, template="dandelion_bench_tpl")
    src = template_url.removeprefix("sqlite:///")
    dst = os.path.join(workdir, f"{name}.sqlite3")
    subprocess.run([PYTHON, "-c", (
        "import sqlite3,sys; s=sqlite3.connect(sys.argv[1]); d=sqlite3.connect(sys.argv[2]); s.backup(d)")
        , src, dst], check=True)
    return f"sqlite:///{dst}"


def django_setup(database_url: str | None = None, var_dir: str | None = None) -> None:
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DANDELION_VAR_DIR", var_dir or tempfile.mkdtemp(prefix="dbench-var-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dandelion.config.settings")
    os.environ.setdefault("SECRET_KEY", "bench-not-secret")
    import django

    django.setup()


# --- figures ----------------------------------------------------------------------------------------------------


def pct(values, q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    data = sorted(values)
    if not data:
        return float("nan")
    k = max(0, min(len(data) - 1, round(q / 100 * len(data) + 0.5) - 1))
    return data[k]


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    return (f"nproc={os.cpu_count()} cpu={cpu!r} mem={mem} python={platform.python_version()} "
            f"loadavg={' '.join(f'{x:.2f}' for x in load)}")


def wait_http(port: int, timeout: float) -> None:
    """Wait until ``dandelion serve`` on 127.0.0.1:``port`` answers ``/healthz`` (any status: 503 means it is up
    and reporting its database down); exit with a message after ``timeout`` seconds."""
    import http.client
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return
        except (OSError, http.client.HTTPException):
            time.sleep(0.3)
        finally:
            conn.close()
    raise SystemExit(f"dandelion serve on port {port} did not come up")


def stop_processes(procs, timeout: float = 15) -> None:
    """Terminate the benchmark's servers and workers; kill any that outlive ``timeout`` seconds."""
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()


def rmtree(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


def die(msg: str) -> None:
    print(msg, file=sys.stderr)
    raise SystemExit(2)
