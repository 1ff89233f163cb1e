"""The local rules of `make audit` (.ci/audit.py), on small samples and on the
real tree; the steps that need the network are checked with fake answers."""

import importlib.util
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("audit", ROOT / ".ci" / "audit.py")
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)

# (rule, bad sample, good sample): each rule must find the first, accept the second.
PYTHON_SAMPLES = [
    (
        "mark-safe",
        "from django.utils.safestring import mark_safe\n"
        "def card(name):\n    return mark_safe(f'<b>{name}</b>')\n",
        "from django.utils.html import format_html\n"
        "def card(name):\n    return format_html('<b>{}</b>', name)\n",
    ),
    (
        "csrf-exempt",
        "from django.views.decorators.csrf import csrf_exempt\n"
        "@csrf_exempt\ndef hook(request):\n    pass\n",
        "from django.views.decorators.csrf import csrf_protect\n"
        "@csrf_protect\ndef hook(request):\n    pass\n",
    ),
    (
        "raw-sql",
        "def find(q):\n    return Initiative.objects.raw(f'SELECT * WHERE t = {q}')\n",
        "def find(q):\n"
        "    return Initiative.objects.raw('SELECT * WHERE t = %s', [q])\n",
    ),
    (
        "raw-sql",
        "def find(cursor, q):\n    cursor.execute('SELECT %s' % q)\n",
        "def find(cursor, q):\n    cursor.execute('SELECT %s', [q])\n",
    ),
    (
        "raw-sql",
        "def find(cursor, q):\n    cursor.execute('SELECT ' + q)\n",
        "def find(cursor):\n    cursor.execute('SELECT 1')\n",
    ),
    (
        "raw-sql",
        "def drop(connection, name):\n"
        "    connection.execute('DROP TABLE {}'.format(name))\n",
        "from psycopg import sql\n"
        "def drop(connection, name):\n"
        "    drop = sql.SQL('DROP TABLE {}').format(sql.Identifier(name))\n"
        "    connection.execute(drop)\n",
    ),
    (
        "raw-sql",
        "def find(qs, q):\n    return qs.extra(where=['t = {}'.format(q)])\n",
        "def find(qs, q):\n    return qs.extra(where=['t = %s'], params=[q])\n",
    ),
    (
        "raw-sql",
        "from django.db.models.expressions import RawSQL\n"
        "def rank(q):\n    return RawSQL(q, [])\n",
        "from django.db.models.expressions import RawSQL\n"
        "def rank(q):\n    return RawSQL('similarity(title, %s)', [q])\n",
    ),
    (
        "request-kwargs",
        "def items(request):\n    return Initiative.objects.filter(**request.GET)\n",
        "def items(request):\n"
        "    return Initiative.objects.filter(slug=request.GET.get('slug'))\n",
    ),
    (
        "request-kwargs",
        "def items(request):\n"
        "    return Initiative.objects.filter(**request.GET.dict())\n",
        "def items(request, lookups):\n"
        "    return Initiative.objects.filter(**lookups)\n",
    ),
    (
        "request-kwargs",
        "def make(request):\n    return Initiative.objects.create(**request.POST)\n",
        "def make(request):\n"
        "    return Initiative.objects.create(title=request.POST['title'])\n",
    ),
    (
        "image-open",
        "from PIL import Image\ndef read(f):\n    return Image.open(f)\n",
        "from PIL import Image\n"
        "def read(f):\n    return Image.open(f, formats=['PNG'])\n",
    ),
]


def write(root, relative, text):
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize(("rule", "bad", "good"), PYTHON_SAMPLES)
def test_python_rule_finds_bad_pattern_and_accepts_good_one(tmp_path, rule, bad, good):
    write(tmp_path, "app/bad.py", bad)
    write(tmp_path, "app/good.py", good)

    findings = audit.scan(tmp_path)

    assert [(f.path, f.rule) for f in findings] == [("app/bad.py", rule)]
    assert str(findings[0]).startswith(f"app/bad.py:{findings[0].line}: {rule}: ")


