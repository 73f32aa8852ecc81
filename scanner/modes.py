"""What a scanning session records for each scan (apart from the session, so that the command
line can offer the modes without loading the reader)."""

MODES = ("verify", "receive", "ship", "dispense", "return", "destroy", "pack")
# Modes that move whole cases when a case's SSCC is scanned.
CASE_MODES = frozenset({"receive", "ship", "return"})
