"""Single sign-on with OpenID Connect (authorization code flow with PKCE), using Authlib.

``begin`` makes the authorization request: a fresh ``state``, ``nonce`` and
PKCE code verifier, kept in the caller's session (``Pending``), and the URL
to send the browser to. ``finish`` takes the provider's answer: the state
must match the pending one (which is used once: a replayed or forged answer
is refused), the code is exchanged for tokens with the verifier and the
client secret, and the ID token's signature (the provider's published keys,
asymmetric algorithms only), issuer, audience, expiry, issue time (both
within a bounded clock skew) and nonce are verified. ``account_for`` turns
the verified claims into an enabled account: by the role mapping of group or
role claims, or by an account an administrator created with the same e-mail
address.

Settings come from ``VARNA_SSO_*`` (``portal.config``); nothing here knows
about requests: the view passes the session's pending data and the query
arguments in, and starts the session with what comes out.
"""

from __future__ import annotations

import datetime as dt
import hmac
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from portal import clock, store
from portal.config import parse_role_map
from portal.services import audit
from portal.store.models import User
from surveys import N_

HTTP_TIMEOUT = 10  # seconds for each request to the provider
PENDING_LIFETIME = dt.timedelta(minutes=10)  # from the redirect to the provider to the answer
METADATA_LIFETIME = 3600  # seconds the discovery document and keys are cached
MAX_CLOCK_SKEW = 300  # seconds: the most VARNA_SSO_CLOCK_SKEW_SECONDS may allow
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
# The most privileged mapped role wins when a person is in several mapped groups.
_PRIVILEGE = {"admin": 3, "hr": 2, "board": 1}
UNUSABLE_PASSWORD = "!sso"  # noqa: S105 - not a hash: no password ever matches it


class SignInRefused(Exception):
    """The sign-in cannot complete; ``message`` (an English msgid) says why to the person."""

    message = N_("Single sign-on did not succeed. Try again, or ask an administrator for help.")

    def __init__(self, reason: str, message: str | None = None, **params: Any):
        super().__init__(reason)
        self.reason = reason  # for the audit log and the application log (English, no secrets)
        if message:
            self.message = message
        self.params = params


class StateMismatch(SignInRefused):
    """No pending sign-in, or the answer's state is not the pending one (replayed or forged)."""

    message = N_("This sign-in link has expired or was used already. Start the sign-in again.")


class NoAccount(SignInRefused):
    """The person has no account here: no mapped role and no account with the address."""

    message = N_(
        "You signed in with your organisation, but you have no access to Värna. "
        "Ask an administrator to give you access."
    )


class AccountDisabled(SignInRefused):
    """The matching account is disabled."""

    message = N_("This account is disabled. Ask an administrator for help.")


@dataclass(frozen=True)
class Settings:
    """The OpenID Connect configuration (from ``VARNA_SSO_*``)."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    scopes: str = "openid email profile"
    email_claim: str = "email"
    role_claim: str = "groups"
    role_map: dict[str, str] = field(default_factory=dict)  # claim value -> role
    clock_skew: int = 60

    @property
    def maps_roles(self) -> bool:
        """Whether roles come from claims (else accounts must exist, matched by e-mail)."""
        return bool(self.role_map)


def settings_from_config(config: Any) -> Settings | None:
    """The SSO settings, or None when single sign-on is not configured."""
    issuer = config.get("SSO_ISSUER")
    if not issuer:
        return None
    base = str(config.get("BASE_URL", "")).rstrip("/")
    return Settings(
        issuer=issuer.rstrip("/"),
        client_id=config["SSO_CLIENT_ID"],
        client_secret=config.get("SSO_CLIENT_SECRET", ""),
        redirect_uri=f"{base}/admin/sso/callback",
        scopes=config.get("SSO_SCOPES") or "openid email profile",
        email_claim=config.get("SSO_EMAIL_CLAIM") or "email",
        role_claim=config.get("SSO_ROLE_CLAIM") or "groups",
        role_map=parse_role_map(config.get("SSO_ROLE_MAP") or ""),
        clock_skew=min(int(config.get("SSO_CLOCK_SKEW_SECONDS", 60)), MAX_CLOCK_SKEW),
    )


# -- the provider's metadata and keys, cached per process ----------------------------------

_cache: dict[str, tuple[float, Any]] = {}


def _get_json(url: str) -> Any:
    try:
        response = requests.get(url, timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as exc:
        raise SignInRefused(f"the provider could not be reached ({url}): {exc}") from None


def _cached(key: str, load, refresh: bool = False) -> Any:
    hit = _cache.get(key)
    if hit and not refresh and time.monotonic() - hit[0] < METADATA_LIFETIME:
        return hit[1]
    value = load()
    _cache[key] = (time.monotonic(), value)
    return value


def metadata(settings: Settings) -> dict[str, Any]:
    """The provider's discovery document; its issuer must be the configured one."""

    def load() -> dict[str, Any]:
        document = _get_json(f"{settings.issuer}/.well-known/openid-configuration")
        if not isinstance(document, dict) or document.get("issuer", "").rstrip("/") != (
            settings.issuer
        ):
            raise SignInRefused("the discovery document names another issuer")
        return document

    return _cached("metadata:" + settings.issuer, load)


