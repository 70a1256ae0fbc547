HELP = """Usage: sync [OPTIONS]

  --force        ignore previous sync state
  --dry-run      print the commands instead of running them
  --token TEXT   API token (or set SYNC_TOKEN)
"""
