"""`python -m dealergate` is the `dealergate` command (used to start child processes)."""

from dealergate.cli import app

app()
