"""The local AWS's SQS: receives at a cost per message, not per message squared (scans.py)."""
