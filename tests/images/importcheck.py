"""Which third-party packages a step really imports: a static walk of its imports within steps/.

A step image carries only its own dependencies, so a step that starts importing pandas (or yaml, or
anything not pinned for its image) must fail a test here, not with ModuleNotFoundError in the cluster.
The walk reads the source with `ast` (nothing is imported) and follows imports of the step package
transitively, including imports inside functions; `if TYPE_CHECKING:` blocks are skipped since they
never run.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from tests.images.requirements import normalize

_STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}


def module_file(module: str, root: Path) -> Path | None:
    """The source file of `module` under `root` (a package's __init__.py), or None if there is none."""
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> Iterable[ast.AST]:
    """Every node except those under `if TYPE_CHECKING:` (their `else:` branch does run)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def imported_names(source: str, module: str, is_package: bool) -> set[str]:
    """Absolute dotted names imported by a module, relative imports resolved.

    For `from a import b`, both `a` and `a.b` are returned: `b` may be a submodule, and the caller
    keeps whichever exists.
    """
    package_parts = module.split(".") if is_package else module.split(".")[:-1]
    names: set[str] = set()
    for node in _runtime_nodes(ast.parse(source, filename=module)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if node.level - 1 > len(package_parts):
                    raise ImportError(f"{module}: relative import beyond the top-level package")
                anchor = package_parts[: len(package_parts) - (node.level - 1)]
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def external_imports(module: str, root: Path, package: str = "steps") -> dict[str, set[str]]:
    """Top-level names imported from outside `package`, reachable from `module` -> their importers.

    `root` is the directory holding `package`; every module of `package` reached is read in turn
    (and the packages above it, whose __init__ runs first). Standard library names are included.
    """
    found: dict[str, set[str]] = {}
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        path = module_file(current, root)
        if path is None:
            raise ModuleNotFoundError(f"no source for {current!r} under {root}")
        parts = current.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]  # parent packages' __init__
        for name in imported_names(path.read_text(encoding="utf-8"), current, path.name == "__init__.py"):
            top = name.split(".")[0]
            if top == package:
                if module_file(name, root) is not None:
                    todo.append(name)
                elif "." in name and module_file(name.rsplit(".", 1)[0], root) is None:
                    raise ModuleNotFoundError(f"{current} imports {name!r}, which is not in {package}/")
            elif top:
                found.setdefault(top, set()).add(current)
    return found


def third_party_imports(module: str, root: Path, package: str = "steps") -> dict[str, set[str]]:
    """Like `external_imports`, without the standard library: what the image must install."""
    return {
        name: importers
        for name, importers in external_imports(module, root, package).items()
        if name not in _STDLIB
    }


def missing_distributions(
    imports: Mapping[str, set[str]],
    installed: Iterable[str],
    providers: Mapping[str, list[str]],
) -> list[str]:
    """Problems, one line each, for imports that no installed distribution provides.

    `installed` are distribution names (any spelling); `providers` maps an import name to the
    distributions that provide it, as `importlib.metadata.packages_distributions()` does.
    """
    have = {normalize(name) for name in installed}
    problems: list[str] = []
    for top, importers in sorted(imports.items()):
        candidates = {normalize(dist) for dist in providers.get(top, [])} or {normalize(top)}
        if not candidates & have:
            problems.append(
                f"{', '.join(sorted(importers))} imports {top!r}, provided by "
                f"{' or '.join(sorted(candidates))}, which the image does not install"
            )
    return problems
