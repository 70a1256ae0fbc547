import time
import threading

import requests

TOKEN_URL = "https://auth.fieldops.io/oauth/token"


class TokenManager:
    """Caches an OAuth2 access token and refreshes it shortly before expiry.

    The refresh token is read once from the environment at startup; we never
    log it. Access tokens are kept in memory only.
    """

    # Refresh this many seconds before the token actually expires, to avoid
    # races where a request is sent with a token that expires in flight.
    EARLY_REFRESH_SECONDS = 60

    def __init__(self, client_id: str, client_secret: str, refresh_token: str):
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._access_token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def get(self) -> str:
        with self._lock:
            if self._access_token is None or time.time() >= self._expires_at - self.EARLY_REFRESH_SECONDS:
                self._refresh()
            return self._access_token  # type: ignore[return-value]

    def _refresh(self) -> None:
        resp = requests.post(
            TOKEN_URL,
            data={
                "grant_type": "refresh_token",
                "refresh_token": self._refresh_token,
                "client_id": self._client_id,
                "client_secret": self._client_secret,
            },
            timeout=10,
        )
        resp.raise_for_status()
        body = resp.json()
        self._access_token = body["access_token"]
        self._expires_at = time.time() + body.get("expires_in", 3600)
        # Some providers rotate refresh tokens on every use.
        if "refresh_token" in body:
            self._refresh_token = body["refresh_token"]
