from sealed.cli import main

main()
