"""Verdict's deployment library: the one deploy path (`deploy_world`) and the one role map (`Roles`),
used by the `ape run` scripts, `ape console`, the tests and the bench.

    from verdict_deploy import Dao, Roles, deploy_world
    world = deploy_world(Roles.local(), models=[artifact.model_id], escrow=True, dao=Dao.GOVERNS)

Modules: `world` (roles, the world and its deploy), `suite` (router + oracle, deployment records),
`escrow` (milestone escrow and its scenario), `governance` (the DAO and governance rounds),
`console` (the helpers `ape_console_extras.py` re-exports), `treasury` (the treasury report).
"""

from verdict_deploy.suite import (
    deployment_path,
    is_local_network,
    load_deployment,
    require_deployment,
    write_deployment,
)
from verdict_deploy.world import (
    MANIFEST,
    Dao,
    Roles,
    World,
    deploy_world,
    model_id_bytes,
    thresholds_of,
    verdict_settings,
)

__all__ = [
    "MANIFEST",
    "Dao",
    "Roles",
    "World",
    "deploy_world",
    "deployment_path",
    "is_local_network",
    "load_deployment",
    "model_id_bytes",
    "require_deployment",
    "thresholds_of",
    "verdict_settings",
    "write_deployment",
]
