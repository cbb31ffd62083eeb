from gitml.cli.app import run

run()
