"""Load run of the production profile: `make load` (about 8 minutes).

1. On PostgreSQL (database `portal_load`, recreated): gunicorn with two sync
   workers on 127.0.0.1, then wrk against the list page, a search, a detail page
   and the API list and detail, 50 connections for 30 s each.
2. On SQLite (a temporary file): the same server, wrk on the list page while a
   few threads post valid submissions to /proposer/ for the same 30 s; then the
   server log must not say "database is locked".
3. Through the load balancer of the local cluster (bench/cluster.py: nginx,
   two gunicorn hosts, Redis, SeaweedFS, PostgreSQL): wrk on the list page and
   the API list with both hosts, then with one host only, in the same run. On
   two cores the ratio says little about capacity: it says the hosts share
   nothing but the database, the cache and the store.

Verdict: zero socket errors, zero responses outside 2xx (and every submission
answered 302). Figures are printed and written to bench/results/load.json.
"""

import html
import http.cookiejar
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
from cluster import Cluster
from common import (
    POSTGRES,
    ROOT,
    WRK_SCRIPT,
    WRK_TIMEOUT,
    NoRedirect,
    check_answers,
    drain,
    run_wrk,
    server_env,
    serving,
)

RESULTS = ROOT / "bench" / "results" / "load.json"
DATABASE = "portal_load"

DURATION = 30  # seconds per wrk run
CONNECTIONS = 50
SUBMITTERS = 4  # threads posting submissions during the mixed run


def under_load(url: str, script: Path) -> dict:
    """wrk on `url` with the load run's connections, for DURATION seconds."""
    return run_wrk(url, script, CONNECTIONS, DURATION, timeout=DURATION + 60)


def recreate_postgres_database() -> str:
    """Drop and create the load database; return its URL."""
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        connection.execute("DROP DATABASE IF EXISTS portal_load WITH (FORCE)")
        connection.execute("CREATE DATABASE portal_load")
    return f"{POSTGRES}/{DATABASE}"


def drop_postgres_database() -> None:
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        connection.execute("DROP DATABASE IF EXISTS portal_load WITH (FORCE)")


def prepare(env: dict[str, str], log: Path) -> None:
    """Migrate, create the cache table, seed and collect static files."""
    with log.open("a") as output:
        for command in (
            ["migrate", "--noinput"],
            ["createcachetable"],
            ["load_seed"],
            ["collectstatic", "--noinput"],
        ):
            subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                check=True,
            )


def fetch_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def targets(base: str) -> dict[str, str]:
    """Name the paths of the run; the detail pages are those of the first
    published initiative the API lists."""
    first = fetch_json(f"{base}/api/v1/initiatives/")["results"][0]
    return {
        "liste": "/initiatives/",
        "recherche": "/initiatives/?q=teletravail",
        "détail": urllib.parse.urlsplit(first["page_url"]).path,
        "API liste": "/api/v1/initiatives/",
        "API détail": urllib.parse.urlsplit(first["url"]).path,
    }


def form_values(page: str, name: str, kind: str) -> list[str]:
    """Read the values of a form's radio buttons or checkboxes named `name`."""
    values = []
    for tag in re.findall(r"<input\b[^>]*>", page):
        if f'type="{kind}"' in tag and f'name="{name}"' in tag:
            found = re.search(r'value="([^"]*)"', tag)
            if found:
                values.append(html.unescape(found.group(1)))
    return values


def hidden_value(page: str, name: str) -> str:
    for tag in re.findall(r"<input\b[^>]*>", page):
        if f'name="{name}"' in tag:
            found = re.search(r'value="([^"]*)"', tag)
            if found:
                return html.unescape(found.group(1))
    raise ValueError(f"champ {name} introuvable dans le formulaire")


