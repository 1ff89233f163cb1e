"""Settings for the test suite: the real settings module, with test-only tweaks."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-insecure-key")
# The test client and the browser tests' server speak plain http.
os.environ.setdefault("HTTPS", "0")

from portal.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The manifest storage needs collectstatic; the suite renders pages without it.
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# Serve static files from the source folders, as `make run` does.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# The page cache stays off; tests/core/test_page_cache.py turns it on where it tests it.
CACHE_MIDDLEWARE_SECONDS = 0
