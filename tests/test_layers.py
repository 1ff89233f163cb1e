"""The layers of the code: `.ci/imports.py` finds no forbidden import."""

import subprocess
import sys

from django.conf import settings


def test_no_package_imports_across_its_layer():
    result = subprocess.run(
        [sys.executable, ".ci/imports.py"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout
    assert "core → (aucun)" in result.stdout
    assert "initiatives → core\n" in result.stdout
