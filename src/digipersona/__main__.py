from digipersona.cli.main import main

main()
