"""gunicorn settings of `make serve` and of production (`gunicorn -c`)."""

import os

import gunicorn.http.wsgi

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "sync"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# A stuck request is killed rather than holding a worker for ever. A sync worker
# only reports alive between requests, so this bounds a whole download: the full
# open-data CSV of a million initiatives (1.2 GB, 86 MB gzipped) streams for
# about a minute (52 s, 62 s gzipped, 64 s each for two at once, measured on two
# cores shared with PostgreSQL); 30 s cut it at about 200 000 rows. 180 s leaves
# room for a loaded server and a client slower than the local network.
timeout = 180
graceful_timeout = 30
keepalive = 2
# Load Django once in the master, before forking: workers share its memory, and
# a new worker answers at once instead of importing Django again (about a
# second on two cores, during which its share of requests waits). Django opens
# no database or cache connection at import.
preload_app = True


def when_ready(server):
    """Before the first fork: compile templates and fill the URL resolver once
    for all workers (core/warmup.py)."""
    from core.warmup import warm

    warm()


# Recycle workers now and then, so that a slow leak never grows: every 10 000
# requests or so, a few seconds to minutes under load.
max_requests = 10000
max_requests_jitter = 1000
limit_request_line = 4094
limit_request_fields = 100
accesslog = "-"
# Say nothing of the server software (gunicorn sends `Server: gunicorn`).
gunicorn.http.wsgi.SERVER = "portail"
