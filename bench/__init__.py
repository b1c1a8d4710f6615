"""The benchmark kit behind `make bench` (`python -m bench`, `bench.run`): `anvil` (the bench's own
chains, no tracing), `prepare` (the ape part: model, suite, accounts, gas; `ape run bench`),
`phases` (raw, pay-only, end to end, latency, each on a fresh chain), `chain` and `loadgen` (the
load generator's own process), `gas`, `scoring`, and `report` (writes docs/benchmarks.md, with
NOTES.md appended). The run's figures are kept in bench/results.json.
"""
