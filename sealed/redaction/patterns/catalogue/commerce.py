"""Payments, finance and commerce: Stripe, Square, Flutterwave, GoCardless,
Plaid, Coinbase, Kraken, KuCoin, Bittrex, Finicity, Finnhub, Duffel, Shippo,
EasyPost, Freemius, Lob, Shopify, Etsy, Squarespace."""

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
from sealed.redaction.patterns.validators import random_token

RULES: Final[tuple[Rule, ...]] = (
    Rule(
        "stripe-secret-key",
        "Stripe secret or restricted key (sk_live_, rk_live_, sk_test_, rk_test_)",
        # anchored on the rarer "k_"; `lead` puts the "s"/"r" back into the span
        rx(r"k_(?<=(?<![A-Za-z0-9])[sr]k_)(?:live|test|prod)_[A-Za-z0-9]{10,247}(?![A-Za-z0-9])"),
        ("sk_live_", "sk_test_", "sk_prod_", "rk_live_", "rk_test_", "rk_prod_"),
        validate=lambda v: random_token(8)(v) and len(v) >= 20,
        lead=1,
        max_len=260,
    ),
    Rule(
        "stripe-webhook-secret",
        "Stripe webhook signing secret (whsec_)",
        rx(after("whsec_") + r"[A-Za-z0-9+/=]{24,100}(?![A-Za-z0-9+/=])"),
        ("whsec_",),
        validate=random_token(6),
        max_len=110,
    ),
    prefixed(
        "square-access-token",
        "Square access token (EAAA, sq0atp-)",
        ("EAAA", "sq0atp-"),
        r"[A-Za-z0-9_-]{22,60}",
        before=B64URL,
        end=B64URL,
    ),
    prefixed(
        "square-oauth-secret",
        "Square OAuth application secret (sq0csp-)",
        "sq0csp-",
        r"[A-Za-z0-9_-]{43}",
        end=B64URL,
    ),
    prefixed(
        "flutterwave-key",
        "Flutterwave secret or public key, live or test (FLWSECK-, FLWPUBK_TEST-, ... -X)",
        ("FLWSECK_TEST-", "FLWPUBK_TEST-", "FLWSECK-", "FLWPUBK-"),
        r"[a-hA-H0-9]{32}-X",
    ),
    prefixed(
        "flutterwave-encryption-key",
        "Flutterwave encryption key (FLWSECK_TEST + 12 hex)",
        ("FLWSECK_TEST", "FLWSECK"),
        r"-?[a-hA-H0-9]{12}",
        validate=random_token(7, 2.5),
    ),
    assigned(
        "gocardless-api-token",
        "GoCardless access token (live_, sandbox_), named",
        ("gocardless",),
        r"(?:live|sandbox)_[a-z0-9_=-]{40}",
    ),
    prefixed(
        "plaid-access-token",
        "Plaid access token (access-sandbox-, access-development-, access-production-)",
        ("access-sandbox-", "access-development-", "access-production-"),
        UUID,
        before=B62 + "-",
        end=B62 + "-",
    ),
    assigned(
        "plaid-api-key",
        "Plaid client id (24) or secret (30), named",
        ("plaid",),
        r"[a-z0-9]{30}|[a-z0-9]{24}",
    ),
    assigned(
        "coinbase-access-token",
        "Coinbase access token, named",
        ("coinbase",),
        r"[a-z0-9_-]{64}",
    ),
    assigned(
        "kraken-access-token",
        "Kraken API key or private key, named",
        ("kraken",),
        r"[a-z0-9/=_+-]{80,90}",
    ),
    assigned(
        "kucoin-api-key",
        "KuCoin API key (24 hex) or secret (a UUID), named",
        ("kucoin",),
        r"[a-f0-9]{24}|" + UUID,
    ),
    assigned("bittrex-api-key", "Bittrex API key or secret, named", ("bittrex",), r"[a-z0-9]{32}"),
    assigned(
        "finicity-api-token",
        "Finicity app key (32 hex) or client secret (20), named",
        ("finicity",),
        r"[a-f0-9]{32}|[a-z0-9]{20}",
    ),
    assigned("finnhub-access-token", "Finnhub API key, named", ("finnhub",), r"[a-z0-9]{20}"),
    prefixed(
        "duffel-api-token",
        "Duffel access token (duffel_test_, duffel_live_)",
        ("duffel_test_", "duffel_live_"),
        r"[A-Za-z0-9_=-]{43}",
        end=B64URL + "=",
    ),
    prefixed(
        "shippo-api-token",
        "Shippo API token (shippo_live_, shippo_test_)",
        ("shippo_live_", "shippo_test_"),
        r"[a-fA-F0-9]{40}",
    ),
    prefixed(
        "easypost-api-token",
        "EasyPost production (EZAK) or test (EZTK) API key",
        ("EZAK", "EZTK"),
        r"[A-Za-z0-9]{54}",
    ),
    token(
        "freemius-secret-key",
        "Freemius secret key in a PHP array ('secret_key' => 'sk_...')",
        r"secret_key[\"'][ \t]{0,4}=>[ \t]{0,4}[\"'](?P<secret>sk_[^\s\"']{29})[\"']",
        ("secret_key",),
        group="secret",
        validate=random_token(3),
    ),
    assigned(
        "lob-api-key",
        "Lob secret or publishable API key (live_, test_, live_pub_, test_pub_), named",
        ("lob",),
        r"(?:live|test)_(?:pub_[a-f0-9]{31}|[a-f0-9]{35})",
    ),
    prefixed(
        "shopify-token",
        "Shopify access (shpat_), custom app (shpca_), private app (shppa_) token or "
        "shared secret (shpss_)",
        ("shpat_", "shpca_", "shppa_", "shpss_"),
        r"[a-fA-F0-9]{32}",
    ),
    assigned("etsy-access-token", "Etsy API key, named", ("etsy",), r"[a-z0-9]{24}"),
    assigned(
        "squarespace-access-token",
        "Squarespace API key (a UUID), named",
        ("squarespace",),
        UUID,
    ),
)
