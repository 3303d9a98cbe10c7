"""The commands, one module each, registered on the typer app by import."""
from . import check, due, forecast, init, plan, render, reply, run, stats  # noqa: F401
