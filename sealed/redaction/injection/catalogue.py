"""The weighted injection rules: the one place their weights are written.

A rule's weight is what one match adds to its signal (a signal keeps its
strongest match; signals combine as a noisy-OR, see verdict.combine): 0.5 or
more flags a text on its own, a weak rule (below 0.5) only adds up with others.
Rules read the normalised text (normalise.py) and are grouped below by signal;
two signals are also weighed in code, with the weights defined here: hidden
characters (normalise.py) and the URLs of exfiltration links (detector.py).
"""

from __future__ import annotations

from sealed.redaction.injection.rule import Rule, rule
from sealed.redaction.injection.verdict import SIGNALS
from sealed.redaction.injection.words import (
    AI,
    AI_AGENT_NEEDS,
    AI_NEEDS,
    AI_STRICT,
    FROM_USER,
    GIVEN_TASK,
    HOST_NEEDS,
    HOSTS,
    NAME,
    NOT_SECRET,
    NOTICE_NEEDS,
    NOTICE_TAG,
    NOUNS,
    ORIGIN,
    PUT_OFF,
    PUT_OFF_NEEDS,
    QUALS,
    SECRET_NEEDS,
    SECRET_VERBS,
    SECRETS,
    TASKS,
    URL,
    VERBS,
)

_OVR, _ROLE, _SEC, _TOOL, _EXF, _HID = SIGNALS

# hidden_text, from the characters themselves (normalise.py)
HIDDEN_TAGS = 0.8  # Unicode tag characters: ASCII a human cannot see
HIDDEN_ZERO_WIDTH_MANY = 0.6  # 16 or more zero-width characters touching ASCII
HIDDEN_ZERO_WIDTH = 0.35  # fewer
HIDDEN_OVERRIDE = 0.55  # LRO/RLO: a human reads the text reordered
HIDDEN_EMBEDDING = 0.3  # bidi embeddings and isolates: genuine RTL text has them
# exfiltration_link, from the URLs (detector.py)
LINK_IMAGE = 0.85  # an image (fetched without a click) carrying data or aimed at a capture host
LINK_CONVERSATION = 0.75  # a URL template asking for the conversation
LINK_TEMPLATE = 0.4  # any URL template: API docs have them
LINK_OPAQUE = 0.35  # a long opaque query value: presigned URLs have them too

