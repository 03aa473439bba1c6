"""Comm-IT's benchmark: proves the speed and memory targets of bench/README.md."""
