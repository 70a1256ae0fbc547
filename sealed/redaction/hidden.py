"""Characters a reader does not see, as regex character-class bodies: what both
the redactor's canonical view (canonical.py) and the injection screen remove."""

# Zero-width and invisible format characters (plus soft hyphen, CGJ, Mongolian
# vowel separator, which render as nothing too).
ZERO_WIDTH = "\u00ad\u034f\u180e\u200b-\u200f\u2060-\u2064\ufeff"
# Bidi embeddings, overrides and isolates: they reorder what a human sees.
BIDI = "\u202a-\u202e\u2066-\u2069"
# Unicode tag characters mirror ASCII at U+E0000: text a human cannot see.
TAGS = "\U000e0000-\U000e007f"
TAG_OFFSET = 0xE0000
