"""Fixtures for the off-chain oracle tests: small generated tables and one trained model per session."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from oracle.datagen import generate
from oracle.model import ModelArtifact
from oracle.store import Store
from oracle.train import train


@pytest.fixture(scope="session")
def payments() -> pd.DataFrame:
    """8,000 generated payments with about 1% fraud: every typology, small enough to train in seconds."""
    return generate(8_000, seed=11, fraud_rate=0.01)


@pytest.fixture(scope="session")
def model_dir(payments: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("model")
    train(payments, "is_fraud", time_col="timestamp", seed=3, out=out)
    return out


@pytest.fixture(scope="session")
def artifact(model_dir: Path) -> ModelArtifact:
    from oracle.model import load

    return load(model_dir)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'state' / 'verdict.sqlite'}")
    yield s
    s.close()
