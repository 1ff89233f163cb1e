"""Benchmark of the production profile on the bench database: `python
bench/run.py [N]` after `bench/generate.py [N]` (`make bench` runs both).

gunicorn (the production configuration, two sync workers, DEBUG=0, HTTPS=0, API
throttle lifted) on 127.0.0.1, wrk with 8 connections on each page, twice:
without any cache (NO_CACHE=1), then with the anonymous-page cache of
production. SQL queries per page counted in-process (Django's test client and
CaptureQueriesContext, in a subprocess on the same database), the EXPLAIN plans
of the list, the facet counts and the search, one full CSV download with the
workers' peak memory. Prints a table and the budgets of issue 8, writes
bench/results/bench-<N>.json.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from common import (
    ID_BASE,
    ROOT,
    WRK_SCRIPT,
    bench_env,
    check_answers,
    connect,
    database,
    drain,
    manage,
    read_results,
    results_path,
    run_wrk,
    serving,
)
from report import REFERENCE_NAME, SIZES, TRIVIAL_NAME, budgets, print_report

DURATION = int(os.environ.get("BENCH_DURATION", "15"))  # seconds per wrk run
CONNECTIONS = 8
WARMUP = 2  # seconds of one connection before each measure
# The figures of wrk's summary (common.run_wrk) a page's results keep.
MEASURED = [
    "requests",
    "requests_per_second",
    "latency_p50_ms",
    "latency_p99_ms",
    "socket_errors",
    "non_2xx",
]
TRIVIAL = "/robots.txt"  # a template, no database: the server's floor
SETTINGS = "bench.reference_settings"


def targets(size: int) -> dict[str, str]:
    """Name the paths measured; the detail pages are a synthetic initiative's."""
    with connect(size) as connection:
        slug = connection.execute(
            "SELECT slug FROM initiatives_initiative WHERE status = 'published' "
            "AND id >= %s ORDER BY id LIMIT 1 OFFSET 1000",
            [ID_BASE],
        ).fetchone()[0]
    return {
        "trivial (robots.txt)": TRIVIAL,
        "accueil": "/",
        "liste": "/initiatives/",
        "liste, 2 facettes": "/initiatives/?department=13&theme=culture",
        # About 4 % of the catalogue: its page walks the title index.
        "liste, 2 facettes larges": "/initiatives/?region=84&category=service-public",
        "recherche": "/initiatives/?q=covoiturage",
        "recherche + facettes": (
            "/initiatives/?q=covoiturage&region=84&category=service-public"
        ),
        "détail": f"/initiatives/{slug}/",
        "carte des départements": "/departements/",
        "API liste filtrée": "/api/v1/initiatives/?department=13&theme=culture",
        "API détail": f"/api/v1/initiatives/{slug}/",
        "page 1000 de la liste": "/initiatives/?page=1000",
        REFERENCE_NAME: "/reference/?department=13",
    }


CSV_PATH = "/donnees/initiatives.csv"


def measure_page(url: str, script: Path) -> dict:
    # One connection for WARMUP seconds first, with wrk's own headers: the page
    # cache (its key follows the Vary headers) and PostgreSQL's buffers hold
    # what the measure then reads, which gives the steady state, not a first
    # visit with all 8 connections missing the cache at once.
    subprocess.run(
        [shutil.which("wrk"), "-t1", "-c1", f"-d{WARMUP}s", url],
        capture_output=True,
        timeout=WARMUP + 60,
        check=True,
    )
    summary = run_wrk(url, script, CONNECTIONS, DURATION, timeout=DURATION + 90)
    return {key: summary[key] for key in MEASURED}


