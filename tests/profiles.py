"""How big the randomised, property and load tests run: one profile per run, named by
`VERDICT_HYPOTHESIS_PROFILE` (tests/conftest.py loads it into Hypothesis and checks the name).

- `default` (no variable set; `make test`): every test runs, the heavy ones at a size that still
  reaches every action of the state machines, so `make test` stays within CI's time;
- `soak` (`make test-soak`): the sizes of before the cut (1,000 state-machine sequences, 5,000-payment
  load burst, every `examples(n)` at n), plus every test marked `@pytest.mark.soak`;
- `smoke`: a quick look (too short to reach every action: the machines' coverage checks are off);
- `deep` and `long`: longer than soak (5,000 x 40 and 50,000 x 60 sequences), soak tests included.

A test module asks for its size here, never from the variable itself: `machine_settings()` for a
`RuleBasedStateMachine`, `examples(n)` for an `@settings(max_examples=...)` whose n is the soak size,
`is_soak()` for anything else.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

ENV = "VERDICT_HYPOTHESIS_PROFILE"
DEFAULT = "default"
# State machines: (sequences, steps per sequence). `default` keeps every action reachable (the
# machines assert that each one happened at least once) at a fifth of soak's sequences.
MACHINE_SIZES: dict[str, tuple[int, int]] = {
    "smoke": (50, 25),
    "default": (200, 25),
    "soak": (1000, 25),
    "deep": (5000, 40),
    "long": (50_000, 60),
}
PROFILES = tuple(MACHINE_SIZES)
# Profiles that run the soak tests and the full sizes.
SOAK_PROFILES = ("soak", "deep", "long")
# `examples(n)` in the default profile: this share of n, never below MIN_EXAMPLES.
DEFAULT_SHARE = 4
MIN_EXAMPLES = 20


class UnknownProfile(ValueError):
    """VERDICT_HYPOTHESIS_PROFILE names no profile."""


def current() -> str:
    """The profile of this run (`default` when the variable is unset or empty)."""
    name = os.environ.get(ENV, "").strip() or DEFAULT
    if name not in MACHINE_SIZES:
        raise UnknownProfile(f"{ENV}={name!r} is not a profile: use one of {', '.join(PROFILES)}")
    return name


def is_soak() -> bool:
    """True under soak, deep and long: the full sizes, soak-marked tests included."""
    return current() in SOAK_PROFILES


def is_smoke() -> bool:
    return current() == "smoke"


def examples(soak_count: int) -> int:
    """max_examples for a property test whose full (soak) size is `soak_count`."""
    if is_soak():
        return soak_count
    if is_smoke():
        return min(soak_count, MIN_EXAMPLES)
    return min(soak_count, max(MIN_EXAMPLES, soak_count // DEFAULT_SHARE))


def machine_settings() -> settings:
    """Settings for run_state_machine_as_test: this profile's sizes, derandomized so that a failure
    replays and shrinks the same way, no deadline (each step is a chain round trip)."""
    sequences, steps = MACHINE_SIZES[current()]
    return settings(
        max_examples=sequences,
        stateful_step_count=steps,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
