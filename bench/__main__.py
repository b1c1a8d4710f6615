"""`python -m bench` (`make bench`): see `bench.run`."""

from bench.run import main

main()