def submit_once(base: str, number: int) -> tuple[int, str]:
    """Fill the public form as a visitor would; return the POST's status and,
    when it is not 302, the form's first error message."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect
    )
    with opener.open(f"{base}/proposer/", timeout=30) as response:
        page = response.read().decode()
    fields = [
        ("csrfmiddlewaretoken", hidden_value(page, "csrfmiddlewaretoken")),
        ("started", hidden_value(page, "started")),
        ("collectivity_query", "Aurillac"),
        ("title", f"Banc de charge : proposition {number}"),
        ("summary", "Une proposition envoyée par le banc de charge."),
        ("description", "Le banc de charge vérifie que les envois tiennent."),
        ("category", form_values(page, "category", "radio")[0]),
        ("themes", form_values(page, "themes", "checkbox")[0]),
        ("period", "lockdown1"),
        ("submitter_name", "Banc de charge"),
        ("submitter_email", f"banc-{number}@example.org"),
        ("submitter_role", "test de charge"),
        ("has_consented", "on"),
    ]
    request = urllib.request.Request(
        f"{base}/proposer/",
        data=urllib.parse.urlencode(fields).encode(),
        method="POST",
    )
    try:
        with opener.open(request, timeout=30) as response:
            body = response.read().decode()
            status = response.status
    except urllib.error.HTTPError as error:
        body = error.read().decode(errors="replace")
        status = error.code
    if status == 302:
        return status, ""
    errors = re.findall(r'class="[^"]*error[^"]*"[^>]*>(.*?)<', body, re.S)
    return status, " | ".join(e.strip() for e in errors if e.strip())[:300]


def submit_until(base: str, deadline: float, counter, lock) -> dict:
    statuses: dict[str, int] = {}
    first_error = ""
    while time.monotonic() < deadline:
        with lock:
            counter[0] += 1
            number = counter[0]
        try:
            status, error = submit_once(base, number)
        except (OSError, ValueError) as problem:
            status, error = 0, str(problem)
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        first_error = first_error or error
    return {"statuses": statuses, "first_error": first_error}


def mixed_run(base: str, script: Path) -> dict:
    """wrk on the list page while SUBMITTERS threads post submissions."""
    deadline = time.monotonic() + DURATION
    counter, lock = [0], threading.Lock()
    with ThreadPoolExecutor(SUBMITTERS) as pool:
        futures = [
            pool.submit(submit_until, base, deadline, counter, lock)
            for _ in range(SUBMITTERS)
        ]
        wrk = under_load(f"{base}/initiatives/", script)
        outcomes = [future.result() for future in futures]
    statuses: dict[str, int] = {}
    for outcome in outcomes:
        for status, count in outcome["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    errors = [o["first_error"] for o in outcomes if o["first_error"]]
    return {
        "list": wrk,
        "submissions": sum(statuses.values()),
        "submission_statuses": statuses,
        "submission_first_error": errors[0] if errors else "",
    }


def print_table(rows: dict[str, dict]) -> None:
    header = f"{'page':<22}{'req/s':>9}{'médiane':>10}{'p99':>10}"
    print(f"{header}{'err. socket':>13}{'non-2xx':>9}")
    for name, row in rows.items():
        print(
            f"{name:<22}{row['requests_per_second']:>9.1f}"
            f"{row['latency_p50_ms']:>8.1f}ms{row['latency_p99_ms']:>8.1f}ms"
            f"{row['socket_errors']:>13}{row['non_2xx']:>9}"
        )


def postgres_run(workdir: Path, script: Path, log: Path) -> dict:
    print("== PostgreSQL : préparation (migrate, cache, données, collectstatic)")
    env = server_env(recreate_postgres_database(), workdir)
    prepare(env, log)
    try:
        with serving(env, log) as (base, probe, _):
            paths = targets(base)
            check_answers(base, paths)
            rows = {}
            for name, path in paths.items():
                print(f"wrk {CONNECTIONS} connexions, {DURATION} s : {name} ({path})")
                rows[name] = under_load(base + path, script)
                drain(base + probe)
    finally:
        drop_postgres_database()
    return {"probe": probe, "pages": rows}


def sqlite_run(workdir: Path, script: Path, log: Path) -> dict:
    print("== SQLite : préparation, puis liste sous wrk et propositions en parallèle")
    env = server_env(f"sqlite:///{workdir / 'load.sqlite3'}", workdir)
    prepare(env, log)
    start = log.stat().st_size
    with serving(env, log) as (base, _, _):
        result = mixed_run(base, script)
    with log.open(encoding="utf-8", errors="replace") as output:
        output.seek(start)
        text = output.read()
    result["database_is_locked"] = text.count("database is locked")
    result["server_errors_logged"] = text.count("Traceback")
    return result


CLUSTER_PATHS = {"liste": "/initiatives/", "API liste": "/api/v1/initiatives/"}


def cluster_run(workdir: Path, script: Path) -> dict:
    print("== Grappe : nginx devant deux hôtes, puis devant un seul")
    rows = {}
    with Cluster(
        workdir / "cluster",
        database="portal_load_cluster",
        API_ANONYMOUS_RATE="1000000/minute",
    ) as cluster:
        check_answers(cluster.front, CLUSTER_PATHS)
        for hosts, ports in (
            ("2 hôtes", list(cluster.ports.values())),
            ("1 hôte", [cluster.ports["a"]]),
        ):
            cluster.balancer.balance(ports)
            for name, path in CLUSTER_PATHS.items():
                label = f"{name}, {hosts}"
                print(f"wrk {CONNECTIONS} connexions, {DURATION} s : {label}")
                rows[label] = under_load(cluster.front + path, script)
                drain(cluster.front + "/healthz")
    ratios = {
        name: round(
            rows[f"{name}, 2 hôtes"]["requests_per_second"]
            / rows[f"{name}, 1 hôte"]["requests_per_second"],
            2,
        )
        for name in CLUSTER_PATHS
    }
    return {"pages": rows, "two_hosts_over_one": ratios}


def verdict(results: dict) -> list[str]:
    """List what breaks the contract; empty when the run passed."""
    problems = []
    pages = {**results["postgresql"]["pages"], **results["cluster"]["pages"]}
    pages["mixte : liste"] = results["sqlite"]["list"]
    for name, row in pages.items():
        if row["socket_errors"]:
            problems.append(f"{name} : {row['socket_errors']} erreurs de socket")
        if row["non_2xx"]:
            problems.append(f"{name} : {row['non_2xx']} réponses hors 2xx")
    mixed = results["sqlite"]
    not_302 = mixed["submissions"] - mixed["submission_statuses"].get("302", 0)
    if not mixed["submissions"] or not_302:
        problems.append(
            f"propositions : {not_302} sur {mixed['submissions']} sans 302 "
            f"({mixed['submission_first_error']})"
        )
    if mixed["database_is_locked"]:
        problems.append(f"« database is locked » : {mixed['database_is_locked']} fois")
    return problems


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk est introuvable : installez-le (apt-get install wrk).")
        return 2
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="portal-load-") as tmp:
        workdir = Path(tmp)
        script = workdir / "count.lua"
        script.write_text(WRK_SCRIPT)
        log = workdir / "server.log"
        try:
            results = {
                "postgresql": postgres_run(workdir, script, log),
                "sqlite": sqlite_run(workdir, script, log),
                "cluster": cluster_run(workdir, script),
            }
        except (subprocess.CalledProcessError, SystemExit) as error:
            print(f"Échec : {error}")
            print("Fin du journal du serveur :")
            print("\n".join(log.read_text(errors="replace").splitlines()[-30:]))
            return 1
    results["settings"] = {
        "duration_s": DURATION,
        "connections": CONNECTIONS,
        "wrk_timeout_s": WRK_TIMEOUT,
        "wrk_threads": 2,
        "gunicorn": "2 sync workers",
        "submitters": SUBMITTERS,
        "cpus": os.cpu_count(),
    }
    problems = verdict(results)
    results["verdict"] = "ok" if not problems else problems
    results["runtime_s"] = round(time.monotonic() - started)

    print(f"\nRésultats ({CONNECTIONS} connexions, {DURATION} s par page)")
    print("PostgreSQL :")
    print_table(results["postgresql"]["pages"])
    mixed = results["sqlite"]
    print("SQLite, liste pendant les propositions :")
    print_table({"liste": mixed["list"]})
    print("Grappe, à travers nginx :")
    print_table(results["cluster"]["pages"])
    ratios = results["cluster"]["two_hosts_over_one"]
    print(
        "Débit à deux hôtes ÷ débit à un hôte : "
        + ", ".join(f"{name} ×{ratio}" for name, ratio in ratios.items())
    )
    print(
        f"Propositions envoyées : {mixed['submissions']} "
        f"(statuts {mixed['submission_statuses']}), "
        f"« database is locked » : {mixed['database_is_locked']}, "
        f"tracebacks : {mixed['server_errors_logged']}"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"Chiffres écrits dans {RESULTS}")
    if problems:
        print("Verdict : ÉCHEC\n- " + "\n- ".join(problems))
        return 1
    print(
        "Verdict : OK (aucune erreur de socket, aucune réponse hors 2xx, "
        "aucun « database is locked »)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