def _key_set(settings: Settings, refresh: bool = False) -> KeySet:
    uri = metadata(settings)["jwks_uri"]
    return KeySet.import_key_set(_cached("jwks:" + uri, lambda: _get_json(uri), refresh))


def forget_provider_cache() -> None:
    """Drop the cached metadata and keys (after a configuration change; in tests)."""
    _cache.clear()


# -- the flow ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    """What the session keeps between the redirect to the provider and its answer."""

    state: str
    nonce: str
    code_verifier: str
    started_at: int  # seconds since the epoch (clock.timestamp)
    next: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Pending | None:
        if not isinstance(data, dict):
            return None
        try:
            return cls(
                **{k: data[k] for k in ("state", "nonce", "code_verifier", "started_at")},
                next=data.get("next"),
            )
        except (KeyError, TypeError):
            return None


def _client(settings: Settings) -> OAuth2Session:
    return OAuth2Session(
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        scope=settings.scopes,
        redirect_uri=settings.redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method's name
    )


def begin(settings: Settings, next_page: str | None = None) -> tuple[str, Pending]:
    """The provider's authorization URL to redirect to, and what to keep in the session."""
    pending = Pending(
        state=generate_token(32),
        nonce=generate_token(32),
        code_verifier=generate_token(64),
        started_at=int(clock.timestamp(clock.utcnow())),
        next=next_page,
    )
    with _client(settings) as client:
        url, _ = client.create_authorization_url(
            metadata(settings)["authorization_endpoint"],
            state=pending.state,
            nonce=pending.nonce,
            code_verifier=pending.code_verifier,
        )
    return url, pending