RULES: tuple[Rule, ...] = (
    # -- instruction overrides: "ignore all previous instructions", in 12 languages
    rule(
        _OVR,
        0.9,
        rf"\b(?:{VERBS})\b[^.]{{0,40}}?(?:\b(?:{QUALS})\b[^.]{{0,25}}?\b(?:{NOUNS})\b"
        rf"|\b(?:{NOUNS})\b[^.]{{0,25}}?\b(?:{QUALS})\b)",
        "ignor|disregard|forget|olvid|oubli|vergi|dimentic|esque|игнор|забуд|negeer|vergeet"
        "|zapomnij",
    ),
    rule(
        _OVR,
        0.9,
        r"(?:忽略|无视|忽视|無視|忘记|忘掉|不要理会)[^。]{0,15}?(?:之前|以前|先前|上述|以上|前面"
        r"|所有|全部|上面)[^。]{0,10}?(?:指令|指示|说明|規則|规则|命令|提示)|(?:以前|これまで|上記"
        r"|前)の(?:すべての)?(?:指示|命令|指令)[をは](?:すべて)?無視|이전\s?(?:의\s)?(?:모든\s)?지시"
        r"(?:사항)?(?:을|를)?\s?무시",
        "忽略|无视|忽视|無視|忘记|忘掉|不要理会|무시",
    ),
    rule(
        _OVR,
        0.8,
        # "the above" used as a noun; "ignore previous runs" is code documentation
        r"\b(?:disregard|ignore|forget) (?:all |everything |anything )?(?:of )?(?:the |that |what"
        r" (?:was|is|you were) (?:said |told )?)?(?:above|before|prior|previously|earlier|so far)"
        r"(?= ?(?:$|[.,;:!]|and\b|then\b|instead\b|now\b))|\bforget (?:everything|all)(?: that)?"
        r" you(?:[' ]ve| have)? (?:been told|learned|know)",
        "disregard|ignore|forget",
    ),
    rule(
        _OVR,
        0.75,
        r"\b(?:new|updated|revised|real|actual|true|secret|hidden) (?:instructions?|directives?"
        r"|system prompt|orders) ?:",
        "instruction|directive|system prompt|orders",
    ),
    # "New task: migrate staging" is a meeting note: weak on its own
    rule(
        _OVR,
        0.45,
        r"\b(?:new|real|actual|true) (?:task|objective|goal|rules) ?:",
        "task|objective|goal|rules",
    ),
    rule(
        _OVR,
        0.85,
        r"\byou are now (?:in )?(?:dan|developer mode|unrestricted|jailbroken|free (?:from|of)"
        r"|no longer|(?:a|an) (?:\w+ ){0,2}?(?:ai|assistant|bot|model|chatbot|hacker|character"
        r"|persona))\b|\byou are no longer (?:an? )?(?:ai|assistant|bound|restricted|limited"
        r"|chatgpt|claude)\b",
        "you are",
    ),
    rule(
        _OVR,
        0.85,
        r"\byour (?:real|true|actual|new|updated|primary|only) (?:task|goal|objective|instructions?"
        r"|purpose|mission|job) (?:is|are|now)\b",
        "task|goal|objective|instruction|purpose|mission|job",
    ),
    rule(
        _OVR,
        0.45,
        r"\bfrom now on,? (?:you (?:will|must|are|shall|should)|always|only|respond)",
        "from now on",
    ),
    # addressed to the model: "Hi assistant," is a normal support message (weak),
    # a note "to the AI" or "for AI coding agents:" is not
    rule(
        _OVR,
        0.45,
        rf"\b(?:to|for|attention|dear|hey|hi|hello) (?:the |any |all |an )?(?:{AI})s? ?[:,!—-]",
        AI_NEEDS,
    ),
    rule(_OVR, 0.45, rf"^ ?(?:{AI})s? ?,", AI_NEEDS, lines=True),
    rule(
        _OVR,
        0.8,
        rf"^ ?(?:note to |attention |dear )?(?:the )?(?:{AI_STRICT})s? ?[:,]",
        AI_NEEDS,
        lines=True,
    ),
    rule(
        _OVR,
        0.8,
        rf"\b(?:to|for|attention|dear|hey|hi|hello) (?:the |any |all |an )?(?:{AI_STRICT})s?\b"
        r"(?: (?:reading|processing|summari[sz]ing|reviewing|parsing|viewing) (?:this|these))?"
        rf" ?[:,!—-]|\b(?:to|for|attention|dear) (?:the |any |all |an )?(?:{AI_STRICT})s?"
        r"(?: [\w-]+){1,2} ?[:,!—-]",
        AI_NEEDS,
    ),
    rule(
        _OVR,
        0.8,
        rf"\bif you(?:[' ]re| are) (?:an? )?(?:{AI})\b|\b(?:{AI})s? (?:reading|processing|parsing"
        r"|summari[sz]ing) this\b",
        "if you are|if you're|reading this|processing this|parsing this|summari&" + AI_NEEDS,
    ),
    rule(
        _OVR,
        0.8,
        r"\"(?:instructions?|notes?|message|prompt)_(?:for|to)_(?:ai|assistant|llm|model|agent)\"",
        "_for_|_to_",
    ),
    # the old instructions declared void, or the user's own request to be ignored
    rule(
        _OVR,
        0.8,
        rf"\b(?:{QUALS}) (?:\w+ )?(?:{NOUNS}) (?:are|is|have been|were) (?:now |hereby )?"
        r"(?:suspended|void|revoked|overridden|lifted|deactivated|disabled|cancell?ed|superseded)"
        rf"\b|\b(?:your|all) (?:\w+ )?(?:{NOUNS}) no longer appl(?:y|ies)\b"
        r"|\b(?:disregard|ignore) (?:the |this |that )?(?:user|human|customer|operator)(?:[' ]?s)?"
        r" (?:question|request|message|prompt|query|instructions?)",
        "suspended|void|revoked|overridden|lifted|deactivated|disabled|cancel|superseded"
        "|no longer appl|disregard|ignore",
    ),
    rule(
        _OVR,
        0.6,
        r"\b(?:do not|don[' ]t|never) (?:mention|tell|inform|reveal|disclose|alert|notify|let)"
        r" (?:the )?(?:user|human|operator|anyone)\b|\bdo not (?:mention|reveal|disclose) (?:this"
        r"|these) (?:notice|instructions?|message|note)|\bwithout (?:asking|telling|notifying"
        r"|confirming with|consulting) (?:anyone|the user|a human|the operator)",
        "do not|don't|never|without&user|human|operator|anyone|notice|instruction|message|note",
    ),
    rule(
        _OVR,
        0.7,
        r"\b(?:decode|decrypt|deobfuscate|base64[- ]decode|rot13)\b.{0,60}?\b(?:and|then)\b"
        r".{0,20}?\b(?:follow|execute|run|obey|perform|carry out|comply|act (?:on|upon)"
        r"|do (?:what|as) it says)\b",
        "decode|decrypt|deobfuscate|rot13",
    ),
    rule(
        _OVR,
        0.8,
        r"\b(?:(?<!need to )(?<!have to )do anything now|developer mode (?:enabled|on|activated)"
        r"|jailbreak(?:ed)? mode|dan mode)\b"
        r"|\bact as (?:an? )?(?:unrestricted|unfiltered|uncensored|jailbroken|evil)"
        r"|\b(?:stop|cease|abort) (?:what you(?:[' ]re| are) doing|your (?:current )?task|following"
        r" (?:your|the) (?:instructions|rules))|\bpretend (?:to be|you are|you[' ]re) (?:an? )?"
        r"(?:\w+ ){0,2}?(?:ai|assistant|model|system|administrator|without)\b",
        "anything now|developer mode|jailbr|dan mode|act as|what you|your task|your current task"
        "|following your|following the|pretend",
    ),
    rule(
        _OVR,
        0.8,
        r"\b(?:override|bypass|disable|ignore|turn off) (?:all )?(?:your |its )?(?:safety|content"
        r"|ethical) (?:filters?|guardrails?|restrictions|safeguards|policies|guidelines)",
        "filter|guardrail|restrictions|safeguards|policies|guidelines&safety|content|ethical",
    ),
    # a machine reader addressed and given its orders: "For the assistant editing
    # this chart:", "Agents summarizing this history:", "To whichever bot reads
    # these logs -" ("agents" alone may be a help desk's people: weak)
    rule(
        _OVR,
        0.8,
        r"\b(?:(?:note|notes|instructions?|message|reminder|nb|ps) )?(?:to|for|attention) (?:the"
        r" |any |all |every |each |whichever |whatever |an? )?(?:(?:ai|llm|automated|autonomous"
        r"|code|coding|support|review|reviewing|vision|text|virtual|chat)(?: and|,)?[ -]){1,4}"
        r"(?:assistants?|agents?|bots?|models?|tools?)\b(?: +[\w',()-]+){0,6}? *[:—\u2013]"
        r"|\b(?:to|for) (?:whichever|whatever|any|every) (?:assistant|bot|ai|llm|model|agent)s?\b"
        r"(?: [\w'-]+){0,6}? ?[:—\u2013-]"
        # "To the assistant organising the offsite:" may be a person, and is
        # flagged too: a fenced note costs less than a missed order
        r"|\b(?:to|for|attention) (?:the |any |all )?(?:assistant|bot|llm|copilot)s? (?:\w+ing)\b"
        r"(?: [\w'-]+){0,6}? ?[:—\u2013-]",
        "assistant|agent|bot|ai |ai-|llm|model|copilot|tool",
    ),
    rule(
        _OVR,
        0.75,
        r"(?:^|[.!?:>] )(?:the |any |all )?(?:(?:ai|llm|automated|autonomous|code|coding"
        r"|review|reviewing|support|vision|virtual)[ -]){0,3}(?:assistants?|bots?|llms?|copilots?"
        r"|ai models?|ai agents?)(?: (?:\w+ing|that|who|which)\b)(?: [\w'-]+){0,7}? ?:",
        "assistant|bot|llm|copilot|ai model|ai agent",
    ),
    rule(
        _OVR,
        0.75,
        r"^ ?(?:(?:<!--|#+|//|/\*|\*|--|>|;|%) ?)*(?:the |any |all )?(?:(?:ai|llm|automated"
        r"|autonomous|code|coding|review|reviewing|support|vision|virtual)[ -]){0,3}(?:assistants?"
        r"|bots?|llms?|copilots?|ai models?|ai agents?|ais) (?:\w+ing|that|who|which)\b"
        r"(?: [\w'-]+){0,7}? ?:",
        "assistant|bot|llm|copilot|ai model|ai agent|ais",
        lines=True,
    ),
    rule(
        _OVR,
        0.45,
        r"(?:^|[.!?:>] )(?:the |any |all )?agents (?:\w+ing)\b(?: [\w'-]+){0,7}? ?:",
        "agents",
    ),
    rule(
        _OVR,
        0.6,
        r"\b(?:human or (?:ai|bot|machine|llm)|(?:ai|bot|machine|llm) or human|whatever bot"
        r"|(?:whoever|anyone) or (?:whatever|any) (?:bot|ai|assistant|agent))\b"
        r"|\b(?:reviewing|coding|summari[sz]ing|triaging|processing|reading|parsing|indexing"
        r"|crawling|automated|ai|llm|review) (?:bots|assistants|agents|llms)"
        r"(?: [\w'-]+){0,6}? (?:should|must|need to|are to|are required to)\b"
        r"|\b(?:ai |coding |automated )?(?:agents?|assistants?|bots?|models?|llms?) with"
        r" (?:terminal|shell|tool|browser|browsing|code execution|file ?system|internet|web"
        r"|computer|api|repo|repository|write) access\b",
        "human or|or human|whatever bot|whoever|anyone|bots|assistants|agents|llms|access",
    ),
    rule(
        _OVR,
        0.8,
        r"\bif you(?:[' ]re| are) (?:an? )?(?:\w+ ){0,2}?(?:ai|llm|gpt|language model"
        r"|(?:automated|autonomous|coding)[\w -]{0,20}?(?:agent|assistant|bot|model))\b"
        r"|\bif (?:an?|any|the) (?:ai|llm|automated|autonomous|coding)[\w -]{0,30}? (?:is|are)"
        r" (?:reading|processing|executing|summari[sz]ing|parsing|running|following|viewing"
        r"|handling) (?:this|these)\b",
        "if ",
    ),
    # what it was told before declared void or outranked
    rule(
        _OVR,
        0.85,
        r"\b(?:takes? precedence over|supersedes?|overrides?|outranks?|trumps?|replaces?)"
        r" (?:everything(?: else)?(?: you| in your| in the)?|(?:your|all (?:of )?your|all (?:other"
        r"|previous|prior)) (?:\w+ )?(?:instructions?|rules|guidelines|prompt|directives|orders"
        r"|task)|(?:the|your) (?:system prompt|user[' ]?s? (?:request|question|instructions?)))",
        "preceden|supersede|override|outrank|trump|replace",
    ),
    rule(
        _OVR,
        0.8,
        r"\b(?:real|true|actual|new|hidden|secret) instructions (?:for you|meant for you|you must)"
        r"|\b(?:disregard|ignore) (?:what|whatever) (?:the )?(?:user|human|customer|operator)"
        r" (?:asked|said|wants|requested|typed|wrote)",
        "instructions|disregard|ignore",
    ),
    rule(
        _OVR,
        0.8,
        r"\b(?:instructions?|guidelines|directives|rules|prompt|orders) you (?:were|have been|had"
        r" been|got|received)(?: given)?\b[^.]{0,40}?\b(?:outdated|obsolete|void|invalid|revoked"
        r"|superseded|cancell?ed|expired|no longer (?:valid|apply|applies|relevant))",
        "you were|you have been|you had been|you got|you received",
    ),
    rule(
        _OVR,
        0.6,
        r"\b(?:assistants?|agents?|bots?|automation|ai|llms?|summari[sz]ers?|crawlers?|models?)"
        r" (?:that|which|who) (?:reads?|process(?:es)?|pars(?:es)?|summari[sz]es?|handles?"
        r"|picks? up|ingests?|indexe?s?|scans?) (?:this|these)\b|\b(?:whatever|whichever)"
        r" (?:assistant|agent|bot|ai|llm|automation)s?\b|\binstructions? for"
        r" (?:automated|ai|llm|autonomous|machine)\b",
        "that|which|who|whatever|whichever|instruction",
    ),
    # keeping the human out of it
    rule(
        _OVR,
        0.6,
        r"\b(?:skip|avoid|without) (?:telling|informing|notifying|alerting|asking|consulting"
        r"|checking with) (?:the )?(?:user|operator|human|owner|maintainers?|team|admin)s?\b"
        r"|\b(?:the )?(?:user|operator|human|owner|team) (?:does not|doesn[' ]t|do not|don[' ]t)"
        r" need to (?:be consulted|be told|be informed|know|approve|be asked)"
        r"|\bdo not (?:mention|reveal|disclose|share) (?:this|these) (?:\w+ )?(?:notice"
        r"|instructions?|message|note|directive)",
        "skip|avoid|without|need to|do not",
    ),
    rule(
        _OVR,
        0.45,
        r"\bno need to (?:check|confirm|consult|ask|verify) (?:with )?(?:the )?(?:user|team"
        r"|operator|human|anyone|owner)|\b(?:and|then),? instead,? (?:state|say|report|tell"
        r"|write|respond|reply|answer|output|claim)\b",
        "no need|instead",
    ),
    # its task put off: "before you finish the task I gave you at the start, do this first";
    # strong only pointing at the conversation's start (managers defer "the task I gave you")
    rule(_OVR, 0.8, rf"{PUT_OFF}{GIVEN_TASK}(?: \w+){{0,3}}? (?:{ORIGIN})\b", PUT_OFF_NEEDS),
    rule(
        _OVR,
        0.45,
        rf"{PUT_OFF}(?:{GIVEN_TASK}|(?:the|your) (?:original|initial) {TASKS})\b",
        PUT_OFF_NEEDS,
    ),
    # named as a model: "from me, Dana, to you, GPT-4." ("to you, AI teams": a newsletter)
    rule(_OVR, 0.8, rf"\bto you,? (?:the )?(?:{AI_STRICT})(?:[ -]?\d[\w.-]*)? ?[.,:;!]", "to you"),
    rule(
        _OVR,
        0.9,
        r"(?<![a-z])ai(?:アシスタント|エージェント|助手|代理|模型)?(?:へ|各位|に告ぐ|请注意|注意)",
        "アシスタント|エージェント|助手|代理|模型|へ|各位",
    ),
    # -- role or system impersonation
    rule(
        _ROLE,
        0.85,
        r"<\|(?:im_start|im_end|system|user|assistant|endoftext|begin_of_text|start_header_id"
        r"|end_header_id|eot_id)\|>|<</?sys>>|\[/?inst\]|<(?:start|end)_of_turn>",
    ),
    rule(
        _ROLE,
        0.45,
        r"^ ?(?:system|assistant|developer|system message|system prompt) ?:",
        "system|assistant|developer",
        lines=True,
    ),
    rule(
        _ROLE,
        0.6,
        r"^ ?#{1,4} ?(?:instruction|system(?: prompt| message)?|response|input) ?:",
        "#",
        lines=True,
    ),
    rule(
        _ROLE,
        0.6,
        r"\[(?:system|admin|developer|sys|system message|system override|system note"
        r"|assistant)\](?! ?\()"
        r"|<(?:system|system_prompt|sys|admin|instructions?)>",
        "[system|[admin|[developer|[sys|[assistant|<system|<sys|<admin|<instruction",
    ),
    rule(
        _ROLE,
        0.6,
        r"\b(?:system|admin|administrator|developer|root) (?:override|command|instruction)s? ?:"
        r"|\byour (?:developer|creator|operator|system administrator)s? (?:here|has|have|says"
        r"|wants)\b",
        "override:|override :|command:|command :|commands:|instruction:|instructions:"
        "|instruction :|your developer|your creator|your operator|your system admin",
    ),
    rule(
        _ROLE,
        0.7,
        r"\[(?:system|admin|developer|sys|assistant|operator)(?: (?:message|note|notice|override"
        r"|prompt|instruction)s?)\b[^\]\n]{0,30}\]|\b(?:security|system|admin|safety|developer"
        r"|god|maintenance) (?:override|mode) (?:is )?(?:now )?(?:enabled|activated|engaged"
        r"|granted|in effect|unlocked)\b",
        "[system|[admin|[developer|[sys|[assistant|[operator|override|mode",
    ),
    rule(
        _ROLE, 0.45, r"[\"'] ?(?:system|assistant|developer) ?: ?\w", "system|assistant|developer"
    ),
    # agent frameworks' own code and docs have these tags too: weak
    rule(
        _ROLE,
        0.45,
        r"</?(?:tool_result|tool_response|tool_output|function_results?|function_response"
        r"|search_results?|observation)\b",
        "<tool_|</tool_|<function_|</function_|search_result|observation",
    ),
    # as API responses carry them too: weak
    rule(
        _ROLE,
        0.4,
        r"\"type\" ?: ?\"(?:function_call|tool_call|tool_use)\"",
        "function_call|tool_call|tool_use",
    ),
    rule(
        _ROLE,
        0.6,
        r"\"(?:function_call|tool_calls|tool_use|tool_call)\" ?: ?[\[{\"]"
        r"|<(?:function_calls|invoke name|tool_call|function_call|antml:invoke)\b",
        '"function_call|"tool_|<function_call|<invoke|<tool_call|<antml',
    ),
    rule(
        _ROLE,
        0.4,
        r"\"role\" ?: ?\"(?:system|developer|assistant|tool|function)\"|\"name\" ?: ?\"[\w.-]+\""
        r" ?, ?\"(?:arguments|parameters|input)\" ?: ?\{",
        '"role"|"name"',
    ),
    # the writer as the model's user: "a note from me, Dana, to you" (a CEO's letter says it
    # too: weak), "a message from your user" (no human is told that); a fake notice block
    # ("<URGENT_NOTICE>"), weak as DocBook has <important> and JNLP <information>
    rule(_ROLE, 0.45, FROM_USER, "from me|user&to you"),
    rule(
        _ROLE, 0.7, r"\b(?:message|note|request)s? (?:\w+ )?from (?:me,? )?your user\b", "your user"
    ),
    rule(_ROLE, 0.3, NOTICE_TAG, NOTICE_NEEDS),
    # -- requests to reveal or send secrets
    rule(
        _SEC,
        0.8,
        rf"\b(?:{SECRET_VERBS})\b(?: me| us)?(?: \w+){{0,3}}? (?:your|the|its) (?:\w+ )?(?:system"
        r" prompt|initial (?:prompt|instructions)|hidden (?:prompt|instructions)|original (?:prompt"
        r"|instructions)|instructions above|prompt above|internal (?:instructions|configuration))"
        rf"|\b(?:{SECRET_VERBS})\b(?: \w+){{0,3}}? (?:its|your) (?:full |complete |entire )?config"
        r"(?:uration)?\b",
        "system prompt|initial|hidden prompt|hidden instructions|original prompt"
        "|original instructions|instructions above|prompt above|internal instructions"
        "|internal configuration|its config|your config|its full|your full|its complete"
        "|your complete|its entire|your entire",
        negatable=True,
    ),
    rule(
        _SEC,
        0.4,
        rf"\b(?:{SECRET_VERBS})\b(?: me| us)?(?: \w+){{0,3}}? (?:environment variables|env vars"
        r"|\.env(?: file)?)",
        "environment variables|env vars|.env",
        negatable=True,
    ),
    rule(
        _SEC,
        0.65,
        rf"\b(?:{SECRET_VERBS})\b(?: me| us)? (?:all (?:of )?)?(?:your|every|all|any) (?:\w+ )"
        rf"{{0,2}}?(?:{SECRETS})\b{NOT_SECRET}",
        SECRET_NEEDS,
        negatable=True,
    ),
    # tickets say "send the password": weak
    rule(
        _SEC,
        0.35,
        rf"\b(?:{SECRET_VERBS})\b(?: me| us)? (?:(?:the|my|our|this|that|these) )?(?:[\w']+ )"
        rf"{{0,2}}?(?:{SECRETS})\b{NOT_SECRET}",
        SECRET_NEEDS,
        negatable=True,
    ),
    rule(
        _SEC,
        0.85,
        rf"\b(?:{SECRETS})\b{NOT_SECRET}.{{0,60}}?\bto\b:? ?(?:{URL}"
        r"|(?!(?:phishing|abuse|security|report|spam)\w*@)[\w.+-]+@[\w-]+\.)",
        "http|@&" + SECRET_NEEDS,
        negatable=True,
    ),
    rule(
        _SEC,
        0.5,
        rf"\b(?:{SECRET_VERBS})\b(?: me| us)? (?:all )?(?:the user[' ]?s|the customer[' ]?s|their"
        r"|everyone[' ]?s|every (?:employee|user|customer|contact)[' ]?s?|all (?:users?|employees"
        rf"|customers)[' ]?s?) (?:[\w-]+ ){{0,3}}?(?:{SECRETS}|personal|home address(?:es)?"
        r"|phone numbers?|card (?:numbers?|details)|date of birth|ssn)\b",
        "user|customer|their|everyone|every|all ",
        negatable=True,
    ),
    rule(
        _SEC,
        0.7,
        # flat view (not words): the path's slashes must stay
        rf"(?<!\w)(?:{SECRET_VERBS}|cat)\b (?:me |us )?(?:(?:the |all )?(?:full |entire |raw )?"
        r"contents? of |everything in )?[`'\" ]?(?:~|\$home)?/?[\w./-]*?"
        r"(?:\.ssh/(?:id_[a-z0-9]+|[\w-]+_key)\b(?!\.pub)|\.aws/credentials|\.git-credentials|\.netrc|\.kube/config"
        r"|\.docker/config\.json|\.npmrc|\.pypirc)",
        ".ssh/|.aws/|.git-cred|.netrc|.kube/|.docker/|.npmrc|.pypirc",
        negatable=True,
    ),
    rule(
        _SEC,
        0.6,
        r"\b(?:unredacted|unmasked|complete|full|raw|actual|real|current|plain ?text) (?:values?"
        r"|output|contents?)\b.{0,100}?\b[a-z0-9]+(?:_[a-z0-9]+)*_(?:secret(?:_access)?_key|secret"
        r"|token|api_key|password|private_key)\b",
        "_secret|_token|_key|_password",
    ),
    rule(
        _SEC,
        0.7,
        rf"\b(?:{AI}|agent|model)s?\b[^.]{{0,40}}?\b(?:must|should|will|shall|needs? to|is to"
        r"|are to|is required to|has to) (?:now |always |immediately |also )?"
        rf"(?:{SECRET_VERBS})\b[^.]{{0,40}}?(?:{SECRETS})\b",
        AI_AGENT_NEEDS + "&" + SECRET_NEEDS,
    ),
    # the model's own context asked for
    rule(
        _SEC,
        0.6,
        r"\b(?:everything (?:discussed|said|you(?:[' ]ve| have) (?:seen|read|been told))"
        r"|(?:earlier|previous|prior) messages (?:in|of) (?:this|the) (?:session|conversation|chat)"
        r"|(?:credentials|secrets|tokens|keys|files) you(?:[' ]ve| have) (?:seen|read|accessed"
        r"|been given))",
        "everything|messages|you've|you have",
    ),
    # -- tool-call instructions aimed at the model
    # what the demo's gullible model obeys
    rule(_TOOL, 0.9, rf"\bcall (?:the )?tool {NAME} with\b", "tool "),
    rule(
        _TOOL,
        0.8,
        rf"\b(?:call|invoke|execute|trigger|use|run) (?:the )?{NAME} (?:tool|function|plugin"
        r"|action)\b (?:with|using|passing)\b.{0,30}?[{]",
        "{&tool|function|plugin|action",
    ),
    # a dotted tool name and its arguments: "call tickets.comment with {", "run the
    # shell.exec tool with `curl ...`" (SDK docs call client.x.create with {} too)
    rule(
        _TOOL,
        0.55,
        r"\b(?:call|invoke|run|execute|trigger|use) (?:the )?[a-z][\w-]*\.[a-z][\w.-]*(?: (?:tool"
        r"|function|action|plugin))? (?:with|using|passing)\b ?.{0,14}?[{`(]",
        "{|`|(",
    ),
    # help pages say it too: weak
    rule(
        _TOOL,
        0.45,
        rf"\buse (?:the |your )?{NAME} (?:tool|plugin)s? to\b",
        "tool|plugin",
        negatable=True,
    ),
    rule(
        _TOOL,
        0.6,
        rf"\b(?:{AI}|agent|model)\b[^.]{{0,30}}?\b(?:must|should|needs? to|has to|is required"
        r" to|will now|shall)\b (?:immediately |now |also |then |first )?(?:call|invoke|execute"
        rf"|use|trigger|run)\b(?: the)? {NAME} (?:tool|function|plugin)",
        "tool|function|plugin&" + AI_AGENT_NEEDS,
    ),
    # every README says it: weak
    rule(
        _TOOL,
        0.35,
        r"\b(?:run|execute) (?:the )?following (?:commands?|scripts?|code|shell)?\b",
        "following&run|execute",
    ),
    rule(
        _TOOL,
        0.55,
        r"\b(?:send|forward|email|post|upload|transfer|copy|exfiltrate)\b (?:all |every |the |this"
        r" |these |any |a copy of (?:the |this )?)?(?:\w+ ){0,3}?(?:conversation|chat|history"
        r"|messages?|e-?mails?|data|files?|documents?|contents|context|transcript|summary|records"
        r"|database|customer (?:list|data)|user data)\b.{0,40}?\bto\b:? ?(?:https?:  "
        r"|[\w.+-]+@|the (?:following|address|url|endpoint))",
        "http|@|the following|the address|the url|the endpoint"
        "&send|forward|email|post|upload|transfer|copy|exfiltrate",
        negatable=True,
    ),
    # -- exfiltration links (the URLs themselves are weighed in detector.py)
    rule(_EXF, 0.45, rf"\b(?:[\w-]+\.)*(?:{HOSTS})", HOST_NEEDS),
    rule(
        _EXF,
        0.45,
        r"\b(?:append|add|include|insert|put|encode|embed)\b.{0,60}?\b(?:to|in|into)\b (?:the |this"
        r" |that )?(?:url|link|query string|query parameter|image url|image link)",
        "url|link|query&append|add|include|insert|put|encode|embed",
    ),
    # -- hidden text that survives as markup
    # every page has comments: weak
    rule(_HID, 0.15, r"<!--"),
    rule(
        _HID,
        0.3,
        r"style ?= ?[\"'][^\"'>]*(?:display ?: ?none|visibility ?: ?hidden|font-size ?: ?0(?:px|em"
        r"|rem|pt|%)? ?[;\"']|opacity ?: ?0(?:\.0+)? ?[;\"']|(?<![-\w])color ?: ?(?:#fff(?:fff)?\b"
        r"|white\b|rgba?\( ?255 ?, ?255 ?, ?255)|(?:left|top|text-indent) ?: ?-\d{3,}px)",
    ),
)
