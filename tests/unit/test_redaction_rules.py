"""The pattern rules against their corpus (tests/data/redaction/rules/<rule-id>.yaml),
plus the engine's promises: every occurrence, one span per overlap, PEM blocks whole,
no findings in ordinary text, the same answers from both engines (when hyperscan is
installed), and linear time on pathological input."""

from __future__ import annotations

import json
import random
import string
import time
from pathlib import Path

import pytest

from bench.corpus import load_corpus, score_corpus
from sealed.redaction.findings import Finding
from sealed.redaction.patterns import RULES_BY_ID, find_secrets, hyperscan_available
from sealed.redaction.patterns.validators import iban_valid, luhn, shannon_entropy

CORPUS_DIR = Path(__file__).parents[1] / "data" / "redaction" / "rules"
CORPUS = load_corpus(CORPUS_DIR)
ENGINES = ["re", "hyperscan"] if hyperscan_available() else ["re"]

TRUE_POSITIVES = [
    pytest.param(rule_id, ex.text, ex.secret, id=f"{rule_id}-tp{i}")
    for rule_id, (tps, _) in CORPUS.items()
    for i, ex in enumerate(tps)
]
FALSE_POSITIVES = [
    pytest.param(rule_id, ex.text, id=f"{rule_id}-fp{i}")
    for rule_id, (_, fps) in CORPUS.items()
    for i, ex in enumerate(fps)
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("rule_id", "text", "secret"), TRUE_POSITIVES)
def test_true_positive_found_with_exact_span(rule_id: str, text: str, secret: str, engine: str):
    start = text.index(secret)
    found = find_secrets(text, (RULES_BY_ID[rule_id],), engine=engine)  # type: ignore[arg-type]
    assert found == [Finding(rule=rule_id, start=start, end=start + len(secret))]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("rule_id", "text"), FALSE_POSITIVES)
def test_false_positive_left_alone(rule_id: str, text: str, engine: str):
    # by the whole rule set, not only by its own rule: a near miss for one rule
    # must not be a secret for another (the corpus is scored that way too)
    assert find_secrets(text, engine=engine) == []  # type: ignore[arg-type]


def test_every_rule_has_a_corpus_with_four_and_four():
    assert set(CORPUS) == set(RULES_BY_ID)
    for rule_id, (tps, fps) in CORPUS.items():
        assert len(tps) >= 4 and len(fps) >= 4, rule_id


@pytest.mark.parametrize(("rule_id", "text", "secret"), TRUE_POSITIVES)
def test_every_match_contains_a_keyword(rule_id: str, text: str, secret: str):
    # The keywords are the rule's prefilter (and its hyperscan anchor's reason to
    # be): a match that contains none of them would be missed by a keyword scan.
    rule = RULES_BY_ID[rule_id]
    subject = text.lower() if rule.lowercase else text
    matches = list(rule.regex.finditer(subject))
    assert matches
    for m in matches:
        whole = subject[m.start() - rule.lead : m.end()].lower()
        assert any(k in whole for k in rule.keywords), (rule_id, whole)


def test_corpus_score_is_perfect():
    for rule_id, (hit, tps, flagged, _) in score_corpus(CORPUS_DIR).items():
        assert (hit, flagged) == (tps, 0), rule_id


# --- engine behaviour --------------------------------------------------------

_rng = random.Random(5)


def _tok(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


GH = [f"ghp_{_tok(36)}" for _ in range(3)]
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    + "\n".join(_tok(64, string.ascii_letters + string.digits + "+/") for _ in range(12))
    + "\n-----END RSA PRIVATE KEY-----"
)


@pytest.mark.parametrize("engine", ENGINES)
def test_every_occurrence_found_in_order(engine: str):
    text = f"a={GH[0]} b={GH[1]}\n{GH[0]} again, and mail ops@acme-corp.io, {GH[2]}."
    found = find_secrets(text, engine=engine)  # type: ignore[arg-type]
    assert [text[f.start : f.end] for f in found] == [
        GH[0],
        GH[1],
        GH[0],
        "ops@acme-corp.io",
        GH[2],
    ]
    assert [f.rule for f in found] == ["github-token"] * 3 + ["email", "github-token"]


