from sealed.workers.worker import main

main()
