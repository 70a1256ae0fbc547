"""Merge sensor readings from several files.

Readings whose timestamp is older than the retention window are ignored, and so are
duplicates: the system keeps the first reading it sees for each (sensor, timestamp).
"""

from datetime import datetime, timedelta


def merge(readings, retention=timedelta(days=30), now=None):
    """Return readings newer than `retention`, ignoring previous duplicates."""
    now = now or datetime.now()
    seen = set()
    out = []
    for r in readings:
        # Ignore anything outside the window: the upstream system resends old data.
        if now - r.ts > retention or (r.sensor, r.ts) in seen:
            continue
        seen.add((r.sensor, r.ts))
        out.append(r)
    return out
