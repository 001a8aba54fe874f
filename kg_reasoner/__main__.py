from kg_reasoner.cli import run

run()
