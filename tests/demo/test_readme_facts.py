"""The facts README.md states about `make demo`, held to the code that makes them true: the keys of
demo-summary.json (as the demo writes them, from a real replay on a real chain), the number of
training payments, the accounts of the day's traffic. A change on either side fails here."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from ape import networks

from oracle.datagen import generate_scenario
from verdict_demo.replay import TRAINING_ROWS, Replay, summarize
from verdict_demo.screen import SUMMARY_FIELDS
from verdict_demo.story import summary_document
from verdict_deploy import MANIFEST, deploy_world

ROOT = Path(__file__).resolve().parents[2]


def demo_section() -> str:
    """README's `make demo` section, its line breaks folded to spaces."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## `make demo`", 1)[1].split("\n## ", 1)[0]
    return re.sub(r"\s+", " ", section)


def readme_summary_keys() -> list[str]:
    """The keys README lists for demo-summary.json: the backticked names in the parenthesis after it."""
    match = re.search(r"`demo-summary\.json` \(keys ([^)]*)\)", demo_section())
    assert match, "README's `make demo` section no longer lists the keys of demo-summary.json"
    return re.findall(r"`([a-z0-9_]+)`", match.group(1))


def demo_option(name: str) -> object:
    """The default of an `ape run demo` option, from scripts/demo.py itself."""
    spec = importlib.util.spec_from_file_location("verdict_demo_script", ROOT / "scripts" / "demo.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return next(p.default for p in module.cli.params if p.name == name)


def test_readme_lists_each_summary_key_once_and_the_screen_explains_each():
    keys = readme_summary_keys()
    assert len(keys) == len(set(keys)), keys
    assert set(keys) == set(SUMMARY_FIELDS), (
        f"README lacks {sorted(set(SUMMARY_FIELDS) - set(keys))}, "
        f"README has extra {sorted(set(keys) - set(SUMMARY_FIELDS))}"
    )


@pytest.mark.chain
def test_the_summary_the_demo_writes_has_exactly_the_readme_keys(local_roles, tmp_path):
    """A replay on a real deployment, summarized and completed as `run_demo` does it."""
    world = deploy_world(local_roles, models=["0x" + "5a" * 32], root=tmp_path)
    scenario = generate_scenario(n_accounts=10, n_payments=60, seed=1)
    replay = Replay.on(world, scenario, 1, networks.provider.uri, MANIFEST)
    try:
        figures = summarize(replay, replay.chain.oracle, split=0)
    finally:
        replay.watcher.stop()
    written = summary_document(figures, {"milestones": []}, {"proposal_id": 1}, "0x" + "5a" * 32)
    assert set(written) == set(readme_summary_keys())


def test_readme_states_the_training_rows_and_the_accounts_the_demo_uses():
    section = demo_section()
    assert f"{TRAINING_ROWS:,} labelled synthetic payments" in section
    payments, accounts, seed = (demo_option(n) for n in ("payments", "n_accounts", "seed"))
    assert f"{payments} payments among {accounts} accounts" in section
    # The screen counts every account the scenario holds: the fraud episodes open fresh ones.
    total = len(generate_scenario(n_accounts=accounts, n_payments=payments, seed=seed).accounts)
    assert f"{total} accounts with the default seed {seed}" in section
