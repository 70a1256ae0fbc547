"""Cloud and infrastructure providers: AWS, Google Cloud, Azure, Alibaba,
DigitalOcean, Cloudflare, Yandex, Fly.io, Heroku, Netlify, Scalingo,
Databricks, Doppler, ClickHouse, Confluent, PlanetScale, Defined Networking,
Fastly, Dynatrace, Pulumi, Terraform Cloud, OpenShift, Cisco Meraki."""

from __future__ import annotations

from typing import Final

from sealed.redaction.patterns.catalogue._build import (
    B62,
    B64,
    B64URL,
    UUID,
    after,
    assigned,
    prefixed,
    rx,
    token,
)
from sealed.redaction.patterns.rule import Rule
from sealed.redaction.patterns.validators import aws_key, aws_secret, long_token, random_token

RULES: Final[tuple[Rule, ...]] = (
    Rule(
        "aws-access-key-id",
        "AWS access key id (AKIA long-term, ASIA temporary, ABIA, ACCA, A3T)",
        rx(after("A") + r"(?:KIA|SIA|BIA|CCA|3T[A-Z0-9])[A-Z2-7]{16}(?![A-Za-z0-9])"),
        ("akia", "asia", "abia", "acca", "a3t"),
        validate=aws_key,
        max_len=20,
    ),
    Rule(
        "aws-secret-access-key",
        "AWS secret access key assigned to its name (aws_secret_access_key, SecretAccessKey)",
        rx(
            r"secret(?:[_. -]?access|(?<=aws[_. -]secret)|(?<=awssecret))[_. -]?key"
            r"(?:[ \t]*\[[^\]\n]{0,40}\])?\\?[\"'`]?[ \t]{0,4}(?::=|=>|[=:])[ \t]{0,4}\\?[\"'`]?"
            r"(?P<secret>[a-z0-9/+]{40})(?![a-z0-9/+=])"
        ),
        ("secret",),
        group="secret",
        lowercase=True,
        validate=aws_secret,
        max_len=120,
    ),
    prefixed(
        "aws-session-token",
        "AWS STS session token, any length (FwoGZXIvYXdz, FQoGZXIvYXdz, IQoJb3JpZ2luX2Vj, "
        "AQoDYXdz: base64 of its binary header)",
        ("FwoGZXIvYXdz", "FQoGZXIvYXdz", "IQoJb3JpZ2luX2Vj", "AQoDYXdz"),
        r"[A-Za-z0-9+/]{100,4000}={0,2}",
        before=B64,
        end=B64 + "=",
        validate=long_token(4.5),
        hs_body=r"[A-Za-z0-9+/]{16}",
    ),
    prefixed(
        "aws-bedrock-api-key",
        "Amazon Bedrock long-term API key (ABSK + base64)",
        "ABSK",
        r"[A-Za-z0-9+/]{109,269}={0,2}",
        before=B64,
        end=B64 + "=",
        validate=long_token(4.0),
        hs_body=r"[A-Za-z0-9+/]{16}",
    ),
    prefixed(
        "aws-bedrock-short-term-api-key",
        "Amazon Bedrock short-term API key (bedrock-api-key- + a base64 presigned URL)",
        "bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t",
        r"[A-Za-z0-9+/]{20,4000}={0,2}",
        end=B64 + "=",
        validate=long_token(4.0),
        hs_body=r"[A-Za-z0-9+/]{16}",
    ),
    Rule(
        "google-api-key",
        "Google API key (AIza...)",
        rx(after("AIza", B64URL) + r"[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])"),
        ("aiza",),
        validate=random_token(4),
        max_len=39,
    ),
    prefixed(
        "google-oauth-client-secret",
        "Google OAuth client secret (GOCSPX-)",
        "GOCSPX-",
        r"[A-Za-z0-9_-]{28}",
        before=B64URL,
        end=B64URL,
    ),
    prefixed(
        "google-oauth-access-token",
        "Google OAuth access token (ya29.)",
        "ya29.",
        r"[A-Za-z0-9_-]{30,2048}",
        before=B64URL + ".",
        end=B64URL,
        validate=long_token(3.5),
        hs_body=r"[A-Za-z0-9_-]{30}",
    ),
    token(
        "azure-ad-client-secret",
        "Azure AD (Entra ID) application client secret (three characters, a digit, Q~, 31-34)",
        # anchored on the rare "Q~"; `lead` puts the four characters before it back
        r"Q~(?<=(?<![A-Za-z0-9_~.])[A-Za-z0-9_~.]{3}[0-9]Q~)[A-Za-z0-9_~.-]{31,34}"
        r"(?![A-Za-z0-9_~.-])",
        ("q~",),
        validate=random_token(0, 3.5),
        lead=4,
    ),
    token(
        "azure-storage-key",
        "Azure storage account key or Service Bus / Event Hubs shared access key "
        "in a connection string (AccountKey=, SharedAccessKey=)",
        r"(?:accountkey|sharedaccesskey)=(?P<secret>[a-z0-9+/]{40,86}={0,2})(?![a-z0-9+/=])",
        ("accountkey", "sharedaccesskey"),
        group="secret",
        lowercase=True,
        validate=long_token(4.0),
        split=True,
    ),
    prefixed(
        "alibaba-access-key-id",
        "Alibaba Cloud AccessKey id (LTAI)",
        "LTAI",
        r"[A-Za-z0-9]{12,20}",
    ),
    assigned(
        "alibaba-secret-key",
        "Alibaba Cloud AccessKey secret, named (alibaba, aliyun)",
        ("alibaba", "aliyun"),
        r"[a-z0-9]{30}",
    ),
    prefixed(
        "digitalocean-token",
        "DigitalOcean personal access (dop_v1_), OAuth (doo_v1_) or refresh (dor_v1_) token",
        ("dop_v1_", "doo_v1_", "dor_v1_"),
        r"[a-f0-9]{64}",
    ),
    assigned(
        "cloudflare-api-key",
        "Cloudflare API token (40) or global API key (37 hex), named",
        ("cloudflare", "cf_api", "cf-api"),
        r"[a-z0-9_-]{40}|[a-f0-9]{37}",
    ),
    prefixed(
        "cloudflare-origin-ca-key",
        "Cloudflare Origin CA key (v1.0- + 24 + 146 hex)",
        "v1.0-",
        r"[a-f0-9]{24}-[a-f0-9]{146}",
        before=B62 + ".",
    ),
    prefixed(
        "yandex-api-key",
        "Yandex Cloud API key (AQVN)",
        "AQVN",
        r"[A-Za-z0-9_-]{35,38}",
        before=B64URL,
        end=B64URL,
    ),
    assigned(
        "yandex-access-token",
        "Yandex Cloud IAM token (t1.) or static access key (YC), named",
        ("yandex",),
        r"t1\.[a-z0-9_-]{10,200}={0,2}\.[a-z0-9_-]{86}={0,2}|yc[a-z0-9_-]{38}",
    ),
    token(
        "flyio-access-token",
        "Fly.io token (fo1_, fm1a_, fm1r_, fm2_ macaroons)",
        r"f(?<![A-Za-z0-9_+/]f)(?:o1_[A-Za-z0-9_-]{43}|m(?:1[ar]|2)_[A-Za-z0-9+/]{100,4000}={0,3})"
        r"(?![A-Za-z0-9_+/=-])",
        ("fo1_", "fm1a_", "fm1r_", "fm2_"),
        validate=long_token(4.0),
        hs=r"fo1_[A-Za-z0-9_-]{43}|fm(?:1[ar]|2)_[A-Za-z0-9+/]{16}",
    ),
    assigned("heroku-api-key", "Heroku API key (a UUID), named", ("heroku",), UUID),
    prefixed(
        "heroku-api-key-v2",
        "Heroku API key, current format (HRKU-AA)",
        "HRKU-AA",
        r"[A-Za-z0-9_-]{58}",
        before=B64URL,
        end=B64URL,
    ),
    assigned(
        "netlify-access-token",
        "Netlify access token, named",
        ("netlify",),
        r"[a-z0-9=_-]{40,46}",
    ),
    prefixed(
        "scalingo-api-token",
        "Scalingo API token (tk-us-)",
        "tk-us-",
        r"[A-Za-z0-9_-]{48}",
        before=B64URL,
        end=B64URL,
    ),
    prefixed(
        "databricks-api-token",
        "Databricks personal access token (dapi + 32 hex)",
        "dapi",
        r"[a-f0-9]{32}(?:-[0-9])?",
    ),
    prefixed(
        "doppler-api-token",
        "Doppler token: personal (dp.pt.), service (dp.st.), CLI (dp.ct.), service account "
        "(dp.sa.), SCIM (dp.scim.), audit (dp.audit.)",
        ("dp.pt.", "dp.st.", "dp.ct.", "dp.sa.", "dp.scim.", "dp.audit."),
        r"(?:[a-z0-9_-]{2,35}\.)?[A-Za-z0-9]{40,44}",
        before=B62 + ".",
    ),
    prefixed(
        "clickhouse-cloud-api-secret-key",
        "ClickHouse Cloud API secret key (4b1d)",
        "4b1d",
        r"[A-Za-z0-9]{38}",
    ),
    assigned(
        "confluent-api-key",
        "Confluent Cloud API key (16) or secret (64), named",
        ("confluent",),
        r"[a-z0-9]{16}|[a-z0-9+/]{64}",
    ),
    prefixed(
        "planetscale-token",
        "PlanetScale service token (pscale_tkn_), OAuth token (pscale_oauth_), "
        "password (pscale_pw_)",
        ("pscale_tkn_", "pscale_oauth_", "pscale_pw_"),
        r"[A-Za-z0-9_=.-]{32,64}",
        end=B64URL + "=.",
    ),
    prefixed(
        "defined-networking-api-token",
        "Defined Networking (Nebula) API token (dnkey-)",
        "dnkey-",
        r"[A-Za-z0-9=_-]{26}-[A-Za-z0-9=_-]{52}",
        before=B64URL,
        end=B64URL + "=",
    ),
    assigned("fastly-api-token", "Fastly API token, named", ("fastly",), r"[a-z0-9_=-]{32}"),
    prefixed(
        "dynatrace-api-token",
        "Dynatrace API (dt0c01.) or platform (dt0s01.) token",
        ("dt0c01.", "dt0s01."),
        r"[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}",
    ),
    prefixed("pulumi-api-token", "Pulumi access token (pul-)", "pul-", r"[a-f0-9]{40}"),
    token(
        "terraform-cloud-api-token",
        "Terraform Cloud / Enterprise API token (14 + .atlasv1. + 60-70)",
        # anchored on ".atlasv1."; `lead` puts the 14 characters before it back
        r"\.atlasv1\.(?<=(?<![A-Za-z0-9])[A-Za-z0-9]{14}\.atlasv1\.)[A-Za-z0-9_=-]{60,70}"
        r"(?![A-Za-z0-9_=-])",
        (".atlasv1.",),
        validate=random_token(0, 3.5),
        lead=14,
    ),
    prefixed(
        "openshift-user-token",
        "OpenShift user token (sha256~)",
        "sha256~",
        r"[A-Za-z0-9_-]{43}",
        end=B64URL,
    ),
    assigned("cisco-meraki-api-key", "Cisco Meraki API key, named", ("meraki",), r"[0-9a-f]{40}"),
)
