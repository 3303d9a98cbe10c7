"""The commands, one module each, registered on the typer app by import."""
from . import check, due, init, plan, reply, run  # noqa: F401