def workers_of(master: int) -> list[int]:
    """List the gunicorn master's worker processes."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: split after it.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == master:
            children.append(int(entry.name))
    return children


def memory_kb(pid: int, field: str) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", text, re.M).group(1))


def measure_csv(base: str, master: int) -> dict:
    """Download the whole CSV once; give its time and the workers' peak RSS
    during it (VmHWM, reset first through /proc/<pid>/clear_refs)."""
    workers = workers_of(master)
    before = {pid: memory_kb(pid, "VmRSS") for pid in workers}
    for pid in workers:
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset VmHWM to VmRSS
    started = time.monotonic()
    size = rows = 0
    status, error = 0, ""
    try:
        with urllib.request.urlopen(base + CSV_PATH, timeout=600) as response:
            status = response.status
            while chunk := response.read(1 << 16):
                size += len(chunk)
                rows += chunk.count(b"\n")
    except (OSError, http.client.HTTPException) as problem:
        # A sync worker streaming longer than gunicorn's --timeout is killed.
        error = f"téléchargement interrompu : {problem!r}"[:200]
    seconds = time.monotonic() - started
    peaks = {pid: memory_kb(pid, "VmHWM") for pid in workers}
    return {
        "status": status,
        "error": error,
        "seconds": round(seconds, 2),
        "megabytes": round(size / 1e6, 1),
        "rows": rows - 1,
        "rss_before_mb": round(max(before.values()) / 1024, 1),
        "peak_rss_mb": round(max(peaks.values()) / 1024, 1),
    }


INSPECT = r"""
import json, sys
import django
django.setup()
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from initiatives.facets.counts import count
from initiatives.facets.planning import sized
from initiatives.filters import InitiativeFilter
from initiatives.models import Initiative
from django.http import QueryDict

paths = json.loads(sys.argv[1])
client = Client()
counts = {}
for name, path in paths.items():
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
        if response.streaming:
            for _ in response.streaming_content:
                pass
    counts[name] = {"status": response.status_code, "queries": len(captured)}

GROWING = ("initiatives_initiative", "initiatives_facet_tokens",
           "initiatives_initiative_themes")

def judged(text):
    seq = [table for table in GROWING if f"Seq Scan on {table}" in text]
    uses_index = any(
        kind in text for kind in ("Index Scan", "Bitmap Index Scan", "Index Only Scan")
    )
    return {"uses_index": uses_index and not seq, "seq_scans": seq, "plan": text}

def plan(queryset):
    return judged(queryset.explain(analyze=True))

def plan_sql(sql):
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN ANALYZE " + sql)
        return judged("\n".join(row[0] for row in cursor.fetchall()))

def counting_sql(query):
    # The facet counts' query of a list page, as it ran: the token tally when
    # there is one, else the pair table's read.
    published = Initiative.objects.published()
    filterset = InitiativeFilter(QueryDict(query), queryset=published)
    filterset.is_valid()
    with CaptureQueriesContext(connection) as captured:
        count(filterset)
    ran = [q["sql"] for q in captured.captured_queries]
    return next((sql for sql in ran if "facet_tokens" in sql), ran[-1])

def ids(query, page=1):
    # As the list page: counted first, which lets a narrow selection be looked
    # up by the tokens' GIN index (HavingTokens).
    published = Initiative.objects.published()
    filterset = InitiativeFilter(QueryDict(query), queryset=published)
    filterset.is_valid()
    queryset = sized(filterset.qs, count(filterset).sizes)
    start = (page - 1) * 20
    return queryset.values_list("pk", flat=True)[start:start + 20]

