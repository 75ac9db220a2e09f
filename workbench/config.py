"""Reading the user's YAML files (scenarios, checklists, answers, suites, prices, clients).

One place for the two things every config loader needs: a read that turns I/O and YAML errors
into messages naming the file, and pydantic errors turned into `field.path: problem` text.
And `resource(...)`: where the bundled checklists, notebooks and sample data are, in a source
checkout or an installed wheel alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import WorkbenchError

# ---------------------------------------------------------------------------------------------
# Bundled files: checklists, notebooks, sample data and scenarios
# ---------------------------------------------------------------------------------------------

_PACKAGE = Path(__file__).resolve().parent
# The top-level folders of the repository that ship with the package. A wheel carries them as
# package data under `workbench/_bundled/` (setup.py's build_py copies them there); a source
# checkout (the editable install) reads them where they are, beside `workbench/`.
BUNDLED = ("checklists", "notebooks", "data")
BUNDLE_DIR = _PACKAGE / "_bundled"


def resource(*parts: str) -> Path:
    """The path of a bundled file or folder, e.g. `resource("checklists", "production-readiness.yaml")`,
    `resource("notebooks", "02_cost_scenarios.ipynb")`, `resource("data", "sample")`.

    Looks in the installed package's copy (`workbench/_bundled/...`, from a wheel) first, then in the
    source checkout the package was imported from (the top-level folders of the repository, for the
    editable install). `parts[0]` must be one of `BUNDLED`. WorkbenchError naming the missing file
    and where it looked when neither has it.
    """
    if not parts or parts[0] not in BUNDLED:
        raise ValueError(f"resource(): the first part names one of the bundled folders {BUNDLED}, not {parts[:1]}")
    candidates = [BUNDLE_DIR.joinpath(*parts)]
    checkout = _PACKAGE.parent
    if (checkout / "pyproject.toml").is_file():  # a source checkout, not site-packages
        candidates.append(checkout.joinpath(*parts))
    for path in candidates:
        if path.exists():
            return path
    raise WorkbenchError(
        f"the bundled {'/'.join(parts)} is missing (looked in {' and '.join(str(c) for c in candidates)}); "
        "reinstall workbench (`pip install --force-reinstall .` from the repository, or `pip install -e .` "
        "for a checkout)")


# A config file expands to at most this many values once its aliases are followed. YAML aliases
# share one object, so a "billion laughs" file loads small, then grows to gigabytes in whatever
# copies or serialises it (validation, the eval cache key): refuse it at the door.
MAX_YAML_NODES = 200_000
MAX_DEPTH = 64


def _expanded_size(doc: Any, path: str) -> None:
    """Walk the document as its readers will (aliases expanded), stopping at the limits."""
    count = 0
    stack = [(doc, 0)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_YAML_NODES:
            raise WorkbenchError(f"{path}: refusing a YAML document that expands to over {MAX_YAML_NODES:,} values "
                                 "(aliases referring to aliases: a 'billion laughs' file?)")
        if depth > MAX_DEPTH:
            raise WorkbenchError(f"{path}: refusing a YAML document nested over {MAX_DEPTH} levels deep")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


def parse_yaml(text: str | bytes, source: str = "YAML") -> Any:
    """yaml.safe_load, with libyaml's C parser when PyYAML has it (about 10x faster: a report
    reads a dozen config files, which took pure-Python PyYAML 0.15 s), refusing documents whose
    aliases expand past `MAX_YAML_NODES` values or that nest past `MAX_DEPTH` levels."""
    import yaml

    try:
        doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader
    except RecursionError:
        raise WorkbenchError(f"{source}: refusing a YAML document nested too deep to read") from None
    _expanded_size(doc, source)
    return doc


def read_yaml(path: str | Path, what: str) -> Any:
    """The parsed YAML document; WorkbenchError naming the file when it can't be read or parsed."""
    import yaml

    path = Path(path)
    try:
        return parse_yaml(path.read_text(), str(path))
    except OSError as exc:
        raise WorkbenchError(f"cannot read {what} {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise WorkbenchError(f"{path}: not valid YAML: {exc}") from None


def load_model(path: str | Path, model, what: str, shape: str, name_from_file: bool = False):
    """Read a YAML mapping and validate it as `model` (pydantic); errors name the file and the field.

    `shape` completes "a <what> is a mapping with ..." for files that hold no mapping;
    `name_from_file` fills a missing `name` with the file's stem."""
    from pydantic import ValidationError

    path = Path(path)
    data = read_yaml(path, what)
    if not isinstance(data, dict):
        raise WorkbenchError(f"{path}: a {what} is a mapping with {shape}")
    if name_from_file:
        data.setdefault("name", path.stem)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise WorkbenchError(f"{path}: invalid {what}: {validation_problems(exc)}") from None


def validation_problems(exc) -> str:
    """'routing.0.share: Input should be less than or equal to 1; ...' from a pydantic ValidationError."""
    out = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        out.append(f"{loc}: {msg}")
    return "; ".join(out)
