"""Demo data for `make run` (`declass demo bootstrap`)."""
