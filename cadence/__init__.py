"""cadence: a follow-up cadence runner over plain files."""

__version__ = "0.1.0"
