"""pytest-asyncio's breaking changes, one module per rule, and the data they share: links, loop scopes, releases."""

from __future__ import annotations

from fleetshift.recipes import _pytest_config as pc

RECIPE_ID = "pytest-asyncio"
DOCS = "https://pytest-asyncio.readthedocs.io/en/stable"
MIGRATE_021 = f"{DOCS}/how-to-guides/migrate_from_0_21.html"
MIGRATE_023 = f"{DOCS}/how-to-guides/migrate_from_0_23.html"
CHANGELOG = f"{DOCS}/reference/changelog.html"
CONFIG = f"{DOCS}/reference/configuration.html"
FIXTURES = f"{DOCS}/reference/fixtures/index.html"
CONCEPTS = f"{DOCS}/concepts.html"
LINK = MIGRATE_021

SCOPES = pc.SCOPES
WIDE = pc.WIDE
RANK = {s: i for i, s in enumerate(SCOPES)}
MARK = "pytest.mark.asyncio"
OTHER_MARKS = ("pytest.mark.anyio", "pytest.mark.trio")
BUILTIN_FIXTURES = frozenset(
    "self cls request tmp_path tmp_path_factory tmpdir tmpdir_factory monkeypatch capsys capfd caplog "
    "recwarn pytestconfig record_property record_testsuite_property doctest_namespace cache capsysbinary "
    "capfdbinary subtests event_loop_policy unused_tcp_port unused_udp_port".split()
)


PA_VERSIONS = (
    "0.17.2", "0.18.3", "0.19.0", "0.20.3", "0.21.0", "0.21.1", "0.21.2", "0.22.0", "0.23.0", "0.23.2", "0.23.5",
    "0.23.6", "0.23.7", "0.23.8", "0.24.0", "0.25.0", "0.25.3", "0.26.0", "1.0.0", "1.1.0", "1.1.1", "1.2.0",
    "1.3.0", "1.4.0", "1.4.1", "1.4.1.post1", "1.5.0",
)  # fmt: skip


# Real pytest releases, oldest first: the pytest recipe's `known_versions` and the judge of pytest pins here.
PYTEST_VERSIONS = (
    "7.0.1", "7.4.4", "8.0.0", "8.0.2", "8.1.1", "8.1.2", "8.2.0", "8.2.2", "8.3.0", "8.3.3", "8.3.4", "8.3.5",
    "8.4.0", "8.4.1", "8.4.2", "9.0.0", "9.0.1", "9.0.2", "9.0.3", "9.1.0", "9.1.1", "9.2.0",
)  # fmt: skip
