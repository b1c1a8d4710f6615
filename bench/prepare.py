"""The part of `make bench` that needs ape: the model, scoring speed, the suite, the load generator's
accounts, and gas. Runs as `ape run bench` against the bench's own automining anvil (`bench.anvil`;
ape connects to it through `APE_FOUNDRY_HOST`), whose state every later phase starts from.

Writes `setup.json` in the work directory: where the deployment, the model and the node's key are,
the tokens, and the scoring and gas figures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ape import networks
from eth_account import Account
from rich.console import Console

from bench.chain import BURST_PAYEES, PAYER_SETS, ChainBench
from bench.gas import cross_border_gas, governance_and_escrow_gas, network_gas, payment_gas
from bench.history import DEADLINE_WINDOW_S, Population, prime_template
from bench.scoring import batch_scoring, compiled_predictor, single_payment
from oracle.chain import ETH, ChainClient, Deployment, load_abis
from oracle.datagen import generate
from oracle.model import load, save
from oracle.traffic import wallets
from oracle.train import train
from verdict_deploy import MANIFEST, Roles, deploy_world


def prepare(work: Path, with_scoring: bool = True, with_gas: bool = True) -> dict[str, Any]:
    console = Console()
    out: dict[str, Any] = {}
    with console.status("training the model..."):
        frame = generate(rows=40_000, seed=7, fraud_rate=0.01)
        artifact, _ = train(frame, label="is_fraud", time_col="timestamp", seed=7)
        save(artifact, work / "model")
        artifact = load(work / "model")
    if with_scoring:
        with console.status("scoring: single payments, batches, Booster.predict against lleaves..."):
            out["scoring"] = {
                "single": single_payment(artifact, work / "scoring.sqlite"),
                "batch": batch_scoring(artifact),
                "compiled": compiled_predictor(artifact, work / "model", work / "model-lleaves.so"),
            }
        console.print("scoring done")

    roles = Roles.local()
    world = deploy_world(roles, models=[artifact.model_id], with_stablecoin=True, root=work)
    abis = load_abis(MANIFEST)
    client = ChainClient(networks.provider.uri, Deployment.load(world.deployment), abis)
    tokens = {"ETH": ETH, "mUSD": str(world.stablecoin.address)}
    bench = ChainBench(client, world.deployment, MANIFEST, work, tokens)
    with console.status("funding the load generator's accounts..."):
        for name, (payers, with_token) in PAYER_SETS.items():
            bench.fund_payers(name, payers, with_token)
    # The burst moves the chain's clock on an hour between its rounds (bench.history): a payment
    # requested just before a jump and decided just after it must not expire on the way.
    world.router.setDeadlineWindow(DEADLINE_WINDOW_S, sender=roles.deployer)
    with console.status("priming the burst's history (profiles and a month of payments)..."):
        burst = PAYER_SETS["burst"][0]
        population = Population(
            [a.address for a in wallets(burst, seed="verdict-bench-burst:payer")],
            [a.address for a in wallets(BURST_PAYEES, seed="verdict-bench-burst:payee")],
        )
        out["history"] = prime_template(work, population)
    console.print(f"history primed: {out['history']}")
    out.update(
        deployment=str(world.deployment),
        manifest=str(MANIFEST),
        model_dir=str(work / "model"),
        model_id=artifact.model_id,
        node_key=roles.node.private_key,  # ape's public test mnemonic: a local chain only
        tokens=tokens,
    )
    if with_gas:
        # Measured on a snapshot that is reverted afterwards: the saved state stays as deployed.
        w3 = client.w3
        snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
        with console.status("gas: payments, votes, an escrow release..."):
            node_client = ChainClient(
                networks.provider.uri,
                Deployment.load(world.deployment),
                abis,
                Account.from_key(roles.node.private_key),
            )
            gas = payment_gas(client, node_client, tokens["mUSD"], artifact.model_id, batch=100)
            gas.update(governance_and_escrow_gas(artifact.model_id, work / "gas"))
            gas.update(network_gas(artifact.model_id, work / "gas-network"))
            gas.update(cross_border_gas(artifact.model_id, work / "gas-fx"))
            out["gas"] = gas
        w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    (work / "setup.json").write_text(json.dumps(out, indent=2) + "\n")
    return out
