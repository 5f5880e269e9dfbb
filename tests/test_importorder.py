"""Imports a rewrite adds or renames follow the project's declared import order (ruff's or isort's), and only
in modules that were sorted before: nothing the project did not ask for is reordered."""

from __future__ import annotations

from pathlib import Path

from fleet_factory import make_fleet

from fleetshift.importorder import keeps_order
from fleetshift.pipeline import analyse
from fleetshift.rewrite import rewrite_fleet

MODULE = '''
import json

from anyio import sleep
from asyncio_mqtt import Client
from pydantic import BaseModel


async def main() -> None:
    async with Client("127.0.0.1", client_id="x") as client:
        await sleep(0)
        print(json.dumps({"id": client.id}), BaseModel)
'''

UNSORTED = '''
from pydantic import BaseModel
from asyncio_mqtt import Client
import json


async def main() -> None:
    async with Client("127.0.0.1") as client:
        print(json.dumps({}), BaseModel, client)
'''


def _fleet(root: Path, config: str, module: str = MODULE) -> dict[str, str]:
    make_fleet(root, {
        "fleetshift.toml": '[fleet]\nservices = ["svc"]\n[targets]\naiomqtt = { spec = ">=2.4.0,<3", replaces = "asyncio-mqtt" }\n',
        "svc/requirements.txt": "asyncio-mqtt==0.16.2\nanyio==4.4.0\npydantic==2.8.2\n",
        "svc/app/main.py": module,
        **({"svc/pyproject.toml": config} if config else {}),
    })
    a = analyse(root, use_cache=False)
    (cs,) = [c for c in rewrite_fleet(a.fleet, a.plan, a.config) if c.service == "svc"]
    return {c.file: (c.new or b"").decode() for c in cs.changes}


def test_renamed_import_moves_to_its_sorted_place_when_the_project_sorts_with_ruff(tmp_path: Path) -> None:
    config = '[tool.ruff.lint]\nselect = ["E", "F", "I"]\n'
    new = _fleet(tmp_path, config)["svc/app/main.py"]
    assert "from aiomqtt import Client\nfrom anyio import sleep\nfrom pydantic import BaseModel\n" in new
    assert 'identifier="x"' in new and "client.identifier" in new


def test_isort_settings_count_as_an_import_order(tmp_path: Path) -> None:
    make_fleet(tmp_path, {"a/setup.cfg": "[isort]\nprofile = black\n", "b/tox.ini": "[tox]\n", "b/x/.keep": ""})
    assert keeps_order(tmp_path, "a") and not keeps_order(tmp_path, "b/x")
    make_fleet(tmp_path, {"pyproject.toml": "[tool.isort]\nprofile = 'black'\n"})
    assert keeps_order(tmp_path, "b/x")  # the repository's root config applies to a service below it


def test_without_a_declared_order_the_rename_stays_in_place(tmp_path: Path) -> None:
    new = _fleet(tmp_path, "")["svc/app/main.py"]
    assert "from anyio import sleep\nfrom aiomqtt import Client\nfrom pydantic import BaseModel\n" in new


def test_a_module_that_was_not_sorted_is_not_reordered(tmp_path: Path) -> None:
    config = '[tool.ruff.lint]\nselect = ["I"]\n'
    new = _fleet(tmp_path, config, UNSORTED)["svc/app/main.py"]
    assert new.startswith("from pydantic import BaseModel\nfrom aiomqtt import Client\nimport json\n")


def test_a_config_outside_the_fleet_or_a_folder_that_is_missing_counts_for_nothing(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.isort]\nprofile = 'black'\n")  # above the fleet's root
    make_fleet(tmp_path / "fleet", {"a/.pre-commit-config.yaml": "repos: [{repo: isort}]\n", "b/x/.keep": ""})
    root = tmp_path / "fleet"
    assert keeps_order(root, "a") and not keeps_order(root, "b/x") and not keeps_order(root, "gone/away")
    (root / "c").symlink_to(root / "a")  # through a link: the folder it leads to
    assert keeps_order(root, "c")
