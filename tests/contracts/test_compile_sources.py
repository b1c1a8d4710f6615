"""Every project contract stays visible to ape after a compile has unpacked the OpenZeppelin
dependency into contracts/.cache (issue 14.1: a second `make demo` failed with "'LocalProject'
object has no attribute 'MockStablecoin'").

ape lists a project's sources from the first 500 files it meets under contracts/ (`.cache`
included, exclusions applied only afterwards); the npm package copied whole (248 sources, 258
prebuilt JSON artifacts) filled that list before the project's own contracts.
"""

from __future__ import annotations

from ape import Project, compilers, project

APE_SOURCE_WALK_LIMIT = 500  # ape.managers.project.SourceManager._all_files: max_files=500


def _own_sources() -> set:
    return {p for p in project.contracts_folder.rglob("*.sol") if ".cache" not in p.parts}


def test_the_dependency_cache_leaves_room_for_every_contract():
    # What every compile does first: unpack the dependencies into contracts/.cache.
    compilers.solidity.get_import_remapping(project)
    walked = [p for p in project.contracts_folder.rglob("*.*") if p.is_file()]
    assert len(walked) < APE_SOURCE_WALK_LIMIT, (
        f"{len(walked)} files under contracts/: ape would list only the first {APE_SOURCE_WALK_LIMIT}"
    )
    # A fresh project (a second `ape run`) sees every contract of ours.
    fresh = Project(project.path)
    assert _own_sources() <= set(fresh.sources.paths)
    assert fresh.contracts.get("MockStablecoin") is not None
