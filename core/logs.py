"""Security logs: one JSON line per security event on the `portal.security`
logger, each with a request id and a hashed client address, never a secret.

RequestIdMiddleware gives every request an id (`request.id`, the `X-Request-ID`
response header) and keeps it, with the hashed address, in context variables
that every log record of the request carries. `security_event()` writes the
lines; `connect_signals()` (called once at startup) logs logins, lockouts and
second-factor failures from the signals of Django, django-axes and django-otp.
"""

import contextvars
import datetime
import hashlib
import json
import logging
import re
import uuid
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.utils.log import AdminEmailHandler

from .clients import client_ip

logger = logging.getLogger("portal.security")

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy may hand us: a uuid, a hex or base64url token; nothing that could
# forge a log line or fill it.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
EMAIL = re.compile(r"([^\s@<>\"',;:]+)@([^\s@<>\"',;:]+\.[^\s@<>\"',;:]+)")
# Field names whose values are never written, whatever the caller passes.
SECRET_FIELDS = {"password", "token", "otp", "otp_token", "code", "secret", "key"}

request_id_var = contextvars.ContextVar("request_id", default="-")
client_var = contextvars.ContextVar("client", default="-")


def hash_address(address: str) -> str:
    """Identify a client without keeping its address (salted with SECRET_KEY)."""
    salted = f"{settings.SECRET_KEY}:{address}"
    return hashlib.sha256(salted.encode()).hexdigest()[:24]


def client_address(request) -> str:
    """Return the client's address, the one the lockout counts (behind trusted
    proxies, from X-Forwarded-For)."""
    return client_ip(request) or ""


def hashed_address(request) -> str:
    """Identify the client of `request` without keeping its address."""
    return hash_address(client_address(request))


def mask_email(text: str) -> str:
    """Hide every email address in `text` but its first letter and domain:
    "claire@example.org" becomes "c***@example.org"."""
    return EMAIL.sub(lambda match: f"{match[1][0]}***@{match[2]}", text)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return mask_email(value)
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    return value


def security_event(event: str, request=None, level: int = logging.INFO, **fields):
    """Log one security event as one JSON line on `portal.security`; the request
    id and hashed address come from `request`, else from the current context."""
    data = {
        name: _clean(value)
        for name, value in fields.items()
        if name.lower() not in SECRET_FIELDS
    }
    if request is not None:
        data.setdefault("path", request.path)
    extra = {
        "event": event,
        "fields": data,
        "request_id": getattr(request, "id", None) or request_id_var.get(),
        "client": hashed_address(request) if request is not None else client_var.get(),
    }
    logger.log(level, event, extra=extra)


class RequestIdMiddleware:
    """Give each request an id: the proxy's `X-Request-ID` when valid, else a new
    one; return it in the response and keep it for the request's log records."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        valid = VALID_REQUEST_ID.fullmatch(incoming)
        request.id = incoming if valid else uuid.uuid4().hex
        # Not reset on the way out: Django logs a 4xx or 5xx response ("Bad
        # Request: …") after the middleware returns, and that line needs the id
        # too. The next request (or ASGI task, in its own context) sets its own.
        request_id_var.set(request.id)
        client_var.set(hashed_address(request))
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request.id
        return response


class RequestContextFilter(logging.Filter):
    """Add the current request id and hashed address to records that lack them,
    so every line of a request can be found from its id."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        if not hasattr(record, "client"):
            record.client = client_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object on one line."""

    def format(self, record):
        timestamp = datetime.datetime.fromtimestamp(record.created, datetime.UTC)
        line = {
            "timestamp": timestamp.isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": getattr(record, "event", None) or record.getMessage(),
            "request_id": getattr(record, "request_id", request_id_var.get()),
            "client": getattr(record, "client", client_var.get()),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def username_of(user) -> str:
    return str(getattr(user, user.USERNAME_FIELD, "")) if user is not None else ""


def log_login(sender, request, user, **kwargs):
    security_event("login_succeeded", request, user=username_of(user))


def log_login_failure(sender, credentials, request=None, **kwargs):
    # Django already replaced the password with stars; only the name is kept.
    name = get_user_model().USERNAME_FIELD
    username = credentials.get(name) or credentials.get("username") or ""
    security_event("login_failed", request, logging.WARNING, user=str(username))


def log_lockout(sender, request, username, ip_address=None, **kwargs):
    security_event("lockout", request, logging.WARNING, user=str(username or ""))


def log_otp_failure(sender, user, **kwargs):
    security_event("otp_failed", None, logging.WARNING, user=username_of(user))


def connect_signals() -> None:
    """Log logins, lockouts (django-axes) and second-factor failures (django-otp)
    when those apps are installed. Called once, from the core app's ready()."""
    user_logged_in.connect(log_login, dispatch_uid="core.logs.login")
    user_login_failed.connect(log_login_failure, dispatch_uid="core.logs.failure")
    # Their signal modules import their models: only once the apps are installed.
    if apps.is_installed("axes"):
        try:
            from axes.signals import user_locked_out
        except ImportError:
            pass
        else:
            user_locked_out.connect(log_lockout, dispatch_uid="core.logs.lockout")
    if apps.is_installed("django_otp"):
        try:
            from django_otp.forms import otp_verification_failed
        except ImportError:
            pass
        else:
            otp_verification_failed.connect(
                log_otp_failure, dispatch_uid="core.logs.otp"
            )


class AdminMailHandler(AdminEmailHandler):
    """Django's error report to ADMIN_EMAILS, queued in the outbox instead of
    sent inside the failing request, and rate-limited (core/mail.py). A 503
    is the portal's deliberate answer to an outage (its database is down):
    not reported, and nothing is written to the database that is down."""

    def emit(self, record):
        if getattr(record, "status_code", None) == 503:
            return
        super().emit(record)

    def send_mail(self, subject, message, *args, **kwargs):
        # Imported here: the logging configuration loads this module before
        # the apps and their models.
        from .mail import queue_error_report

        try:
            queue_error_report(subject, message)
        except Exception:  # a logging handler never raises: say it, once
            logging.getLogger("core.mail").warning(
                "error report not queued", exc_info=True
            )
