from ltvkit.cli import console_main

console_main()