plans = {
    "liste, page 1 (ids)": plan(ids("")),
    "liste, page 500 (ids)": plan(ids("", 500)),
    "liste, 2 facettes (ids)": plan(ids("department=13&theme=culture")),
    "liste, 2 facettes larges (ids)": plan(ids("region=84&category=service-public")),
    "recherche (ids)": plan(ids("q=covoiturage")),
    "comptes des facettes, liste (paires)": plan_sql(counting_sql("")),
    "comptes des facettes, 2 facettes (jetons)": plan_sql(
        counting_sql("department=13&theme=culture")),
    "comptes des facettes, recherche + facettes (jetons)": plan_sql(
        counting_sql("q=covoiturage&region=84&category=service-public")),
}
print("INSPECT-JSON " + json.dumps({"queries": counts, "plans": plans}))
"""


def inspect(env: dict[str, str], paths: dict[str, str]) -> dict:
    """Count each page's SQL queries and explain the key queries, in-process."""
    result = subprocess.run(
        [sys.executable, "-c", INSPECT, json.dumps(paths)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if result.returncode:
        print(result.stderr[-3000:])
        result.check_returncode()
    line = next(
        line for line in result.stdout.splitlines() if line.startswith("INSPECT-JSON ")
    )
    return json.loads(line.removeprefix("INSPECT-JSON "))


def measure(env, paths, script, log, with_csv):
    """Start the server with `env`, run wrk on each path (and download the CSV
    once); give the pages' figures (and the CSV's)."""
    csv = None
    with serving(env, log) as (base, _, master):
        check_answers(base, paths)
        pages = {}
        for name, path in paths.items():
            print(f"wrk {CONNECTIONS} connexions, {DURATION} s : {name} ({path})")
            pages[name] = {"path": path, **measure_page(base + path, script)}
            drain(base + TRIVIAL)
        if with_csv:
            print(f"Téléchargement complet de {CSV_PATH}")
            csv = measure_csv(base, master)
            csv["server_log"] = [
                line
                for line in log.read_text(errors="replace").splitlines()
                if "WORKER TIMEOUT" in line or "Error" in line
            ][-5:]
    trivial = pages[TRIVIAL_NAME]["requests_per_second"]
    for row in pages.values():
        row["ratio_to_trivial"] = round(row["requests_per_second"] / trivial, 4)
    return pages, csv


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", nargs="?", type=int, default=SIZES[0])
    size = parser.parse_args().size
    if shutil.which("wrk") is None:
        print("wrk est introuvable : installez-le (apt-get install wrk).")
        return 2
    with connect(size) as connection:
        present = connection.execute(
            "SELECT count(*) FROM initiatives_initiative WHERE id >= %s", [ID_BASE]
        ).fetchone()[0]
    if present != size:
        print(
            f"{database(size)} contient {present} initiatives synthétiques, "
            f"pas {size} :"
        )
        print(f"lancez d'abord python bench/generate.py {size}")
        return 2
    started = time.monotonic()
    results = {"size": size, "database": database(size)}
    with tempfile.TemporaryDirectory(prefix="portal-bench-") as tmp:
        workdir = Path(tmp)
        script = workdir / "count.lua"
        script.write_text(WRK_SCRIPT)
        log = workdir / "server.log"
        plain, cached = (
            {
                **bench_env(workdir, size, cache=cache),
                "DJANGO_SETTINGS_MODULE": SETTINGS,
            }
            for cache in (False, True)
        )
        manage(cached, "createcachetable", log=log)
        manage(plain, "collectstatic", "--noinput", log=log)
        paths = targets(size)
        print("Requêtes SQL par page et plans EXPLAIN (client de test, même base)")
        inspected = inspect(plain, {**paths, "export CSV": CSV_PATH})
        results["queries"] = inspected["queries"]
        results["plans"] = inspected["plans"]
        try:
            print("\nSans aucun cache (NO_CACHE=1)")
            results["pages"], results["csv"] = measure(plain, paths, script, log, True)
            print("\nAvec le cache de pages anonymes")
            results["cached_pages"], _ = measure(cached, paths, script, log, False)
        except (subprocess.CalledProcessError, SystemExit) as error:
            print(f"Échec : {error}")
            print("\n".join(log.read_text(errors="replace").splitlines()[-30:]))
            return 1
    results["settings"] = {
        "duration_s": DURATION,
        "connections": CONNECTIONS,
        "wrk_threads": 2,
        "gunicorn": "portal/gunicorn_conf.py, 2 sync workers",
        "page_cache": "Redis" if "REDIS_URL" in cached else "cache en base",
        "cpus": os.cpu_count(),
    }
    results["runtime_s"] = round(time.monotonic() - started)
    other_size = next(s for s in SIZES if s != size) if size in SIZES else None
    other = read_results(other_size) if other_size else None
    if other and "cached_pages" not in other:
        other = None  # figures of an older benchmark: not comparable
    results["budgets"] = [
        {"budget": label, "met": met, "figure": figure}
        for label, met, figure in budgets(results, other)
    ]
    print_report(results, other)
    path = results_path(size)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"Chiffres écrits dans {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
