#!/usr/bin/env python3
"""Run Slither's command line with one parser fix applied; arguments are Slither's own.

Slither 0.11.6 merges the `using ... for` directives that a contract inherits with
`dict.update`, so when two bases attach libraries to the same type (for example
OpenZeppelin's EIP712 `using ShortStrings for *` and ReentrancyGuardTransient
`using TransientSlot for *`), the libraries of all but the last base are lost. The
library calls of the other base then have no target, IR generation fails ("Impossible
to generate IR ... 'NoneType' object has no attribute 'parameters'") and Slither marks
the whole contract as incorrectly constructed: no SSA, so data-dependency based detectors
report false positives (msg-value-in-nonpayable, uninitialized-state) and can miss real
findings, while the run still succeeds. Upstream: crytic/slither issue #3082, pull
request #3094 (open). This adds the dropped libraries back after Slither's own pass;
it is a no-op where the lists are already complete, so it is safe once upstream is fixed.

Usage: tools/slither_run.py TARGET [slither options]   (as `slither`)
"""

from __future__ import annotations

from slither.__main__ import main
from slither.solc_parsing.declarations.contract import ContractSolc

_analyze_using_for = ContractSolc.analyze_using_for


def _analyze_using_for_merged(self: ContractSolc) -> None:
    _analyze_using_for(self)
    using_for = self._contract.using_for  # noqa: SLF001 - the attribute the parser fills
    for father in self._contract.inheritance:
        for key, libraries in father.using_for.items():
            merged = using_for.setdefault(key, [])
            for library in libraries:
                if library not in merged:
                    merged.append(library)


ContractSolc.analyze_using_for = _analyze_using_for_merged

if __name__ == "__main__":
    main()
