"""The OpenID Connect relying party: discovery, the code flow with PKCE, the ID token.

Authlib builds the authorization request (PKCE S256) and redeems the code; joserfc (the
JOSE library Authlib's own `authlib.jose` now points to) checks the ID token's signature
against the provider's published keys. The claims are checked here: issuer, audience (and
`azp` when there are several), expiry and issue time by Beeldbank's clock, and the nonce
of the one sign-on it belongs to.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from dam import clock
from dam.errors import N_, DomainError, MessageId
from dam.settings import Settings

HTTP_TIMEOUT_S = 10
METADATA_TTL_S = 3600
CLOCK_LEEWAY_S = 60
# Asymmetric signatures only: an ID token signed with the client secret (HS256) proves
# nothing the secret's holders could not forge themselves.
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")


class SsoFailed(DomainError):
    """A sign-on that cannot finish; `reason` says why (the UI words it for people)."""

    status = 401
    code = "sso_failed"

    def __init__(
        self, reason: str, message: MessageId, *, params: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message, params=params)
        self.reason = reason


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    end_session_endpoint: str | None


@dataclass(frozen=True)
class AuthRequest:
    """Where to send the browser, and what the callback must match."""

    url: str
    state: str
    nonce: str
    code_verifier: str


class OidcClient:
    """One provider, as configured; discovery and keys are fetched once and cached."""

    def __init__(self, settings: Settings, *, http: requests.Session | None = None) -> None:
        if not (settings.oidc_issuer and settings.oidc_client_id):
            raise ValueError("single sign-on is not configured")
        self.issuer = settings.oidc_issuer.rstrip("/")
        self.client_id = settings.oidc_client_id
        self.client_secret = settings.oidc_client_secret
        self.scopes = settings.oidc_scopes
        base = settings.public_url.rstrip("/")
        self.redirect_uri = f"{base}/login/sso/callback"
        self.post_logout_redirect_uri = f"{base}/login"
        self._http = http or requests.session()  # HTTP, not a database session
        self._lock = threading.Lock()
        self._metadata: tuple[float, ProviderMetadata] | None = None
        self._keys: KeySet | None = None

    # -- discovery -------------------------------------------------------------------

    def metadata(self) -> ProviderMetadata:
        """The provider's discovery document (cached for an hour)."""
        with self._lock:
            if self._metadata and time.monotonic() - self._metadata[0] < METADATA_TTL_S:
                return self._metadata[1]
        doc = self._get_json(f"{self.issuer}/.well-known/openid-configuration")
        if str(doc.get("issuer", "")).rstrip("/") != self.issuer:
            # OpenID Connect Discovery 1.0 section 4.3: a mismatch means a wrong or spoofed
            # document.
            raise SsoFailed(
                "provider_misconfigured",
                "The identity provider's discovery document names another issuer.",
            )
        try:
            found = ProviderMetadata(
                issuer=str(doc["issuer"]),
                authorization_endpoint=str(doc["authorization_endpoint"]),
                token_endpoint=str(doc["token_endpoint"]),
                jwks_uri=str(doc["jwks_uri"]),
                userinfo_endpoint=doc.get("userinfo_endpoint"),
                end_session_endpoint=doc.get("end_session_endpoint"),
            )
        except KeyError as missing:
            raise SsoFailed(
                "provider_misconfigured",
                N_("The discovery document lacks %(field)s."),
                params={"field": str(missing.args[0])},
            ) from None
        with self._lock:
            self._metadata = (time.monotonic(), found)
        return found

    def _key_set(self, *, refresh: bool = False) -> KeySet:
        with self._lock:
            if self._keys is not None and not refresh:
                return self._keys
        keys = KeySet.import_key_set(self._get_json(self.metadata().jwks_uri))  # type: ignore[arg-type]
        with self._lock:
            self._keys = keys
        return keys

    def key_count(self) -> int:
        """How many keys the provider publishes (fetched afresh)."""
        return len(self._key_set(refresh=True).keys)

    def _get_json(self, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._http.get(url, timeout=HTTP_TIMEOUT_S, **kwargs)
            response.raise_for_status()
            body = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise SsoFailed(
                "provider_unreachable",
                N_("The identity provider did not answer: %(detail)s"),
                params={"detail": str(exc)},
            ) from None
        if not isinstance(body, dict):
            raise SsoFailed("provider_unreachable", "The identity provider sent no JSON object.")
        return body

    # -- the flow --------------------------------------------------------------------

    def _session(self, **kwargs: Any) -> OAuth2Session:
        return OAuth2Session(
            client_id=self.client_id,
            client_secret=self.client_secret,
            scope=self.scopes,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            **kwargs,
        )

    def start(self) -> AuthRequest:
        """A new authorization request: fresh state, nonce and PKCE verifier."""
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)  # 86 characters, within RFC 7636's 43-128
        with self._session() as oauth:
            url, _ = oauth.create_authorization_url(
                self.metadata().authorization_endpoint,
                state=state,
                code_verifier=verifier,
                nonce=nonce,
            )
        return AuthRequest(url=url, state=state, nonce=nonce, code_verifier=verifier)

    def finish(self, *, code: str, nonce: str, code_verifier: str) -> dict[str, Any]:
        """Redeem `code`, check the ID token, and return its claims merged with userinfo."""
        meta = self.metadata()
        token = self.redeem(code=code, code_verifier=code_verifier)
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SsoFailed("token_invalid", "The identity provider sent no ID token.")
        claims = self.validate_id_token(id_token, nonce=nonce)
        access_token = token.get("access_token")
        if meta.userinfo_endpoint and isinstance(access_token, str):
            info = self._get_json(
                meta.userinfo_endpoint, headers={"Authorization": f"Bearer {access_token}"}
            )
            if info.get("sub") != claims["sub"]:
                # OpenID Connect Core 5.3.2: userinfo about someone else must not be used.
                raise SsoFailed("token_invalid", "The userinfo is about another subject.")
            claims = {**info, **claims}
        return claims

    def redeem(self, *, code: str, code_verifier: str) -> dict[str, Any]:
        """The token response for `code` (with the PKCE verifier that belongs to it)."""
        meta = self.metadata()
        try:
            with self._session() as oauth:
                token = oauth.fetch_token(
                    meta.token_endpoint,
                    code=code,
                    code_verifier=code_verifier,
                    timeout=HTTP_TIMEOUT_S,
                )
        except Exception as exc:  # Authlib raises OAuthError, requests its own errors
            raise SsoFailed(
                "code_refused",
                N_("The identity provider refused the code: %(detail)s"),
                params={"detail": str(exc)},
            ) from None
        return dict(token)

    def validate_id_token(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        """The claims of a signed ID token meant for us, now, in this sign-on; else SsoFailed."""
        try:
            decoded = jwt.decode(id_token, self._key_for, algorithms=list(ID_TOKEN_ALGORITHMS))
        except JoseError as exc:
            raise SsoFailed(
                "token_invalid",
                N_("The ID token's signature is not valid: %(detail)s"),
                params={"detail": str(exc)},
            ) from None
        claims = dict(decoded.claims)
        registry = jwt.JWTClaimsRegistry(
            now=lambda: int(clock.now().timestamp()),
            leeway=CLOCK_LEEWAY_S,
            iss={"essential": True, "value": self.metadata().issuer},
            sub={"essential": True},
            aud={"essential": True, "value": self.client_id},
            exp={"essential": True},
            iat={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            reason = "token_expired" if exc.error == "expired_token" else "token_invalid"
            raise SsoFailed(
                reason, N_("The ID token is not valid: %(detail)s"), params={"detail": str(exc)}
            ) from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.client_id:
            raise SsoFailed("token_invalid", "The ID token was issued to another party.")
        if not isinstance(claims.get("nonce"), str) or not secrets.compare_digest(
            claims["nonce"], nonce
        ):
            raise SsoFailed("nonce_mismatch", "The ID token belongs to another sign-on.")
        return claims

    def _key_for(self, guest: Any) -> Any:
        # A key id we do not know yet may be a rotated key: fetch the set once more.
        kid = guest.headers().get("kid")
        keys = self._key_set()
        if kid and not any(key.kid == kid for key in keys.keys):
            keys = self._key_set(refresh=True)
        return keys

    def logout_url(self) -> str | None:
        """RP-initiated logout at the provider, back to our login page; None if unsupported."""
        try:
            endpoint = self.metadata().end_session_endpoint
        except SsoFailed:
            return None
        if not endpoint:
            return None
        query = urlencode(
            {"client_id": self.client_id, "post_logout_redirect_uri": self.post_logout_redirect_uri}
        )
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
