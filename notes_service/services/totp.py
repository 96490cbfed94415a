"""Two-factor sign-in's pure parts: TOTP secrets, their encryption at rest, codes and recovery codes.

- **Codes** are RFC 6238 (SHA-1, 6 digits, 30 s), what every authenticator app makes. pyotp computes
  them; we compare the code with the steps now-1, now and now+1 ourselves, because the caller must
  know *which* step matched: each step is accepted once per user (services/two_factor.py).
- **Secrets** (160 bits, as RFC 4226 recommends) are stored encrypted with AES-GCM under a key derived
  from `NOTES_SECRET_KEY` by HKDF, with the user's id as associated data, so a database dump alone
  does not reveal them and a ciphertext copied onto another user's row does not decrypt.
- **Recovery codes** carry 80 random bits each; only their SHA-256 digest is stored. A slow hash
  (bcrypt) would add nothing against guessing 2^80 values and would cost one bcrypt per stored code
  at every attempt (a salted hash cannot be looked up), so plain SHA-256 it is, as for API tokens.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import time
from functools import lru_cache
from urllib.parse import quote

import pyotp
import segno

ISSUER = "notes-service"
STEP_SECONDS = 30
DIGITS = 6
SECRET_BYTES = 20  # 160 bits
RECOVERY_CODES = 10
RECOVERY_GROUPS = 4  # xxxx-xxxx-xxxx-xxxx: 16 base32 characters, 80 bits
RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
ENCRYPTION_VERSION = "v1"
HKDF_INFO = b"notes-service totp secret v1"


def new_secret() -> str:
    """A fresh 160-bit secret as base32 text (32 characters, no padding)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode()


def provisioning_uri(secret: str, email: str) -> str:
    """The `otpauth://` URI of SPEC §8 that authenticator apps read (from the QR code or as text)."""
    return f"otpauth://totp/{ISSUER}:{quote(email, safe='@')}?secret={secret}&issuer={ISSUER}"


def qr_svg(uri: str) -> str:
    """The URI as a QR code in inline SVG markup, drawn here: no image from anywhere else, and no
    style attribute or script that the page's CSP would block."""
    code = segno.make(uri, error="m")
    return str(code.svg_inline(scale=4, border=4, dark="#000", light="#fff", title="QR code", svgclass="qr"))


def clock() -> float:
    """Seconds since the epoch (tests replace it to stand at a chosen time step)."""
    return time.time()


def current_step(now: float | None = None) -> int:
    return int((clock() if now is None else now) // STEP_SECONDS)


def is_totp(code: str) -> bool:
    return len(code) == DIGITS and code.isascii() and code.isdigit()


def matching_step(secret: str, code: str, *, now: float | None = None) -> int | None:
    """The time step (now-1, now or now+1) whose code this is, or None."""
    code = normalise(code)
    if not is_totp(code):
        return None
    otp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    step = current_step(now)
    found = None
    for candidate in (step - 1, step, step + 1):  # all three compared: no timing says which
        if hmac.compare_digest(otp.generate_otp(candidate), code):
            found = candidate
    return found


def normalise(code: str) -> str:
    """A typed code without blanks and dashes, lower-cased (apps show `123 456`, codes `ab12-…`)."""
    return "".join(code.split()).replace("-", "").lower()


def new_recovery_codes() -> list[str]:
    """Ten one-time codes, `xxxx-xxxx-xxxx-xxxx` each."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUPS * 4))
        codes.append("-".join(raw[i : i + 4] for i in range(0, len(raw), 4)))
    return codes


class SecretBox:
    """AES-GCM with a key derived from the app's secret key; associated data binds a ciphertext to
    its purpose and user. Rotating `NOTES_SECRET_KEY` makes every stored secret unreadable.

    cryptography is imported here, on the first two-factor sign-in or enrolment, not with the app:
    loading its Rust module touches 6.9 MiB of it, which every `serve` process would otherwise hold
    whether anyone uses two-factor sign-in or not. The price is a one-off import (about 16 ms) in the
    first such request of each worker.
    """

    def __init__(self, secret_key: str) -> None:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO)
        self.aead = AESGCM(hkdf.derive(secret_key.encode()))

    def seal(self, plaintext: str, *, context: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self.aead.encrypt(nonce, plaintext.encode(), context.encode())
        return f"{ENCRYPTION_VERSION}:" + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, sealed: str, *, context: str) -> str | None:
        """The plaintext, or None when it was sealed under another key or context, or is damaged."""
        from cryptography.exceptions import InvalidTag

        version, _, body = sealed.partition(":")
        if version != ENCRYPTION_VERSION:
            return None
        try:
            raw = base64.urlsafe_b64decode(body.encode())
            return self.aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except (InvalidTag, ValueError):
            return None


@lru_cache(maxsize=4)
def secret_box(secret_key: str) -> SecretBox:
    """The box for this secret key (HKDF runs once per key, not per request)."""
    return SecretBox(secret_key)


def user_context(user_id: int) -> str:
    """Associated data of a user's stored TOTP secret."""
    return f"totp:user:{user_id}"
