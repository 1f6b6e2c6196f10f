"""`python -m bot.bench` is `python -m bot bench`."""

import argparse
import sys

from bot.bench import add_arguments, cmd_bench

parser = argparse.ArgumentParser(prog="python -m bot.bench")
add_arguments(parser)
sys.exit(cmd_bench(parser.parse_args()))
