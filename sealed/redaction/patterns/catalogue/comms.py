"""Messaging, email and support: Slack, Discord, Telegram, Microsoft Teams,
Mattermost, Twilio, SendGrid, Brevo (Sendinblue), Mailgun, Mailchimp,
MessageBird, Sendbird, Intercom, Zendesk."""

from __future__ import annotations

from typing import Final

from sealed.redaction.patterns.catalogue._build import (
    B62,
    B64URL,
    UUID,
    after,
    assigned,
    prefixed,
    rx,
    token,
)
from sealed.redaction.patterns.rule import Rule
from sealed.redaction.patterns.validators import (
    discord_bot_token,
    placeholder,
    random_token,
    random_value,
)

RULES: Final[tuple[Rule, ...]] = (
    Rule(
        "slack-token",
        "Slack token: bot (xoxb-), user (xoxp-), app (xoxa-), refresh (xoxr-, xoxe-), "
        "legacy (xoxs-, xoxo-), legacy workspace (xoxa-, xoxr-), app-level (xapp-)",
        rx(
            after("x")
            + r"(?:ox[abeoprs]-[0-9]{1,16}-[A-Za-z0-9-]{10,250}|ox[ar]-[A-Za-z0-9]{8,48}"
            + r"|app-[0-9]-[A-Z0-9]{6,20}-[0-9]{6,20}-[A-Za-z0-9]{20,128})(?![A-Za-z0-9-])"
        ),
        ("xoxa-", "xoxb-", "xoxe-", "xoxo-", "xoxp-", "xoxr-", "xoxs-", "xapp-"),
        validate=random_token(5),
        max_len=270,
    ),
    Rule(
        "slack-webhook-url",
        "Slack incoming webhook / workflow trigger URL (hooks.slack.com/services/...)",
        rx(
            r"hooks\.slack\.com/(?:services|workflows|triggers)/"
            r"[A-Za-z0-9_-]{8,20}/[A-Za-z0-9_-]{8,20}/[A-Za-z0-9_/+-]{16,100}(?![A-Za-z0-9_/+-])"
        ),
        ("hooks.slack.com",),
        validate=lambda v: not placeholder(v.rsplit("/", 1)[-1]),
        max_len=180,
    ),
    token(
        "discord-bot-token",
        "Discord bot token (base64 user id . timestamp . HMAC; the id must decode)",
        r"[MNO](?<![A-Za-z0-9_.-][MNO])[A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}"
        r"(?![A-Za-z0-9_.-])",
        (".",),
        validate=discord_bot_token,
        # hyperscan: the id's base64 has a rigid shape (three ASCII digits make
        # M|N|O, D|T|j|z, one of ten, w-z|0-5), far cheaper to scan for than
        # the class-led regex; a token whose id is not digits fails the validator
        hs=r"(?:[MNO][DTjz][AEIMQUYcgk][w-z0-5]){5}",
        hs_reach=28,
    ),
    assigned(
        "discord-api-key",
        "Discord application key (64 hex), client secret (32) or client id (17-19 digits), named",
        ("discord",),
        r"[a-f0-9]{64}|[a-z0-9_=-]{32}|[0-9]{17,19}",
        validate=random_value(2.0),  # a client id is digits: about 3 bits each
    ),
    token(
        "telegram-bot-api-token",
        "Telegram bot token (bot id : A + 34)",
        r"(?<![A-Za-z0-9_])[0-9]{5,16}:A[A-Za-z0-9_-]{34}(?![A-Za-z0-9_-])",
        (":a",),
        validate=random_token(0, 3.5),
        # both engines find the ":A" and read back over the bot id
        anchors=(":A",),
        reach=16,
        hs=r":A[A-Za-z0-9_-]{34}",
        hs_reach=16 + 36,
    ),
    token(
        "microsoft-teams-webhook",
        "Microsoft Teams incoming webhook URL (webhook.office.com/webhookb2/...)",
        r"webhook\.office\.com/webhookb2/"
        + UUID
        + "@"
        + UUID
        + r"/IncomingWebhook/[A-Za-z0-9]{32}/"
        + UUID
        + r"(?:/V2[A-Za-z0-9_-]{20,80})?"
        + r"(?![A-Za-z0-9_-])",
        ("webhook.office.com/webhookb2/",),
        validate=lambda v: not placeholder(v.rsplit("IncomingWebhook/", 1)[-1]),
    ),
    assigned(
        "mattermost-access-token",
        "Mattermost access token, named",
        ("mattermost",),
        r"[a-z0-9]{26}",
    ),
    prefixed("twilio-api-key", "Twilio API key SID (SK + 32 hex)", "SK", r"[0-9a-f]{32}"),
    prefixed(
        "sendgrid-api-token",
        "SendGrid API key (SG. + 22 . 43)",
        "SG.",
        r"[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}",
        before=B62 + ".",
        end=B64URL,
    ),
    prefixed(
        "brevo-api-token",
        "Brevo (Sendinblue) API key (xkeysib-) or SMTP key (xsmtpsib-)",
        ("xkeysib-", "xsmtpsib-"),
        r"[a-f0-9]{64}-[A-Za-z0-9]{16}",
    ),
    assigned(
        "mailgun-api-key",
        "Mailgun private (key-), public (pubkey-) or webhook signing key, named",
        ("mailgun",),
        r"[a-f0-9]{32}-[a-f0-9]{8}-[a-f0-9]{8}|(?:key-|pubkey-)?[a-f0-9]{32}",
    ),
    token(
        "mailchimp-api-key",
        "Mailchimp API key (32 hex + data center, -us12)",
        # anchored on "-us"; `lead` puts the 32 hex characters before it back
        r"-us(?<=(?<![A-Za-z0-9])[0-9a-f]{32}-us)[0-9]{1,2}(?![A-Za-z0-9])",
        ("-us",),
        validate=random_token(0),
        lead=32,
    ),
    assigned(
        "messagebird-api-token",
        "MessageBird API key (25) or client id (a UUID), named",
        (r"message[_-]?bird",),
        r"[a-z0-9]{25}|" + UUID,
        keywords=("bird",),
    ),
    assigned(
        "sendbird-access-token",
        "Sendbird API token (40 hex) or application id (a UUID), named",
        ("sendbird",),
        r"[a-f0-9]{40}|" + UUID,
    ),
    assigned("intercom-api-key", "Intercom access token, named", ("intercom",), r"[a-z0-9=_-]{60}"),
    assigned("zendesk-secret-key", "Zendesk API token, named", ("zendesk",), r"[a-z0-9]{40}"),
)
