"""Security audit of the code and its dependencies, run by `make audit`.

Four checks:

1. ruff's security rules (flake8-bandit, `S`) on the project code;
2. our own rules below, semgrep-style, on the Python code (with `ast`) and the
   templates (with regular expressions);
3. Django and Pillow on the newest patch release of their series, as pip's
   index lists it;
4. pip-audit --strict on requirements.lock.

Exit status: 0 when every check ran and found nothing; 1 when a check found
something; 2 when nothing was found but a check could not run (the index or the
vulnerability database did not answer): an incomplete audit is not a pass.
"""

import ast
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

FOUND, INCOMPLETE = 1, 2

# Folders the local rules skip: tools, generated files, and the tests, which
# open images without `formats=` on purpose to inspect what the portal wrote.
SKIPPED_DIRS = {"tests", "node_modules", "staticfiles", "media", "__pycache__"}

# mark_safe() calls reviewed by hand: (path, enclosing function) -> why it is safe.
REVIEWED_MARK_SAFE = {
    ("initiatives/maps.py", "draw_map"): (
        "joins SVG shapes that format_html() built, escaping each name and title"
    ),
    ("initiatives/maps.py", "department_map"): (
        "marks the markup draw_map() escaped, read back from the portal's own cache"
    ),
}

# Packages that must be on the newest patch release of their major.minor series.
PATCHED_PACKAGES = ["django", "pillow"]

REQUEST_DATA = {"GET", "POST", "data", "query_params", "COOKIES", "headers", "FILES"}
SQL_METHODS = {"raw", "execute", "executemany"}
TEMPLATE_RULES = [
    (
        re.compile(r"\|\s*safe(seq)?\b"),
        "safe-filter",
        "the |safe filter turns off escaping: build the markup with format_html()",
    ),
    (
        re.compile(r"{%\s*autoescape\s+off\s*%}"),
        "autoescape-off",
        "autoescape off turns off escaping for a whole block",
    ),
]


class Finding(NamedTuple):
    path: str
    line: int
    rule: str
    message: str

    def __str__(self):
        return f"{self.path}:{self.line}: {self.rule}: {self.message}"


def _is_built_string(node: ast.AST) -> bool:
    """Tell whether an expression builds a string: f-string, %, + or .format()."""
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and not _is_psycopg_composition(node.func.value)
    )


