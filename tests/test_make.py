"""`make test` on a fresh machine: it installs what the browser tests need, or
says how."""

import os
import subprocess

from django.conf import settings


def make(*args):
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_without_chromium_nor_apt_get_make_says_how_to_install_it(tmp_path):
    result = make(
        "chromium",
        f"CHROMIUM={tmp_path / 'chromium'}",
        f"APT_GET={tmp_path / 'apt-get'}",
    )
    assert result.returncode != 0
    assert "the browser tests need" in result.stderr
    assert "apt-get install chromium" in result.stderr


def test_with_apt_get_as_root_make_installs_chromium(tmp_path):
    """A stand-in apt-get records what make asks of it."""
    log = tmp_path / "apt-get.log"
    apt_get = tmp_path / "apt-get"
    apt_get.write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    apt_get.chmod(0o755)
    result = make("chromium", f"CHROMIUM={tmp_path / 'chromium'}", f"APT_GET={apt_get}")
    if os.geteuid() != 0:
        assert result.returncode != 0  # not root: it only says how
        return
    assert result.returncode == 0, result.stderr
    assert log.read_text().splitlines() == [
        "update -qq",
        "install -y -qq chromium",
    ]


def test_with_chromium_there_make_does_nothing(tmp_path):
    chromium = tmp_path / "chromium"
    chromium.write_text("#!/bin/sh\n")
    chromium.chmod(0o755)
    result = make("chromium", f"CHROMIUM={chromium}", f"APT_GET={tmp_path / 'none'}")
    assert result.returncode == 0
    assert result.stdout == result.stderr == ""
