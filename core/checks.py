"""System checks of the portal's security settings (`manage.py check`)."""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.utils.csp import CSP

PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@register(Tags.security)
def check_csp_forbids_inline_scripts(app_configs, **kwargs):
    """Refuse a Content-Security-Policy under which an injected script would run."""
    policy = settings.SECURE_CSP or {}
    script_src = policy.get("script-src", policy.get("default-src")) or []
    unsafe = {CSP.UNSAFE_INLINE, CSP.UNSAFE_EVAL}
    allowed = {
        str(value)
        for directive in ("script-src", "default-src")
        for value in policy.get(directive) or []
    }
    errors = []
    if unsafe & allowed:
        errors.append(
            Error(
                "SECURE_CSP lets inline scripts or eval() run.",
                hint="Remove 'unsafe-inline' and 'unsafe-eval' from script-src "
                "and default-src; give inline scripts a nonce.",
                id="portal.E001",
            )
        )
    if CSP.NONCE not in script_src:
        errors.append(
            Error(
                "SECURE_CSP has no script-src nonce.",
                hint="Set script-src to [CSP.SELF, CSP.NONCE].",
                id="portal.E002",
            )
        )
    return errors


@register(Tags.security)
def check_rate_limits_use_a_shared_cache(app_configs, **kwargs):
    """Refuse, in production, a cache that each worker process keeps for itself:
    rate limits would multiply by the number of workers, or vanish."""
    backend = settings.CACHES["default"]["BACKEND"]
    if settings.DEBUG or backend not in PER_PROCESS_CACHES:
        return []
    return [
        Error(
            f"The default cache ({backend}) is not shared between processes, "
            "so rate limits do not hold.",
            hint="Set REDIS_URL, or use the database cache (the default).",
            id="portal.E003",
        )
    ]
