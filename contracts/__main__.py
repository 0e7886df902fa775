from contracts.cli import main

main()
