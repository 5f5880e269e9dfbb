from relay.bridge import main

main()
