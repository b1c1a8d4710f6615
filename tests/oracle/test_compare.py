"""`verdict compare` without a chain: an empty store is one line, a missing --out folder is one
line, and a comparison file edited after the fact no longer matches its hash (so a proposal
cannot cite a doctored one), nor can it be cited for another model."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from oracle.cli import app
from oracle.compare import FORMAT, comparison_hash, comparison_line, load_comparison, seal
from oracle.errors import DataError
from oracle.store import Store

CHALLENGER = "0x" + "c1" * 32
CHAMPION = "0x" + "a0" * 32


def comparison() -> dict:
    return seal(
        {
            "format": FORMAT,
            "payments_compared": 40,
            "agreement": {"same_decision": 38, "rate": 0.95},
            "champion": {"model_ids": [CHAMPION], "frauds_caught": 2},
            "challenger": {"model_id": CHALLENGER, "model_ids": [CHALLENGER], "frauds_caught": 3},
        }
    )


def test_compare_on_an_empty_store_says_so_in_one_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'node.sqlite'}"
    Store(url).close()  # a node's store that never ran with --shadow
    result = CliRunner().invoke(app, ["compare"], env={"VERDICT_STORE_URL": url})
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) <= 2 and lines[0].startswith("No payments to compare"), result.output


def test_compare_refuses_an_out_file_in_a_missing_folder(tmp_path):
    out = tmp_path / "no-such-folder" / "compare.json"
    result = CliRunner().invoke(app, ["compare", "--out", str(out)])
    assert result.exit_code == 1
    assert result.output.strip().startswith("error: --out") and "does not exist" in result.output
    assert not out.parent.exists()


def test_an_edited_comparison_does_not_match_its_hash(tmp_path):
    path = tmp_path / "compare.json"
    doc = comparison()
    path.write_text(json.dumps(doc, indent=2))
    assert load_comparison(path)["sha256"] == doc["sha256"] == comparison_hash(doc)
    # Re-indented or re-ordered it is the same comparison: the hash covers canonical JSON.
    path.write_text(json.dumps(dict(reversed(list(doc.items())))))
    assert load_comparison(path)["sha256"] == doc["sha256"]

    # The attack: flatter the challenger after the fact and keep the old hash.
    doctored = {**doc, "challenger": {**doc["challenger"], "frauds_caught": 30}}
    path.write_text(json.dumps(doctored))
    with pytest.raises(DataError, match="does not match its sha256"):
        load_comparison(path)
    with pytest.raises(DataError, match="does not match its sha256"):
        comparison_line(path, CHALLENGER)
    # ... or re-hash it: then the hash is another one, not the one a proposal or reviewer saw.
    path.write_text(json.dumps(seal(doctored)))
    assert load_comparison(path)["sha256"] != doc["sha256"]


def test_a_comparison_cites_only_its_own_challenger(tmp_path):
    path = tmp_path / "compare.json"
    doc = comparison()
    path.write_text(json.dumps(doc))
    line = comparison_line(path, CHALLENGER)
    assert f"sha256:{doc['sha256']}" in line and CHALLENGER in line and CHAMPION in line
    assert "\n" not in line
    with pytest.raises(DataError, match="not of this model"):
        comparison_line(path, "0x" + "ee" * 32)
    path.write_text('{"not": "a comparison"}')
    with pytest.raises(DataError, match="not a `verdict compare --out` file"):
        comparison_line(path, CHALLENGER)
