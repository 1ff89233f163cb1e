"""The production settings with one more URL, the benchmark's reference page
(bench/reference_urls.py). `bench/run.py` serves and inspects the portal with
these settings: every other page is the production one, unchanged."""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.reference_urls"
