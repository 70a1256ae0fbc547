"""Source hosting, CI and developer tools: GitHub, GitLab, Bitbucket,
Atlassian, Gitter, Travis CI, Drone, Codecov, Sourcegraph, Snyk, SonarQube,
Harness, Octopus Deploy, Infracost, Prefect, Postman, ReadMe, RapidAPI, Sentry,
Linear, Frame.io, Typeform, SettleMint, Authress; package registries: npm,
PyPI, RubyGems, NuGet, Clojars, Artifactory/JFrog."""

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
from sealed.redaction.patterns.validators import (
    crc32_base62,
    json_base64,
    long_token,
    random_token,
    url_password,
    vouched,
    wordlike,
)

_GITLAB: Final = (  # token types after "gl"
    "pat", "dt", "rt", "cbt", "ptt", "oas", "ft", "imt", "ffct", "soat", "agent", "wt",
)  # fmt: skip

RULES: Final[tuple[Rule, ...]] = (
    Rule(
        "github-token",
        "GitHub token: personal (ghp_), OAuth (gho_), user-to-server (ghu_), "
        "server-to-server (ghs_), refresh (ghr_); CRC32-checked where 36 characters",
        rx(r"gh(?<![A-Za-z0-9]gh)[pousr]_[A-Za-z0-9]{36,251}(?![A-Za-z0-9_])"),
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
        validate=vouched(crc32_base62, random_token(4)),
        max_len=255,
    ),
    Rule(
        "github-fine-grained-pat",
        "GitHub fine-grained personal access token (github_pat_)",
        # 22 + "_" + 59 today; a little slack either side for format changes
        rx(after("github_pat_") + r"[A-Za-z0-9]{20,40}_[A-Za-z0-9]{50,200}(?![A-Za-z0-9_])"),
        ("github_pat_",),
        validate=random_token(11),
        max_len=255,
    ),
    Rule(
        "gitlab-token",
        "GitLab token: personal/project/group (glpat-), deploy, runner, CI job, trigger, "
        "OAuth app, feed, incoming mail, feature flag, SCIM, agent, workspace; routable forms",
        rx(
            after("gl")
            + f"(?:{'|'.join(_GITLAB)})-"
            + r"[A-Za-z0-9_-]{20,300}(?:\.[A-Za-z0-9_-]{1,50}){0,2}(?![A-Za-z0-9_-])"
        ),
        tuple(f"gl{p}-" for p in _GITLAB),
        validate=random_token(6),
        max_len=410,
    ),
    prefixed(
        "gitlab-runner-registration-token",
        "GitLab runner registration token (GR1348941)",
        "GR1348941",
        r"[A-Za-z0-9_-]{20}",
        end=B64URL,
    ),
    token(
        "gitlab-session-cookie",
        "GitLab session cookie (_gitlab_session=)",
        r"_gitlab_session=(?P<secret>[0-9a-z]{32})(?![0-9a-z])",
        ("_gitlab_session=",),
        group="secret",
        validate=random_token(0),
    ),
    assigned(
        "bitbucket-client-credential",
        "Bitbucket OAuth client id (32) or secret (64), named",
        ("bitbucket",),
        r"[a-z0-9]{32}|[a-z0-9_=-]{64}",
    ),
    prefixed(
        "atlassian-api-token",
        "Atlassian API token (ATATT3)",
        "ATATT3",
        r"[A-Za-z0-9_=-]{186}",
        end=B64URL + "=",
    ),
    assigned(
        "atlassian-legacy-api-token",
        "Atlassian, Jira or Confluence API token, 24 characters, named",
        ("atlassian", "confluence", "jira"),
        r"[a-z0-9]{20}[a-f0-9]{4}",
        entropy=3.5,
    ),
    assigned("gitter-access-token", "Gitter access token, named", ("gitter",), r"[a-z0-9_-]{40}"),
    assigned(
        "travisci-access-token",
        "Travis CI access token, named",
        ("travis",),
        r"[a-z0-9]{22}",
    ),
    assigned("droneci-access-token", "Drone CI access token, named", ("drone",), r"[a-z0-9]{32}"),
    assigned(
        "codecov-access-token",
        "Codecov upload or API token, named",
        ("codecov",),
        UUID + r"|[a-z0-9]{32}",
    ),
    prefixed(
        "sourcegraph-access-token",
        "Sourcegraph access token (sgp_, with or without an instance id)",
        "sgp_",
        r"(?:(?:[a-fA-F0-9]{16}|local)_)?[a-fA-F0-9]{40}",
    ),
    assigned("snyk-api-token", "Snyk API token (a UUID), named", ("snyk",), UUID),
    prefixed(
        "sonarqube-token",
        "SonarQube user (squ_), project (sqp_) or global analysis (sqa_) token",
        ("squ_", "sqp_", "sqa_"),
        r"[a-f0-9]{40}",
    ),
    assigned(
        "sonar-api-token",
        "SonarQube / SonarCloud token without a prefix, named",
        ("sonar",),
        r"[a-z0-9]{40}",
    ),
    prefixed(
        "harness-api-key",
        "Harness personal (pat.) or service account (sat.) token",
        ("pat.", "sat."),
        r"[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}",
        before=B62 + ".",
    ),
    prefixed(
        "octopus-deploy-api-key",
        "Octopus Deploy API key (API- + 26)",
        "API-",
        r"[A-Z0-9]{26}",
        before=B62 + "-",
        validate=lambda v: random_token(4, 3.5)(v) and not wordlike(v[4:]),
    ),
    prefixed("infracost-api-token", "Infracost API token (ico-)", "ico-", r"[A-Za-z0-9]{32}"),
    prefixed("prefect-api-token", "Prefect API key (pnu_)", "pnu_", r"[A-Za-z0-9]{36}"),
    prefixed(
        "npm-access-token",
        "npm access token (npm_; CRC32-checked like GitHub's)",
        "npm_",
        r"[A-Za-z0-9]{36}",
        validate=vouched(crc32_base62, random_token(4)),
    ),
    prefixed(
        "pypi-upload-token",
        "PyPI or TestPyPI upload token (a macaroon for pypi.org / test.pypi.org)",
        ("pypi-AgEIcHlwaS5vcmc", "pypi-AgENdGVzdC5weXBpLm9yZw"),
        r"[A-Za-z0-9_-]{50,1000}",
        end=B64URL,
        validate=long_token(4.0),
        hs_body=r"[A-Za-z0-9_-]{16}",
    ),
    prefixed("rubygems-api-token", "RubyGems API key (rubygems_)", "rubygems_", r"[a-f0-9]{48}"),
    token(
        "nuget-config-password",
        "Password in a NuGet.config package source (ClearTextPassword / Password)",
        r"<add key=\"(?:cleartext)?password\"[ \t\r\n]{0,20}value=\"(?P<secret>[^\"\r\n]{1,256})\"",
        ("<add key=",),
        group="secret",
        lowercase=True,
        validate=url_password,
    ),
    prefixed(
        "clojars-api-token", "Clojars deploy token (CLOJARS_)", "CLOJARS_", r"[A-Za-z0-9]{60}"
    ),
    prefixed(
        "artifactory-api-key",
        "JFrog Artifactory API key (AKCp)",
        "AKCp",
        r"[A-Za-z0-9]{69}",
        entropy=4.0,
    ),
    prefixed(
        "artifactory-reference-token",
        "JFrog Artifactory reference token (cmVmd: base64 of 'ref')",
        "cmVmd",
        r"[A-Za-z0-9]{59}",
        before=B64,
        entropy=4.0,
    ),
    assigned(
        "jfrog-token",
        "JFrog API key (73) or identity token (64), named (jfrog, artifactory, bintray, xray)",
        ("jfrog", "artifactory", "bintray", "xray"),
        r"[a-z0-9]{73}|[a-z0-9]{64}",
    ),
    prefixed(
        "postman-api-token",
        "Postman API key (PMAK-)",
        "PMAK-",
        r"[a-fA-F0-9]{24}-[a-fA-F0-9]{34}",
    ),
    prefixed("readme-api-token", "ReadMe API key (rdme_)", "rdme_", r"[a-z0-9]{70}"),
    assigned(
        "rapidapi-access-token",
        "RapidAPI key, named",
        ("rapidapi",),
        r"[a-z0-9_-]{50}",
    ),
    prefixed("sentry-user-token", "Sentry user auth token (sntryu_)", "sntryu_", r"[a-f0-9]{64}"),
    prefixed(
        "sentry-org-token",
        "Sentry organization auth token (sntrys_ + base64 JSON + signature)",
        "sntrys_",
        r"eyJ[A-Za-z0-9+/]{20,400}={0,2}_[A-Za-z0-9+/]{43}",
        end=B64,
        validate=json_base64("iat"),
    ),
    assigned(
        "sentry-access-token",
        "Sentry auth token without a prefix (64 hex), named",
        ("sentry",),
        r"[a-f0-9]{64}",
    ),
    prefixed("linear-api-key", "Linear API key (lin_api_)", "lin_api_", r"[A-Za-z0-9]{40}"),
    assigned(
        "linear-client-secret",
        "Linear OAuth client secret, named",
        ("linear",),
        r"[a-f0-9]{32}",
    ),
    prefixed("frameio-api-token", "Frame.io API token (fio-u-)", "fio-u-", r"[A-Za-z0-9_=-]{64}"),
    prefixed(
        "typeform-api-token",
        "Typeform personal access token (tfp_)",
        "tfp_",
        r"[A-Za-z0-9_.=-]{59}",
        end=B64URL + ".=",
    ),
    prefixed(
        "settlemint-token",
        "SettleMint application (sm_aat_), personal (sm_pat_) or service (sm_sat_) token",
        ("sm_aat_", "sm_pat_", "sm_sat_"),
        r"[A-Za-z0-9]{16}",
    ),
    token(
        "authress-service-client-access-key",
        "Authress service client access key (sc_/ext_/scauth_/authress_ ... .acc_ ...)",
        r"(?<![A-Za-z0-9_])(?:sc|ext|scauth|authress)_[A-Za-z0-9]{5,30}\.[A-Za-z0-9]{4,6}"
        r"\.acc[_-][A-Za-z0-9-]{10,32}\.[A-Za-z0-9+/_=-]{30,120}(?![A-Za-z0-9+/_=-])",
        (".acc_", ".acc-"),
        validate=random_token(0, 3.5),
        # the pure engine finds the rare ".acc" and reads back to the prefix
        anchors=(".acc_", ".acc-"),
        reach=46,
        hs=r"\.acc[_-]",
        hs_reach=51,
    ),
)
