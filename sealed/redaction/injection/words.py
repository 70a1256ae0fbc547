"""The word lists and gates the injection rules are written with."""

from __future__ import annotations

import re

_Trie = dict[str, "_Trie"]


def _alt(words: str) -> str:
    """A "|"-separated word list as a trie-shaped regex: the engine tries one branch
    per distinct first letter instead of one per word (the lists are long)."""
    trie: _Trie = {}
    for word in words.split("|"):
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: _Trie) -> str:
        ends = "" in node
        parts = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not parts:
            return ""
        body = parts[0] if len(parts) == 1 and not ends else "(?:" + "|".join(parts) + ")"
        return body + "?" if ends else body

    return emit(trie)


VERBS = _alt(
    "ignore|ignoring|disregard|forget|ignora|ignorar|ignoren|ignorez|ignorer|ignoriere"
    "|ignorieren|vergiss|olvida|olvide|oublie|oubliez|oublier|dimentica|ignorare|esqueça"
    "|esqueca|ignorem|игнорируй|игнорируйте|игнорировать|проигнорируй|забудь|забудьте"
    "|negeer|vergeet|zignoruj|ignoruj|zapomnij"
)
QUALS = _alt(
    "previous|prior|above|earlier|preceding|foregoing|original|initial|former|system|all"
    "|any|your|every|anteriores|previas|precedentes|précédentes|antérieures|ci-dessus"
    "|toutes|tous|todas|todos|vorherigen|bisherigen|obigen|alle|allen|precedenti|tutte"
    "|предыдущие|прежние|все|всех|vorige|eerdere|poprzednie|wszystkie"
)
NOUNS = _alt(
    "instruction|instructions|prompt|prompts|directive|directives|rules|guidelines|guidance"
    "|commands|orders|constraints|programming|instrucciones|indicaciones|reglas|consignes"
    "|règles|anweisungen|instruktionen|befehle|regeln|vorgaben|istruzioni|regole|instruções"
    "|instrucoes|regras|инструкции|указания|правила|команды|instructies|regels"
    "|instrukcje|polecenia"
)
AI = _alt(
    "ai|llm|gpt|chatgpt|claude|copilot|language model|ai assistant|ai agent|ai model"
    "|ai system|assistant|chatbot|bot|automated assistant|automated agent|automated system"
)
# AI words that no human reader is called by (unlike "assistant" or "agent").
AI_STRICT = r"ai(?: assistant| agent| model)?|llm|gpt|chatgpt|claude|copilot|language model"
# The task a model was given, as the one who gave it names it: "the task that I
# gave you", "the request you were given", "the question the user asked you".
TASKS = r"(?:task|request|question|assignment|job|instructions?|query|goal|objective|mission)s?"
GIVEN_TASK = (
    rf"(?:the|your|my) (?:\w+ )?{TASKS} (?:that |which )?(?:i|we|the user|your user|you were"
    r"|you(?:[' ]ve| have) been|was|were) (?:gave|given|assigned|set|sent|asked)(?: (?:to )?you)?"
)
# Something else first, the task put off: "before you can", "after doing that",
# "instead of answering"; it ends at a word boundary, for the task that follows.
PUT_OFF = r"\b(?:before|after|instead of|rather than) (?:(?:you|we)\b|\w+ing\b)[^.!?:]{0,40}?\b"
# The start of the conversation, where a model's task is given.
ORIGIN = r"in the (?:beginning|start)|at the (?:start|beginning|outset)|originally|initially"
# The writer as the model's user, up to "to you": "a note from me, Dana, to you".
FROM_USER = (
    r"\b(?:message|note|request|word|instructions?)s? (?:\w+ )?from (?:me|(?:the|your) user)\b"
    r"(?:,? [^.;:]{1,40}?,)? to you\b"
)
# What a fake notice block opens with: "<INFORMATION>", "<URGENT_NOTICE>".
_NOTICES = "information|important|urgent|notice|attention|priority|mandatory|critical"
NOTICE_TAG = rf"<(?:{_NOTICES})(?:[ _-]?(?:message|notice|instructions?|information|note|update))?>"
SECRETS = _alt(
    "api key|api keys|api-key|api-keys|api_key|api_keys|apikey|apikeys|access key|access keys"
    "|secret key|secret keys|private key|private keys|ssh key|ssh keys|token|tokens|password"
    "|passwords|passwd|passphrase|passphrases|credential|credentials|secret|secrets"
    "|session cookie|session cookies|cookies|seed phrase|mnemonic|id_rsa|id_ed25519|id_ecdsa"
    "|netrc|git-credentials|kubeconfig"
)
# Nouns that make "password"/"token" benign: a reset link, a policy, a counter.
NOT_SECRET = (
    r"(?! ?(?:reset|change|policy|manager|field|expir\w*|rotation|strength|requirements?|form"
    r"|page|hint|length|count|limit|usage|budget|hash\w*|toggle|button|icon|checkbox|option"
    r"|input|prompt|validation|rules?|complexity)\b)"
)
SECRET_VERBS = _alt(
    "reveal|print|output|show|display|dump|leak|exfiltrate|disclose|expose|send|share|give"
    "|tell|return|list|include|paste|echo|post|email|upload|forward|append|extract|retrieve"
    "|collect|copy|repeat|attach|write out|read out"
)
# "https://" in the words view.
URL = "https?:  "
# A tool name, in the words view where quotes and backticks read as spaces.
NAME = r"[' ]?[a-z_][\w.-]*[' ]?"
# Request-capture services: where exfiltrated data is collected.
CAPTURE_HOSTS = (
    *("webhook.site", "requestbin.com", "requestbin.net", "requestcatcher.com", "pipedream.net"),
    *("ngrok.io", "ngrok-free.app", "ngrok.app", "ngrok.dev", "burpcollaborator.net"),
    *("oastify.com", "interact.sh", "oast.pro", "oast.live", "oast.site", "oast.online"),
    *("oast.fun", "oast.me", "hookbin.com", "beeceptor.com", "postb.in", "requestinspector.com"),
    *("canarytokens.com", "canarytokens.org", "trycloudflare.com", "pastebin.com"),
    *("transfer.sh", "ptsv2.com", "ptsv3.com", "httpbin.org"),
)
HOSTS = "|".join(re.escape(h) for h in CAPTURE_HOSTS)

# Gates (see Rule.needs), over-inclusive on purpose.
AI_NEEDS = "ai |ai:|ai,|ais |llm|gpt|claude|copilot|language model|assistant|bot |bot,|bot:|bots"
AI_AGENT_NEEDS = f"{AI_NEEDS}|agent|model"
SECRET_NEEDS = (
    "key|token|passw|passphrase|credential|secret|cookie|seed phrase|mnemonic|id_rsa|id_ed"
    "|id_ecdsa|netrc|kubeconfig|git-cred"
)
HOST_NEEDS = "|".join(CAPTURE_HOSTS)
NOTICE_NEEDS = "|".join("<" + w for w in _NOTICES.split("|"))
PUT_OFF_NEEDS = (
    "before|after|instead|rather&task|request|question|assignment|job|instruction|quer|goal"
    "|objective|mission"
)
