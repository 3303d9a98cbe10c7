"""Tests placed in tests/mail/ get the mail fixtures without importing them."""
from .fixtures import *  # noqa: F401,F403