@pytest.mark.parametrize("engine", ENGINES)
def test_overlapping_rules_make_one_span(engine: str):
    key = f"sk-proj-{_tok(60)}T3BlbkFJ{_tok(60)}"
    jwt = (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
        + "eyJzdWIiOiJzdmMtcmVwb3J0cyIsImV4cCI6MTcxODAwMzYwMH0."
        + _tok(43)
    )
    text = f'OPENAI_API_KEY="{key}"\nAuthorization: Bearer {jwt}\n'
    found = find_secrets(text, engine=engine)  # type: ignore[arg-type]
    # generic-secret also matches the key, bearer-token the JWT: one span each,
    # named after the more specific rule
    assert found == [
        Finding(rule="openai-api-key", start=text.index(key), end=text.index(key) + len(key)),
        Finding(rule="jwt", start=text.index(jwt), end=text.index(jwt) + len(jwt)),
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_multiline_pem_found_whole(engine: str):
    text = f"config dump:\n{PEM}\nnext line {PEM}"
    found = find_secrets(text, engine=engine)  # type: ignore[arg-type]
    first = text.index(PEM)
    second = text.index(PEM, first + 1)
    assert found == [
        Finding(rule="private-key", start=first, end=first + len(PEM)),
        Finding(rule="private-key", start=second, end=second + len(PEM)),
    ]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "card", ["4887 623286 0129", "6464-686958-96935", "2925899139441177", "6454 3561 2806 1920"]
)
def test_a_card_is_found_after_a_boundary_only(card: str, engine: str):
    # Hyperscan locates a card from the character before it, as the rule's
    # (ASCII) lookbehind reads it, so a run of digits is one place to start; the
    # 4-6-4 and 4-6-5 shapes start with any digit the rule allows (card() checks none).
    rules = (RULES_BY_ID["credit-card"],)
    for before in ("", " ", "\n", "(", ":", '"', "=", "/", "é", "\u0664"):
        start = len(before)
        found = find_secrets(f"{before}{card} ok", rules, engine=engine)  # type: ignore[arg-type]
        assert found == [Finding(rule="credit-card", start=start, end=start + len(card))]
    for before in ("a", "Z", "_", ".", ",", "+", "-", "7", "1234567890"):
        assert find_secrets(f"{before}{card} ok", rules, engine=engine) == [], before  # type: ignore[arg-type]


@pytest.mark.parametrize("engine", ENGINES)
def test_an_email_is_found_wherever_the_first_at_sign_is(engine: str):
    # the scan for "@" starts where the first one can begin a match
    filler = "the quick brown fox, " * 400
    for text, emails in (
        (f"ops@acme-corp.io {filler}", ["ops@acme-corp.io"]),
        (f"{filler}ops@acme-corp.io", ["ops@acme-corp.io"]),
        (f"{filler}ops@acme", []),
    ):
        found = find_secrets(text, engine=engine)  # type: ignore[arg-type]
        assert [text[f.start : f.end] for f in found] == emails


def test_validators():
    assert luhn("4539578763621486") and not luhn("4539578763621487")
    assert iban_valid("DE89370400440532013000") and not iban_valid("DE89370400440532013001")
    assert iban_valid("GB82 WEST 1234 5698 7654 32")
    assert shannon_entropy("aaaa") == 0 and shannon_entropy("abcd") == 2


def test_non_ascii_text_keeps_offsets():
    # str.lower() would turn "İ" into two characters and shift every span after it
    text = f"İstanbul ünïcode — PASSWORD={_tok(20)} and {GH[0]}"
    for f in find_secrets(text, engine="re"):
        assert text[f.start : f.end] in text
    spans = [text[f.start : f.end] for f in find_secrets(text, engine="re")]
    assert spans == [text.split("PASSWORD=")[1].split()[0], GH[0]]
    if hyperscan_available():
        assert find_secrets(text, engine="hyperscan") == find_secrets(text, engine="re")


# --- security review: catalogue gaps, and lookup keys read as secrets ---------

