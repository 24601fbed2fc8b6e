""""Enough": no step imports a third-party package that its image does not install.

The walk is static (tests/images/importcheck.py); the tests of the checker itself, on a synthetic
package, show that it does fail when a step imports too much.
"""

from __future__ import annotations

import importlib.metadata
import textwrap
from pathlib import Path

import pytest

from images.__main__ import REPO_ROOT
from steps.contract import STEPS, StepSpec
from tests.images.importcheck import external_imports, missing_distributions, third_party_imports
from tests.images.requirements import read_pins, requirements_file

FORBIDDEN_AT_RUN_TIME = {"pip", "ensurepip", "subprocess"}  # nothing is installed when a step starts


@pytest.fixture(scope="module")
def providers() -> dict[str, list[str]]:
    return dict(importlib.metadata.packages_distributions())


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.image)
def test_step_imports_only_what_its_image_installs(step: StepSpec, providers: dict[str, list[str]]) -> None:
    imports = third_party_imports(step.module, REPO_ROOT)
    installed = [pin.name for pin in read_pins(requirements_file(step))]
    assert missing_distributions(imports, installed, providers) == []


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.image)
def test_step_installs_nothing_at_run_time(step: StepSpec) -> None:
    # These modules are how code would install packages or shell out for them when a step starts.
    imports = external_imports(step.module, REPO_ROOT)
    assert {name: imports[name] for name in FORBIDDEN_AT_RUN_TIME & set(imports)} == {}


def make_package(root: Path, files: dict[str, str]) -> Path:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    return root


def test_checker_finds_pandas_imported_inside_a_function_two_modules_away(tmp_path: Path) -> None:
    root = make_package(
        tmp_path,
        {
            "steps/__init__.py": "",
            "steps/simulate.py": "from steps import helper\nimport requests\n",
            "steps/helper.py": "from . import deep\n",
            "steps/deep.py": "import json\n\ndef frame():\n    import pandas as pd\n    return pd\n",
        },
    )
    imports = third_party_imports("steps.simulate", root)
    assert imports == {"requests": {"steps.simulate"}, "pandas": {"steps.deep"}}
    problems = missing_distributions(imports, ["requests", "urllib3"], {"pandas": ["pandas"]})
    assert len(problems) == 1
    assert "steps.deep imports 'pandas'" in problems[0]


def test_checker_maps_import_names_to_distributions(tmp_path: Path) -> None:
    root = make_package(
        tmp_path,
        {"steps/__init__.py": "", "steps/report.py": "import yaml\nfrom dateutil import tz\n"},
    )
    imports = third_party_imports("steps.report", root)
    providers = {"yaml": ["PyYAML"], "dateutil": ["python-dateutil"]}
    assert missing_distributions(imports, ["python_dateutil"], providers) == [
        "steps.report imports 'yaml', provided by pyyaml, which the image does not install"
    ]


def test_checker_skips_type_checking_imports_and_reads_parent_packages(tmp_path: Path) -> None:
    root = make_package(
        tmp_path,
        {
            "steps/__init__.py": "import croniter\n",
            "steps/sub/__init__.py": "",
            "steps/sub/fetch.py": textwrap.dedent(
                """
                from typing import TYPE_CHECKING
                from ..sub import other
                if TYPE_CHECKING:
                    import pandas
                else:
                    import requests
                """
            ),
            "steps/sub/other.py": "from steps.sub.fetch import nothing\n",
        },
    )
    assert third_party_imports("steps.sub.fetch", root) == {
        "croniter": {"steps"},
        "requests": {"steps.sub.fetch"},
    }


def test_checker_refuses_an_import_of_a_missing_step_module(tmp_path: Path) -> None:
    root = make_package(tmp_path, {"steps/__init__.py": "", "steps/a.py": "from steps.gone.deep import x\n"})
    with pytest.raises(ModuleNotFoundError, match=r"steps\.gone"):
        third_party_imports("steps.a", root)
