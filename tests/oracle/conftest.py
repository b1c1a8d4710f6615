"""Fixtures for the off-chain oracle tests: small generated tables and one trained model per session."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from oracle.datagen import generate
from oracle.model import ModelArtifact
from oracle.store import Store
from oracle.train import train


@pytest.fixture(scope="session")
def payments() -> pd.DataFrame:
    """8,000 generated payments with about 1% fraud: every typology, small enough to train in seconds."""
    return generate(8_000, seed=17, fraud_rate=0.01)


@pytest.fixture(scope="session")
def model_dir(payments: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("model")
    train(payments, "is_fraud", time_col="timestamp", seed=3, out=out)
    return out


@pytest.fixture(scope="session")
def artifact(model_dir: Path) -> ModelArtifact:
    from oracle.model import load

    return load(model_dir)


@pytest.fixture(scope="session")
def other_artifact(payments: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> ModelArtifact:
    """A second model on the same table (another seed): a different model id and other scores."""
    from oracle.model import load

    out = tmp_path_factory.mktemp("other-model")
    train(payments, "is_fraud", time_col="timestamp", seed=4, out=out)
    return load(out)


@pytest.fixture(scope="session")
def manifest() -> Path:
    """The compiled contracts' ABIs (`.build/__local__.json`); ape compiles them on first use, so
    these tests never depend on what ran before them."""
    from ape import project

    project.load_contracts()
    path = Path(__file__).resolve().parents[2] / ".build" / "__local__.json"
    assert path.exists(), f"ape compiled the contracts but wrote no {path}"
    return path


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'state' / 'verdict.sqlite'}")
    yield s
    s.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request, tmp_path):
    """A store on SQLite, and on PostgreSQL too when VERDICT_TEST_PG_URL names a server."""
    if request.param == "sqlite":
        s = Store(f"sqlite:///{tmp_path / 'deep' / 'dir' / 's.sqlite'}")
    else:
        url = os.environ.get("VERDICT_TEST_PG_URL")
        if not url:
            pytest.skip("VERDICT_TEST_PG_URL not set")
        # a schema of its own per test, as the SQLite twin gets a file of its own
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = create_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        s = Store(f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}")
        request.addfinalizer(admin.dispose)
        request.addfinalizer(lambda: _drop_schema(admin, schema))
    yield s
    s.close()


def _drop_schema(engine, schema: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
