import re

# Tokens: identifiers, numbers, and operators. Whitespace and comments are ignored.
TOKEN = re.compile(r"\s*(?:(\d+)|(\w+)|(.))")