def _is_psycopg_composition(node: ast.AST) -> bool:
    """psycopg's sql.SQL("…").format(sql.Identifier(…)) quotes what it inserts."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name == "SQL"


def _reads_request_data(node: ast.AST) -> bool:
    """Tell whether an expression reads request.GET, request.POST and the like."""
    return any(
        isinstance(child, ast.Attribute)
        and child.attr in REQUEST_DATA
        and isinstance(child.value, ast.Name | ast.Attribute)
        and "request" in ast.unparse(child.value)
        for child in ast.walk(node)
    )


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


class _Visitor(ast.NodeVisitor):
    def __init__(self, path: str):
        self.path = path
        self.scope: list[str] = []
        self.findings: list[Finding] = []

    def report(self, node: ast.AST, rule: str, message: str) -> None:
        self.findings.append(Finding(self.path, node.lineno, rule, message))

    def visit_FunctionDef(self, node):
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ImportFrom(self, node):
        for alias in node.names:
            if alias.name == "csrf_exempt":
                self.report(node, "csrf-exempt", "csrf_exempt turns off CSRF checks")
        self.generic_visit(node)

    def visit_Attribute(self, node):
        if node.attr == "csrf_exempt" and isinstance(node.ctx, ast.Load):
            self.report(node, "csrf-exempt", "csrf_exempt turns off CSRF checks")
        self.generic_visit(node)

    def visit_Call(self, node):
        name = _call_name(node)
        if name in {"mark_safe", "SafeString"}:
            self.check_mark_safe(node, name)
        elif name in SQL_METHODS and isinstance(node.func, ast.Attribute):
            sql = node.args[0] if node.args else _keyword(node, "sql")
            if sql is not None and _is_built_string(sql):
                self.report(
                    node,
                    "raw-sql",
                    f".{name}() gets SQL built from strings: pass the values "
                    "as parameters",
                )
        elif name == "extra" and isinstance(node.func, ast.Attribute):
            if any(_is_built_string(child) for child in ast.walk(node)):
                self.report(
                    node,
                    "raw-sql",
                    ".extra() gets SQL built from strings: use the ORM or parameters",
                )
        elif name == "RawSQL":
            sql = node.args[0] if node.args else _keyword(node, "sql")
            if not (isinstance(sql, ast.Constant) and isinstance(sql.value, str)):
                self.report(
                    node,
                    "raw-sql",
                    "RawSQL() gets SQL that is not a literal: pass the values "
                    "as parameters",
                )
        elif name == "open" and ast.unparse(node.func).endswith("Image.open"):
            if _keyword(node, "formats") is None:
                self.report(
                    node,
                    "image-open",
                    "Image.open() without formats= lets Pillow try every decoder",
                )
        for keyword in node.keywords:
            if keyword.arg is None and _reads_request_data(keyword.value):
                self.report(
                    node,
                    "request-kwargs",
                    f"{name}(**{ast.unparse(keyword.value)}) lets the visitor choose "
                    "the lookups (CVE-2025-64459): name each accepted parameter",
                )
        self.generic_visit(node)

    def check_mark_safe(self, node: ast.Call, name: str) -> None:
        function = self.scope[-1] if self.scope else "<module>"
        if (self.path, function) not in REVIEWED_MARK_SAFE:
            self.report(
                node,
                "mark-safe",
                f"{name}() outside the reviewed call sites: build the markup with "
                "format_html(), or review it and add it to REVIEWED_MARK_SAFE",
            )


def _keyword(node: ast.Call, name: str) -> ast.AST | None:
    return next((k.value for k in node.keywords if k.arg == name), None)


def check_python(path: str, source: str) -> list[Finding]:
    """Apply the local rules to one Python module; `path` is relative to ROOT."""
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as error:
        return [Finding(path, error.lineno or 0, "syntax", str(error.msg))]
    visitor = _Visitor(path)
    visitor.visit(tree)
    return visitor.findings


def check_template(path: str, text: str) -> list[Finding]:
    """Apply the local rules to one template."""
    return [
        Finding(path, number, rule, message)
        for number, line in enumerate(text.splitlines(), start=1)
        for pattern, rule, message in TEMPLATE_RULES
        if pattern.search(line)
    ]


def _project_files(root: Path) -> Iterator[Path]:
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(
            d for d in subdirs if not d.startswith(".") and d not in SKIPPED_DIRS
        )
        for name in sorted(files):
            yield Path(directory, name)


def scan(root: Path = ROOT) -> list[Finding]:
    """Apply the local rules to every module and template under `root`."""
    findings = []
    for path in _project_files(root):
        relative = path.relative_to(root).as_posix()
        if path.suffix == ".py":
            findings += check_python(relative, path.read_text(encoding="utf-8"))
        elif "templates" in path.relative_to(root).parts[:-1]:
            findings += check_template(relative, path.read_text(encoding="utf-8"))
    return findings


def newest_patch(available: list[str], installed: str) -> str:
    """Return the newest stable release of the installed major.minor series."""
    series = Version(installed).release[:2]
    versions = []
    for text in available:
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        if version.release[:2] == series and not version.is_prerelease:
            versions.append(version)
    return str(max(versions, default=Version(installed)))


def index_versions(name: str) -> list[str] | None:
    """List the versions pip's index offers, or None when it does not answer.

    Local wheel folders and extra indexes from pip's configuration are ignored:
    they answer even offline and may lag behind the index.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_NO_INDEX"}
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    command = [sys.executable, "-m", "pip", "index", "versions", name]
    command += ["--retries", "1", "--timeout", "15", "--disable-pip-version-check"]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=120
        )
    except subprocess.TimeoutExpired:
        return None
    for line in result.stdout.splitlines():
        if line.startswith("Available versions:"):
            return [v.strip() for v in line.split(":", 1)[1].split(",")]
    return None


