"""The survey key: a key pair per survey whose private half the portal never keeps.

A survey opened with a key seals every submission to the survey's public key
(X25519 key agreement with a fresh ephemeral key per entry, HKDF-SHA256, then
ChaCha20-Poly1305 from ``cryptography``; the survey id and the entry's
ephemeral public key are authenticated with it). The private half is shown to
HR once, as text, when the key is made, and is needed again to open the
answers at close. Nothing the portal stores or holds — its database, its
files, its secret key — can open a waiting entry: that is what keeps an
insider with all of them (threat model T2) from reading answers while a
survey is open, out of the database's history (its write-ahead log) where an
entry and the code it was admitted with sit side by side.

The text form is the 32-byte private key in RFC 4648 base32, in groups of
four: 52 letters and digits. Reading it back forgives case, spaces, dashes
and the look-alikes 0/O, 1/I and 8/B. A typo is caught because the public
key derived from what was entered must equal the survey's.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

VERSION = b"v2"
_PUBLIC_BYTES = 32
_NONCE_BYTES = 12
_TAG_BYTES = 16
_GROUP = 4
_LOOK_ALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})


class SurveyKeyError(Exception):
    """Text that is not a survey key, a key of another survey, or an entry it cannot open."""


class NotAKey(SurveyKeyError):
    """Text that is not a survey key at all (length, letters)."""


class WrongKey(SurveyKeyError):
    """A well-formed key whose public half is not the survey's (another survey's, or replaced)."""


def new_key() -> tuple[str, str]:
    """A fresh key pair: (the private key as text for HR, the public key to store)."""
    private = X25519PrivateKey.generate()
    return _text(private.private_bytes_raw()), _public_text(private.public_key())


def _text(raw: bytes) -> str:
    letters = base64.b32encode(raw).decode().rstrip("=")
    return "-".join(letters[i : i + _GROUP] for i in range(0, len(letters), _GROUP))


def _public_text(public: X25519PublicKey) -> str:
    return base64.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def fingerprint(public_text: str) -> str:
    """Four characters that tell one survey key's printout from another's (not secret)."""
    digest = hashlib.sha256(b"varna survey key " + public_text.encode()).digest()
    return base64.b32encode(digest).decode()[:_GROUP]


def parse(text: str, public_text: str) -> X25519PrivateKey:
    """The private key written as ``text``; SurveyKeyError unless it belongs to ``public_text``."""
    letters = "".join(ch for ch in (text or "").upper() if ch.isalnum()).translate(_LOOK_ALIKES)
    if len(letters) != 52:
        raise NotAKey("not a survey key")
    try:
        raw = base64.b32decode(letters + "====")
    except ValueError as exc:
        raise NotAKey("not a survey key") from exc
    private = X25519PrivateKey.from_private_bytes(raw)
    if not secrets.compare_digest(_public_text(private.public_key()), public_text):
        raise WrongKey("the key of another survey")
    return private


def _aead(shared: bytes, ephemeral: bytes, public: bytes, survey_id: int) -> ChaCha20Poly1305:
    key = HKDF(
        algorithm=SHA256(),
        length=32,
        salt=ephemeral + public,
        info=b"varna inbox v2 " + str(int(survey_id)).encode(),
    ).derive(shared)
    return ChaCha20Poly1305(key)


def _associated(survey_id: int, ephemeral: bytes) -> bytes:
    return VERSION + str(int(survey_id)).encode() + b":" + ephemeral


def seal(public_text: str, survey_id: int, body: bytes) -> bytes:
    """``body`` (already padded to the survey's entry size) sealed to the survey's public key."""
    public_raw = base64.b64decode(public_text)
    ephemeral = X25519PrivateKey.generate()
    ephemeral_raw = ephemeral.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public_raw))
    aead = _aead(shared, ephemeral_raw, public_raw, survey_id)
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = aead.encrypt(nonce, body, _associated(survey_id, ephemeral_raw))
    return VERSION + ephemeral_raw + nonce + sealed


def is_sealed_to_key(sealed: bytes | memoryview) -> bool:
    """Whether an entry was sealed to a survey key (rather than with the portal's key)."""
    return bytes(sealed[: len(VERSION)]) == VERSION


def unseal(private: X25519PrivateKey, survey_id: int, sealed: bytes | memoryview) -> bytes:
    """The padded body of an entry; SurveyKeyError if it was altered or sealed to another key."""
    raw = bytes(sealed)
    head = len(VERSION) + _PUBLIC_BYTES + _NONCE_BYTES
    if len(raw) < head + _TAG_BYTES or not raw.startswith(VERSION):
        raise SurveyKeyError("not an entry sealed to a survey key")
    ephemeral_raw = raw[len(VERSION) : len(VERSION) + _PUBLIC_BYTES]
    nonce = raw[len(VERSION) + _PUBLIC_BYTES : head]
    public_raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_raw))
    aead = _aead(shared, ephemeral_raw, public_raw, survey_id)
    try:
        return aead.decrypt(nonce, raw[head:], _associated(survey_id, ephemeral_raw))
    except Exception as exc:  # cryptography's InvalidTag
        raise SurveyKeyError("the entry failed its authentication check") from exc
