"""The rule engine: a rule module's declared data, its gates (judged once, in the base), and discovery."""

from __future__ import annotations

import sys
import types

from recipe_harness import rewrite_files, rules_of

from fleetshift.model import Action
from fleetshift.recipes import all_recipes, get
from fleetshift.recipes.rule import Rule, Scope, discover, rule

KNOWN = ("0.17.0", "0.20.0", "0.21.0", "0.22.0")


def test_the_factory_reads_the_module_name_and_docstring() -> None:
    package = types.ModuleType("fake_rules")
    package.RECIPE_ID, package.LINK = "demo", "https://example.org/changelog"
    sys.modules["fake_rules"] = package
    try:
        made = rule("fake_rules.old_name", "Summary on\n  two lines\n\nThe fix,\nwrapped.\n", Action.AUTO, since="2.0")
    finally:
        del sys.modules["fake_rules"]
    assert (made.id, made.summary, made.fix, made.link, made.since) == (
        "demo/old-name", "Summary on two lines", "The fix, wrapped.", "https://example.org/changelog", "2.0"
    )


def test_min_target_and_fixed_in_follow_the_oldest_release_the_target_admits() -> None:
    new_only = Rule("d/a", "s", Action.AUTO, min_target="0.21.0")
    until_fixed = Rule("d/b", "s", Action.HUMAN, fixed_in="0.21.0")
    wide, narrow = Scope(">=0.17,<1", KNOWN), Scope(">=0.21,<1", KNOWN)
    assert not new_only.applies(wide) and new_only.applies(narrow)
    assert until_fixed.applies(wide) and not until_fixed.applies(narrow)
    assert not new_only.applies(Scope(">=5", KNOWN))  # a target no known release meets: nothing is assumed


def test_python_and_condition_gates() -> None:
    old_pythons = Rule("d/c", "s", Action.HUMAN, python="<3.9")
    assert old_pythons.applies(Scope(python=">=3.8"))
    assert not old_pythons.applies(Scope(python=">=3.10"))
    assert old_pythons.applies(Scope())  # a service that declares no Python is not excluded
    uses_env = Rule("d/e", "s", Action.HUMAN, condition=lambda s: any(".env" in t for t in s.files.values()))
    assert uses_env.applies(Scope(files={"a.py": "load('.env')"})) and not uses_env.applies(Scope(files={}))


def test_the_base_drops_what_a_gated_out_rule_reports() -> None:
    traps = 'from influxdb_client_3 import InfluxDBClient3\n\nc = InfluxDBClient3(host="http://h:8181", token="t", gzip_threshold=100)\n'
    _, wide = rewrite_files("influxdb3", {"svc/a.py": traps})
    _, fixed = rewrite_files("influxdb3", {"svc/a.py": traps}, targets={"influxdb3-python": ">=0.21.0,<0.22"})
    assert "influxdb3/gzip-threshold" in rules_of(wide)
    assert "influxdb3/gzip-threshold" not in rules_of(fixed)


def test_discovered_rules_are_the_recipes_rules_in_listing_order() -> None:
    for recipe in all_recipes():
        if not recipe.rules_package:
            continue
        modules = discover(recipe.rules_package)
        assert tuple(m.rule for m in modules) == recipe.rules
        assert all(m.rule.id.startswith(f"{recipe.id}/") and m.rule.summary for m in modules)
        assert len({m.rule.id for m in modules}) == len(modules)
    assert get("aiomqtt").rule("paho-direct") is get("aiomqtt").rule("aiomqtt/paho-direct")


def test_target_gates_and_companion_moves_are_judged_once_per_target() -> None:
    from fleetshift.recipes import base
    from fleetshift.recipes import rule as rule_module
    from fleetshift.recipes.rule import target_admits

    admits = target_admits("2.0.0")
    known = ("1.0.0", "2.0.0", "2.1.0")
    rule_module._admits_from.cache_clear()
    for _ in range(3):  # every file of a service asks again, with the same scope
        assert admits(Scope(target=">=2.0,<3", known_versions=known))
        assert not admits(Scope(target="<2", known_versions=list(known)))  # type: ignore[arg-type]
        assert admits(Scope(target="not a spec", known_versions=known))  # unreadable: the rule is not hidden
    assert rule_module._admits_from.cache_info().misses == 3
    base._excludes_known.cache_clear()
    for _ in range(3):
        assert base._excludes("paho-mqtt", "==1.6.1", ">=2.0") and not base._excludes("paho-mqtt", "==2.1.0", ">=2.0")
        assert not base._excludes("paho-mqtt", "", ">=2.0")  # unpinned: nothing to move
    assert base._excludes_known.cache_info().misses == 2