@pytest.mark.parametrize(
    ("rule", "bad", "good"),
    [
        ("safe-filter", "<p>{{ initiative.summary|safe }}</p>", "<p>{{ x }}</p>"),
        ("safe-filter", "{{ items | safeseq|join:', ' }}", "{{ items|join:', ' }}"),
        (
            "autoescape-off",
            "{% autoescape off %}{{ x }}{% endautoescape %}",
            "{% autoescape on %}{{ x }}{% endautoescape %}",
        ),
    ],
)
def test_template_rule_finds_bad_pattern_and_accepts_good_one(
    tmp_path, rule, bad, good
):
    write(tmp_path, "templates/bad.html", f"<div>\n{bad}\n</div>\n")
    write(tmp_path, "app/templates/app/good.html", good)

    findings = audit.scan(tmp_path)

    assert [(f.path, f.line, f.rule) for f in findings] == [
        ("templates/bad.html", 2, rule)
    ]


def test_mark_safe_is_accepted_only_in_reviewed_functions(tmp_path):
    write(
        tmp_path,
        "initiatives/maps.py",
        "from django.utils.safestring import mark_safe\n"
        "def draw_map(shapes):\n    return mark_safe(''.join(shapes))\n"
        "def legend(label):\n    return mark_safe(label)\n",
    )

    findings = audit.scan(tmp_path)

    assert [(f.path, f.line, f.rule) for f in findings] == [
        ("initiatives/maps.py", 5, "mark-safe")
    ]


def test_tests_folder_is_not_scanned(tmp_path):
    write(tmp_path, "tests/test_images.py", "Image.open(data)\n")

    assert audit.scan(tmp_path) == []


def test_real_tree_has_no_finding():
    assert [str(finding) for finding in audit.scan()] == []


def test_newest_patch_stays_in_the_installed_series():
    available = ["6.1.3", "6.1.2", "6.1", "6.0.10", "6.2a1", "5.2.19"]

    assert audit.newest_patch(available, "6.1.2") == "6.1.3"
    assert audit.newest_patch(available, "6.0.10") == "6.0.10"


def test_outdated_package_fails(monkeypatch, capsys):
    monkeypatch.setattr(audit, "PATCHED_PACKAGES", ["django"])
    monkeypatch.setattr(audit.metadata, "version", lambda name: "6.1.1")
    monkeypatch.setattr(audit, "index_versions", lambda name: ["6.1.3", "6.1.1"])

    assert audit.check_versions() == audit.FOUND
    assert "django 6.1.1 n'est pas à jour : la série publie 6.1.3" in (
        capsys.readouterr().out
    )


def test_unreachable_index_is_not_a_pass(monkeypatch, capsys):
    monkeypatch.setattr(audit, "index_versions", lambda name: None)

    assert audit.check_versions() == audit.INCOMPLETE
    out = capsys.readouterr().out
    assert "impossible de vérifier django" in out
    assert "pas d'accès à l'index" in out


def fake_pip_audit(monkeypatch, returncode, stdout="", stderr=""):
    def run(command, **kwargs):
        assert "--strict" in command
        return subprocess.CompletedProcess(command, returncode, stdout, stderr)

    monkeypatch.setattr(audit.subprocess, "run", run)


@pytest.mark.parametrize(
    "stderr",
    [
        "ERROR:pip_audit._cli:django: Dependency not found on PyPI and could not "
        "be audited: django (6.1.3)",
        "requests.exceptions.ConnectionError: Max retries exceeded",
    ],
)
def test_unreachable_vulnerability_database_is_not_a_pass(monkeypatch, capsys, stderr):
    fake_pip_audit(monkeypatch, 1, stderr=stderr)

    assert audit.run_pip_audit() == audit.INCOMPLETE
    assert "audit des vulnérabilités impossible" in capsys.readouterr().out


def test_vulnerability_fails(monkeypatch, capsys):
    report = (
        '{"dependencies": [{"name": "django", "version": "6.1.0", "vulns": '
        '[{"id": "PYSEC-0", "fix_versions": ["6.1.1"]}]}]}'
    )
    fake_pip_audit(monkeypatch, 1, stdout=report)

    assert audit.run_pip_audit() == audit.FOUND
    assert "django 6.1.0: PYSEC-0 (corrigé en : 6.1.1)" in capsys.readouterr().out
