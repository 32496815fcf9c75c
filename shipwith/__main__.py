from shipwith.cli import main

main()
