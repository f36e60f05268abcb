from bglint.cli import main

main()
