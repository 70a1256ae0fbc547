"""The training loop (`sealed curate export`): finished missions as chat
fine-tuning records (OpenAI's JSONL), from profiles whose registered
`exportable` allows it, every record redacted again and checked whole, every
export and every dropped mission audited.

- selection.py: which missions (a visibility query, `--since`);
- history.py: a finished mission as its history holds it;
- registered.py: the profiles, prompts and redaction key as OpenBao holds them;
- export.py: the rules, the audit, one line per mission (chat_format.py,
  scrub.py) into a file written whole or not at all (writer.py)."""

from sealed.curation.chat_format import ChatRecord, chat_record
from sealed.curation.export import Dropped, Export, ExportReport, Registry, export_policy
from sealed.curation.history import (
    FinishedMission,
    UnreadableMission,
    fetch_finished,
    read_finished,
)
from sealed.curation.registered import OperatorRegistry
from sealed.curation.scrub import Scrubber
from sealed.curation.selection import Listed, Selection, SinceError, matching, parse_since
from sealed.curation.writer import JsonlWriter, OutputExists

__all__ = [
    "ChatRecord",
    "Dropped",
    "Export",
    "ExportReport",
    "FinishedMission",
    "JsonlWriter",
    "Listed",
    "OperatorRegistry",
    "OutputExists",
    "Registry",
    "Scrubber",
    "Selection",
    "SinceError",
    "UnreadableMission",
    "chat_record",
    "export_policy",
    "fetch_finished",
    "matching",
    "parse_since",
    "read_finished",
]
