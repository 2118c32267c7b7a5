from userfacing_api.cli import main

main()
