"""The demo harness: what `ape run demo`, `ape run screenshots` and tests/dashboard share.

`replay` trains the demo's model, primes the history store and replays a scenario's payments with a
live decision feed; `dashboard` starts `verdict dashboard` as a child process and knows the headless
Chromium that looks at it.
"""
