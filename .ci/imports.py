"""Print which of the project's packages import which, and check the rules of
its layers (STYLE.md): `core` imports no domain app; `initiatives` imports
neither `surveys`, `vigilance` (it names their models by string) nor `portal`;
no domain app imports `portal`.

    python .ci/imports.py          # the graph, then the verdict; exit 1 if broken

Reads the source with `ast` (imports inside functions included); tests and
migrations are left out.
"""

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["core", "initiatives", "surveys", "vigilance", "portal"]
DOMAIN = {"initiatives", "surveys", "vigilance"}
FORBIDDEN = {
    "core": DOMAIN | {"portal"},
    "initiatives": {"surveys", "vigilance", "portal"},
    "surveys": {"portal"},
    "vigilance": {"surveys", "portal"},
}


def imported(path: Path, package: str) -> set[str]:
    """The project's packages a module imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(package if node.level else node.module or "")
    return {name.split(".")[0] for name in names} & set(PACKAGES)


def graph() -> dict[str, dict[str, list[str]]]:
    """For each package, the packages it imports and from which modules."""
    edges = defaultdict(lambda: defaultdict(list))
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for target in imported(path, package) - {package}:
                edges[package][target].append(str(path.relative_to(ROOT)))
    return edges


def main() -> int:
    edges = graph()
    broken = []
    for package in PACKAGES:
        targets = edges.get(package, {})
        shown = ", ".join(sorted(targets)) or "(aucun)"
        print(f"{package} → {shown}")
        for target in sorted(targets):
            if target in FORBIDDEN.get(package, set()):
                broken += [f"{module} importe {target}" for module in targets[target]]
    if broken:
        print("\nImports interdits :")
        print("\n".join(f"  {line}" for line in broken))
        return 1
    print("\nAucun import interdit.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
