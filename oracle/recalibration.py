"""`verdict recalibrate`: a model's risk scale refitted on a node's recent traffic, as a new model
directory (`oracle.train.recalibrate` does the refit; this module finds the traffic and guards the
files).

The traffic is a payments table (Verdict's columns, optionally labelled) or the node's own store:
every payment it recorded, with its accounts' KYC profile (country, opening time) as the daemon
scores them. The store holds no fraud labels, so all of its payments count as legitimate; leave known
frauds out by exporting a labelled table instead.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import aliased

from oracle.calibration import MIN_CALIBRATION_LEGIT
from oracle.db import PAYMENT_RECORD_COLUMNS, OverDatabase, accounts, payments
from oracle.errors import DataError
from oracle.model import ModelArtifact, load, save
from oracle.report import _parse_when, iso
from oracle.train import recalibrate


class StoreTraffic(OverDatabase):
    """The payments a node's store recorded, as a payments table (read-only)."""

    def table(self) -> pd.DataFrame:
        payer, payee = aliased(accounts), aliased(accounts)
        q = (
            select(
                *PAYMENT_RECORD_COLUMNS,
                payer.c.country.label("payer_country"),
                payee.c.country.label("payee_country"),
                payer.c.created_at.label("payer_created_at"),
                payee.c.created_at.label("payee_created_at"),
            )
            .outerjoin(payer, payer.c.address == payments.c.payer)
            .outerjoin(payee, payee.c.address == payments.c.payee)
            .order_by(payments.c.timestamp, payments.c.id)
        )
        with self._db.tx("reading the recorded payments") as conn:
            rows = conn.execute(q).all()
        if not rows:
            raise DataError(f"store {self.label} holds no payments yet: run the node first, or give --data")
        return pd.DataFrame([tuple(r) for r in rows], columns=list(q.selected_columns.keys()))


def parse_since(text: str | None) -> int | None:
    """--since: a unix time in seconds, a day (YYYY-MM-DD, from its start, UTC) or an ISO date-time."""
    if text is None:
        return None
    stripped = text.strip()
    if stripped.isdigit():
        return int(stripped)
    return _parse_when(stripped, "--since", end_of_day=False)


@dataclass(frozen=True)
class Recalibrated:
    artifact: ModelArtifact
    previous_id: str
    legitimate_rows: int


def check_paths(model: Path, out: Path) -> None:
    """--out is a new directory (or an earlier output of this command), never the model itself."""
    if out.resolve() == model.resolve():
        raise DataError(
            f"--out {out} is the model directory itself: write the recalibrated model elsewhere "
            "(it is a new model id, to approve before a node uses it)"
        )
    if out.exists() and not out.is_dir():
        raise DataError(f"--out {out} is a file, not a directory")
    if out.is_dir() and any(out.iterdir()) and not (out / "metadata.json").is_file():
        raise DataError(f"--out {out} is a directory holding other files: give a new or empty one")
    if not out.parent.is_dir():
        raise DataError(f"--out {out}: folder {out.parent} does not exist; create it first")


def recalibrate_dir(
    model: Path,
    out: Path,
    traffic: pd.DataFrame,
    *,
    since: int | None,
    label: str | None,
    source: str,
) -> Recalibrated:
    """Loads `model`, refits its scale on `traffic` (rows from `since` on, frauds by `label` left
    out) and saves the result to `out`. The same inputs give the same model id, so a second run
    rewrites the same files."""
    check_paths(model, out)
    artifact = load(model)
    if since is not None and "timestamp" in traffic.columns:
        times = pd.to_numeric(traffic["timestamp"], errors="coerce")
        recent = int((times >= since).sum())
        if recent < MIN_CALIBRATION_LEGIT:
            newest = f", the newest is {iso(times.max())}" if times.notna().any() else ""
            raise DataError(
                f"{source} has {recent} payments from {iso(since)} on{newest}; at least "
                f"{MIN_CALIBRATION_LEGIT} are needed: give an earlier --since"
            )
    moved = recalibrate(artifact, traffic, since=since, label=label, source=source)
    staged = out.with_name(f".{out.name}.partial")
    shutil.rmtree(staged, ignore_errors=True)
    save(moved, staged)
    # The whole directory at once: a node watching --out never reads half a model.
    if out.exists():
        shutil.rmtree(out)
    staged.rename(out)
    return Recalibrated(moved, artifact.model_id, int(moved.calibration.info["legitimate_rows"]))
