"""`verdict relay`, `verdict sign-vote` and `verdict sign-delegation` given bad input: one `error:` line
and exit 1, before any chain is touched (the end-to-end paths are in test_relay.py)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from oracle.cli import app

# A shell without the relay's keys.
KEYS = ("VERDICT_MEMBER_KEY", "VERDICT_RELAY_KEY")


@pytest.mark.parametrize(
    ("args", "env", "text"),
    [
        (["sign-vote", "1", "maybe"], {}, "support 'maybe': use for, against or abstain"),
        (["sign-vote", "abc", "for"], {}, "proposal id 'abc' is not a number"),
        (["sign-vote", "1", "for"], {"VERDICT_MEMBER_KEY": None}, "no member key"),
        (["sign-delegation", "0x1234"], {}, "delegatee '0x1234' is not a 0x address"),
        (["relay"], {"VERDICT_RELAY_KEY": None}, "no relayer key"),
        (["relay"], {"VERDICT_RELAY_KEY": "0xnot-a-key"}, "VERDICT_RELAY_KEY is not a valid private key"),
    ],
)
def test_bad_input_is_one_error_line(args, env, text, monkeypatch):
    for name in KEYS:
        monkeypatch.delenv(name, raising=False)
    values = {k: v for k, v in env.items() if v is not None}
    result = CliRunner().invoke(app, args, env=values)
    assert result.exit_code == 1, result.output
    out = result.output.strip()
    assert "Traceback" not in out
    assert out.startswith("error:") and text in out, out
