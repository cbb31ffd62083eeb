from gitml.cli.fast import run

run()
