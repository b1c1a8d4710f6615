"""The benchmark kit behind `ape run bench` (`make bench`): `chain` (the chain's ceiling, bursts and
latency, with `loadgen` as the load generator's own process), `gas`, `scoring`, and `report`
(writes docs/benchmarks.md, with NOTES.md appended). The run's figures are kept in bench/results.json.
"""
