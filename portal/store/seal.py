"""Sealing inbox entries: authenticated encryption from the standard library.

The inbox holds each submission until the mixer moves it into the response
tables (``portal.store.inbox``). Its entries are sealed so that a copy of the
database (threat model T1: without the portal's secret key) shows nothing of
the answers, and cannot tell a long comment from a short one.

Construction (encrypt-then-MAC, two independent keys derived from the secret
key with HMAC-SHA256 and distinct labels):

* a random 16-byte nonce per entry (never reused: 128 random bits);
* the key stream is SHAKE-256 over (encryption key ‖ nonce), an XOF keyed by
  prefix, which is a pseudo-random function (the construction of KMAC);
* the plaintext is padded before encryption to a size fixed per survey (the
  inbox passes the largest a submission of the survey's definition can be),
  so every entry of a survey has the same length whatever the answers;
* the tag is HMAC-SHA256 under the MAC key over (version ‖ survey id ‖ nonce ‖
  ciphertext), checked in constant time before anything is decrypted, so an
  entry cannot be altered or moved to another survey.

The standard library has no AEAD; this avoids a compiled dependency for a few
kilobytes per submission. ``cryptography``'s AES-GCM would serve equally.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets

VERSION = b"v1"
NONCE_BYTES = 16
TAG_BYTES = 32
MIN_BUCKET = 2048


class SealError(Exception):
    """An entry that fails its authentication check (altered, or sealed with another key)."""


@functools.lru_cache(maxsize=16)
def _subkey(secret_key: str, label: str) -> bytes:
    return hmac.new(secret_key.encode(), f"varna inbox {label}".encode(), hashlib.sha256).digest()


def _bucket(length: int) -> int:
    size = MIN_BUCKET
    while size < length:
        size *= 2
    return size


def _stream(enc_key: bytes, nonce: bytes, length: int) -> bytes:
    return hashlib.shake_256(b"varna inbox stream" + enc_key + nonce).digest(length)


def _xor(data: bytes, stream: bytes) -> bytes:
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(len(data), "big")


def seal(secret_key: str, survey_id: int, plaintext: bytes, size: int = MIN_BUCKET) -> bytes:
    """The sealed form of ``plaintext`` for ``survey_id``: version, nonce, ciphertext, tag.

    The plaintext is padded to ``size`` bytes (or, should it not fit, to the
    next power of two above), so that entries of one size say nothing.
    """
    body = pad(plaintext, size)
    nonce = secrets.token_bytes(NONCE_BYTES)
    ciphertext = _xor(body, _stream(_subkey(secret_key, "enc"), nonce, len(body)))
    tag = _tag(secret_key, survey_id, nonce, ciphertext)
    return VERSION + nonce + ciphertext + tag


def _tag(secret_key: str, survey_id: int, nonce: bytes, ciphertext: bytes) -> bytes:
    message = VERSION + str(int(survey_id)).encode() + b":" + nonce + ciphertext
    return hmac.new(_subkey(secret_key, "mac"), message, hashlib.sha256).digest()


def unseal(secret_key: str, survey_id: int, sealed: bytes | memoryview) -> bytes:
    """The plaintext of a sealed entry; SealError if it was altered or sealed otherwise."""
    raw = bytes(sealed)
    if len(raw) < len(VERSION) + NONCE_BYTES + TAG_BYTES + 4 or not raw.startswith(VERSION):
        raise SealError("not a sealed entry")
    nonce = raw[len(VERSION) : len(VERSION) + NONCE_BYTES]
    ciphertext = raw[len(VERSION) + NONCE_BYTES : -TAG_BYTES]
    if not hmac.compare_digest(raw[-TAG_BYTES:], _tag(secret_key, survey_id, nonce, ciphertext)):
        raise SealError("the entry failed its authentication check")
    return unpad(_xor(ciphertext, _stream(_subkey(secret_key, "enc"), nonce, len(ciphertext))))


def pad(plaintext: bytes, size: int = MIN_BUCKET) -> bytes:
    """Length prefix, then zero padding up to ``size`` (or the next power of two above)."""
    body = len(plaintext).to_bytes(4, "big") + plaintext
    return body + b"\0" * (max(size, _bucket(len(body))) - len(body))


def unpad(body: bytes) -> bytes:
    """The plaintext of a padded body; SealError if its length prefix is impossible."""
    length = int.from_bytes(body[:4], "big")
    if len(body) < 4 or length > len(body) - 4:
        raise SealError("the entry is damaged")
    return body[4 : 4 + length]
