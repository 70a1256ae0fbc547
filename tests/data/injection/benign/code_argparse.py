import argparse

parser = argparse.ArgumentParser(description="Re-run failed jobs.")
parser.add_argument(
    "--ignore-previous", action="store_true", help="ignore previous runs and start from scratch"
)
parser.add_argument("--system", default="prod", help="target system: prod or staging")
args = parser.parse_args()