_B64 = string.ascii_letters + string.digits + "+/"
# What `bao token create` prints (OpenBao 2.x issues the legacy `s.` form), a
# Vault 1.10+ service token, and an STS session token far past 256 characters.
OPENBAO = f"s.{_tok(24)}"
HVS = f"hvs.CAESI{_tok(86, string.ascii_letters + string.digits + '_-')}"
SESSION = "IQoJb3JpZ2luX2VjE" + _tok(683, _B64)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("text", "secret", "rule"),
    [
        (f"vault login {HVS}", HVS, "vault-service-token"),
        (f"Key      Value\n---      -----\ntoken    {OPENBAO}\n", OPENBAO, "vault-legacy-token"),
        (f"aws_session_token = {SESSION}\n", SESSION, "aws-session-token"),
        (f'{{"Credentials": {{"SessionToken": "{SESSION}"}}}}', SESSION, "aws-session-token"),
        (f"sts returned {SESSION} for the job", SESSION, "aws-session-token"),
    ],
    ids=["hvs", "openbao-cli", "session-env", "session-json", "session-bare"],
)
def test_vault_and_session_tokens_redacted_whole(text: str, secret: str, rule: str, engine: str):
    assert len(SESSION) == 700
    start = text.index(secret)
    found = find_secrets(text, engine=engine)  # type: ignore[arg-type]
    assert found == [Finding(rule=rule, start=start, end=start + len(secret))]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "text",
    [
        'idempotency_key: "3f2c8a91-5d4e-4b7a-9c1f-8e2d6a0b4c73"',
        'cache_key = "9fceb02d0ae598e95dc970b74767f19372d61af8"',
        '{"Contents": [{"Key": "uploads/2024/05/7f3a9c2e-4b1d-4e8a-9c3f-2d1e0b9a8c7f/report.pdf",'
        ' "Size": 48213, "StorageClass": "STANDARD"}]}',
        "- key: Ctrl+Shift+P\n  command: workbench.action.showCommands",
    ],
    ids=["idempotency-uuid", "cache-sha", "s3-object-key", "keybinding"],
)
def test_lookup_keys_are_not_secrets(text: str, engine: str):
    # a key that names a record, a file or a shortcut is not a credential
    assert find_secrets(text, engine=engine) == []  # type: ignore[arg-type]


# --- realistic text: no false positives, the same answer from both engines, speed ----

_VOCABULARY = (
    "the of and to in is that for it as with was on be by this are from at or an have not "
    "request service user order payment deploy cluster worker queue retry timeout error "
    "customer invoice report schedule mission agent tool model prompt response latency "
    "database migration index cache session configuration release version feature support "
    "token key secret password author basic bearer access credentials passenger monkey"
)
_WORDS = _VOCABULARY.split()


def _prose(r: random.Random) -> str:
    s = " ".join(r.choice(_WORDS) for _ in range(r.randint(8, 25)))
    return s[0].upper() + s[1:] + r.choice([". ", ". ", "? ", ".\n\n"])


def _log(r: random.Random) -> str:
    return (
        f"2024-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T{r.randint(0, 23):02d}:"
        f"{r.randint(0, 59):02d}:{r.randint(0, 59):02d}.{r.randint(0, 999):03d}Z "
        f"{r.choice(['INFO', 'DEBUG', 'WARN', 'ERROR'])} [worker-{r.randint(1, 16)}] "
        f"{r.choice(['GET', 'POST'])} /api/v1/orders/{r.randint(1, 99999)}?page={r.randint(1, 9)} "
        f"{r.choice([200, 201, 404, 500])} {r.randint(1, 2500)}ms "
        f"trace_id={r.getrandbits(128):032x} ip=10.{r.randint(0, 255)}.{r.randint(0, 255)}."
        f"{r.randint(1, 254)} bytes={r.randint(100, 10**7)} user_id={r.randint(1, 10**9)}\n"
    )


def _json(r: random.Random) -> str:
    uuid = "-".join(f"{r.getrandbits(4 * n):0{n}x}" for n in (8, 4, 4, 4, 12))
    obj = {
        "id": r.randint(1, 10**12),
        "uuid": uuid,
        "name": r.choice(_WORDS).title(),
        "status": r.choice(["open", "closed"]),
        "created_at": f"2024-0{r.randint(1, 9)}-1{r.randint(0, 9)}T10:00:00Z",
        "amount": round(r.random() * 1000, 2),
        "key": r.choice(["sort", "region", "user.name"]),
        "usage": {"prompt_tokens": r.randint(10, 5000), "total_tokens": r.randint(10, 9000)},
        "version": f"{r.randint(1, 3)}.{r.randint(0, 20)}.{r.randint(0, 9)}",
    }
    return json.dumps(obj) + "\n"


