"""civic's benchmarks: `civic bench` (or `python -m bench`) runs them all; each module also runs alone."""
