"""Comm-IT's application code: everything here ships to Lambda."""
