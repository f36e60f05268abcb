from bglint.cli import run

run()