def _code(r: random.Random) -> str:
    v = r.choice(_WORDS)
    return (
        f"def handle_{v}(request, token=None):\n"
        f"    key = cache_key(request.{v}_id, 'user:{{uid}}')\n"
        f'    api_key = os.environ["API_KEY"]\n'
        f'    headers = {{"Authorization": f"Bearer {{token}}"}}\n'
        f"    if token is None or len(token) < {r.randint(8, 64)}:\n"
        f'        raise ValueError("missing token for {v}")\n'
        f"    return x + {r.randint(1, 99)} * y - 0.{r.randint(0, 99)}\n\n"
    )


def mixed_text(size: int = 1 << 20, seed: int = 7, planted: tuple[str, ...] = ()) -> str:
    """Logs, JSON, prose and code in equal parts, with `planted` secrets inserted."""
    r = random.Random(seed)
    parts: list[str] = []
    total = 0
    while total < size:
        part = r.choice([_prose, _log, _json, _code])(r)
        parts.append(part)
        total += len(part)
    for secret in planted:
        parts.insert(r.randrange(len(parts)), f"{secret}\n")
    return "".join(parts)


PLANTED = (
    GH[0],
    f"AKIA{_tok(16, string.ascii_uppercase + '234567')}",
    PEM,
    "reach me at dana.whitfield@globex-mail.com",
    "postgres://svc:" + _tok(16) + "@db.prod.internal:5432/app",
    "card 4539 5787 6362 1486",
    f'client_secret: "{_tok(32)}"',
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhIn0." + _tok(43, string.ascii_letters),
)


@pytest.fixture(scope="module")
def mixed() -> str:
    return mixed_text(planted=PLANTED)


@pytest.mark.parametrize("engine", ENGINES)
def test_ordinary_text_yields_only_the_planted_secrets(mixed: str, engine: str):
    found = find_secrets(mixed, engine=engine)  # type: ignore[arg-type]
    spans = [mixed[f.start : f.end] for f in found]
    stray = [s for s in spans if not any(s in p for p in PLANTED)]
    assert stray == []
    assert len(found) == len(PLANTED)


def test_engines_agree(mixed: str):
    if not hyperscan_available():
        pytest.skip("hyperscan is not installed")
    assert find_secrets(mixed, engine="hyperscan") == find_secrets(mixed, engine="re")
    for tps, fps in CORPUS.values():
        for ex in tps + fps:
            assert find_secrets(ex.text, engine="hyperscan") == find_secrets(ex.text, engine="re")


@pytest.mark.parametrize("engine", ENGINES)
def test_throughput(mixed: str, engine: str):
    """Prints ms per MiB over the whole rule set; the bound only catches blow-ups
    (a quadratic regex), the target itself is `make bench`'s business."""
    mib = len(mixed) / (1 << 20)
    find_secrets(mixed, engine=engine)  # type: ignore[arg-type]  # warm: compile, scratch
    timings = []
    for _ in range(5):
        t0 = time.perf_counter()
        find_secrets(mixed, engine=engine)  # type: ignore[arg-type]
        timings.append((time.perf_counter() - t0) * 1000 / mib)
    print(f"\nfind_secrets[{engine}]: {min(timings):.1f} ms/MiB (median {sorted(timings)[2]:.1f})")
    assert min(timings) < 1000


_PATHOLOGICAL = {
    "digit run": "7" * (1 << 18),
    "16-digit numbers": " ".join(str(_rng.randrange(10**15, 10**16)) for _ in range(15000)),
    "@ run": "@" * (1 << 18),
    "decorators": "class A:\n    @property\n    def b(self):\n        return 1\n" * 5000,
    "PEM headers without keys": "-----BEGIN RSA PRIVATE KEY-----\n" * 8000,
    "key assignments": "".join(f"key_{i} = value{i}\n" for i in range(15000)),
    "prefix spam": "sk-ghp_eyJxoxb-glpat-://a:b@" * 9000,
    "base64 run": _tok(1 << 18, string.ascii_letters + string.digits + "+/"),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", _PATHOLOGICAL)
def test_pathological_text_stays_linear(name: str, engine: str):
    # Every regex is bounded and every locator skips runs, so no input shape costs
    # more than a fraction of a second per 256 KiB (a quadratic one would take minutes).
    text = _PATHOLOGICAL[name]
    find_secrets(text[:1000], engine=engine)  # type: ignore[arg-type]  # compile
    t0 = time.perf_counter()
    find_secrets(text, engine=engine)  # type: ignore[arg-type]
    assert time.perf_counter() - t0 < 1.0
