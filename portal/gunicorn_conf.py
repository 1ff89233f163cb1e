"""gunicorn settings of `make serve` and of production (`gunicorn -c`)."""

import os

import gunicorn.http.wsgi

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "sync"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# A stuck request is killed rather than holding a worker for ever.
timeout = 30
graceful_timeout = 30
keepalive = 2
# Recycle workers now and then, so that a slow leak never grows.
max_requests = 1000
max_requests_jitter = 100
limit_request_line = 4094
limit_request_fields = 100
accesslog = "-"
# Say nothing of the server software (gunicorn sends `Server: gunicorn`).
gunicorn.http.wsgi.SERVER = "portail"