def finish(settings: Settings, pending: Pending | None, args: dict[str, str]) -> dict[str, Any]:
    """The verified ID token claims of the provider's answer ``args`` to ``pending``.

    The caller must have removed ``pending`` from the session already, so that
    the answer cannot be replayed. Raises SignInRefused (or StateMismatch).
    """
    state = args.get("state") or ""
    if pending is None or not hmac.compare_digest(state.encode(), pending.state.encode()):
        raise StateMismatch("no pending sign-in with this state (replayed or forged)")
    now = int(clock.timestamp(clock.utcnow()))
    if now - pending.started_at > PENDING_LIFETIME.total_seconds():
        raise StateMismatch("the sign-in took too long")
    if args.get("error"):
        raise SignInRefused(f"the provider refused: {args.get('error')}"[:200])
    issuer_in_answer = args.get("iss")
    if issuer_in_answer and issuer_in_answer.rstrip("/") != settings.issuer:
        raise SignInRefused("the answer names another issuer (mix-up)")
    code = args.get("code")
    if not code:
        raise SignInRefused("the answer has no code")
    try:
        with _client(settings) as client:
            token = client.fetch_token(
                metadata(settings)["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=pending.code_verifier,
                timeout=HTTP_TIMEOUT,
            )
    except (requests.RequestException, ValueError, OAuthError) as exc:
        # OAuthError: the provider refused the code (used, expired, another client's).
        raise SignInRefused(f"the code could not be exchanged: {exc}"[:300]) from None
    id_token = token.get("id_token")
    if not id_token:
        raise SignInRefused("the provider sent no ID token")
    return verify_id_token(settings, id_token, pending.nonce, now)


def verify_id_token(settings: Settings, id_token: str, nonce: str, now: int) -> dict[str, Any]:
    """The claims of ``id_token`` once signature, issuer, audience, times and nonce are right."""
    try:
        try:
            decoded = jwt.decode(id_token, _key_set(settings), algorithms=list(ALGORITHMS))
        except JoseError:
            # The provider may have rotated its keys since they were cached.
            decoded = jwt.decode(id_token, _key_set(settings, True), algorithms=list(ALGORITHMS))
    except (JoseError, ValueError) as exc:
        raise SignInRefused(f"the ID token's signature is not valid: {exc}"[:300]) from None
    claims = decoded.claims
    registry = jwt.JWTClaimsRegistry(
        now=now,
        leeway=settings.clock_skew,
        iss={"essential": True, "value": settings.issuer},
        sub={"essential": True},
        aud={"essential": True, "value": settings.client_id},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise SignInRefused(f"the ID token was refused: {exc}"[:300]) from None
    audience = claims["aud"]
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != settings.client_id:
        raise SignInRefused("the ID token was issued to another client (azp)")
    return claims


# -- from claims to an account ---------------------------------------------------------------


def email_of(settings: Settings, claims: dict[str, Any]) -> str:
    """The person's e-mail address from the configured claim; raises SignInRefused."""
    value = claims.get(settings.email_claim)
    if not isinstance(value, str) or "@" not in value or len(value) > 254:
        raise SignInRefused(f"the ID token has no e-mail address in {settings.email_claim!r}")
    if claims.get("email_verified") is False and settings.email_claim == "email":
        raise SignInRefused("the provider says the e-mail address is not verified")
    return store.normalise_email(value)


def mapped_role(settings: Settings, claims: dict[str, Any]) -> str | None:
    """The most privileged role that the person's group or role claims map to, if any."""
    values = claims.get(settings.role_claim)
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list):
        return None
    roles = {settings.role_map[v] for v in values if isinstance(v, str) and v in settings.role_map}
    return max(roles, key=_PRIVILEGE.__getitem__) if roles else None


def account_for(settings: Settings, claims: dict[str, Any]) -> User:
    """The enabled account for verified ``claims``, created or re-roled by the role map.

    With a role map, the claims decide the role: an account is created at the
    first sign-in and follows the groups after that (both audited); a person
    whose claims map to no role is refused, even with an account. Without a
    role map, only an account an administrator created with the address can
    sign in. A disabled account is always refused.
    """
    email = email_of(settings, claims)
    user = store.get_user_by_email(email)
    if user is not None and user.disabled:
        raise AccountDisabled("the account is disabled")
    if not settings.maps_roles:
        if user is None:
            raise NoAccount("no account with this e-mail address (and no role map)")
        return user
    role = mapped_role(settings, claims)
    if role is None:
        raise NoAccount(f"no mapped role in the claim {settings.role_claim!r}")
    if user is None:
        try:
            user = store.create_user(email, UNUSABLE_PASSWORD, role, clock.utcnow())
        except store.DuplicateEmail:
            # Created by a simultaneous sign-in of the same person: use that account.
            user = store.get_user_by_email(email)
            if user is None:
                raise SignInRefused("the account vanished during the sign-in") from None
        else:
            audit.record(
                "account_created",
                actor=None,
                subject=email,
                detail=N_("By single sign-on, role: %(role)s"),
                params={"role": role},
            )
            return user
    if user.role != role:
        try:
            user = store.set_user_role(user.id, role)
        except store.LastActiveAdmin:
            raise NoAccount("the new role would remove the last administrator") from None
        audit.record(
            "role_changed",
            actor=None,
            subject=email,
            detail=N_("By single sign-on, to %(new_role)s"),
            params={"new_role": role},
        )
    return user


def refused(exc: SignInRefused, claims_email: str = "") -> None:
    """Write a refused sign-in to the audit log (the reason in English, no token).

    A missing or wrong state is not written: anyone can send such a request,
    and it says nothing about a person (it is in the application log).
    """
    if isinstance(exc, StateMismatch):
        return
    audit.record("login_sso_refused", actor=None, subject=claims_email, detail=exc.reason[:500])
