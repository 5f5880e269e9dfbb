from fleetshift.cli import main

main()
