from bankvoc.cli import main

main()