def check_versions() -> int:
    statuses = {0}
    for name in PATCHED_PACKAGES:
        installed = metadata.version(name)
        available = index_versions(name)
        if available is None:
            print(f"impossible de vérifier {name} {installed} : pas d'accès à l'index")
            statuses.add(INCOMPLETE)
            continue
        newest = newest_patch(available, installed)
        if Version(newest) > Version(installed):
            print(
                f"{name} {installed} n'est pas à jour : la série publie {newest} "
                "(mettez pyproject.toml à jour puis `make lock`)"
            )
            statuses.add(FOUND)
        else:
            print(f"{name} {installed} : dernière version corrective de sa série")
    return FOUND if FOUND in statuses else max(statuses)


NETWORK_ERRORS = re.compile(
    r"ConnectionError|ProxyError|NameResolution|Max retries|timed out|ServiceError"
)


def run_pip_audit() -> int:
    command = [str(BIN / "pip-audit"), "--strict", "-r", "requirements.lock"]
    command += ["--disable-pip", "--progress-spinner", "off", "-f", "json"]
    try:
        result = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=600
        )
    except subprocess.TimeoutExpired:
        print("audit des vulnérabilités impossible : pip-audit n'a pas fini à temps")
        return INCOMPLETE
    try:
        report = json.loads(result.stdout)
    except ValueError:
        report = None
    if report is not None:
        dependencies = report.get("dependencies", [])
        vulnerable = [d for d in dependencies if d.get("vulns")]
        for dependency in vulnerable:
            for vuln in dependency["vulns"]:
                fixes = ", ".join(vuln.get("fix_versions", [])) or "aucune"
                print(
                    f"{dependency['name']} {dependency['version']}: {vuln['id']} "
                    f"(corrigé en : {fixes})"
                )
        if vulnerable:
            return FOUND
        if result.returncode == 0:
            print(f"aucune vulnérabilité connue dans les {len(dependencies)} paquets")
            return 0
    lines = result.stderr.strip().splitlines()
    if NETWORK_ERRORS.search(result.stderr) or "could not be audited" in result.stderr:
        reason = lines[-1] if lines else ""
        print(
            "audit des vulnérabilités impossible : la base de vulnérabilités de "
            "pip-audit n'a pas pu être interrogée (pas d'accès au réseau ?). Ce "
            f"n'est PAS un résultat « aucune vulnérabilité ». Détail : {reason}"
        )
        return INCOMPLETE
    print("pip-audit a échoué :")
    print("\n".join(lines[-10:]))
    return FOUND


def run_ruff() -> int:
    command = [str(BIN / "ruff"), "check", "--select", "S", "--no-cache"]
    command += ["--extend-exclude", "tests,fixtures", "--output-format", "concise"]
    result = subprocess.run([*command, "."], cwd=ROOT, text=True, check=False)
    return FOUND if result.returncode else 0


def run_local_rules() -> int:
    findings = scan()
    for finding in findings:
        print(finding)
    if not findings:
        print("aucun motif interdit")
    return FOUND if findings else 0


STEPS = [
    ("Règles de sécurité de ruff (S)", run_ruff),
    ("Règles locales (.ci/audit.py)", run_local_rules),
    ("Django et Pillow à jour dans leur série", check_versions),
    ("pip-audit --strict (requirements.lock)", run_pip_audit),
]


def main() -> int:
    statuses = []
    for title, step in STEPS:
        print(f"== {title}", flush=True)
        statuses.append(step())
        sys.stdout.flush()
    if FOUND in statuses:
        print("\nAudit : ÉCHEC, voir ci-dessus.")
        return FOUND
    if INCOMPLETE in statuses:
        print(
            "\nAudit : INCOMPLET, rien de trouvé mais au moins une vérification "
            "n'a pas pu se faire (voir ci-dessus)."
        )
        return INCOMPLETE
    print("\nAudit : rien à signaler.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
