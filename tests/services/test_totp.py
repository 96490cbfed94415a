"""The pure parts of two-factor sign-in: RFC 6238 codes, the encrypted secret, recovery codes."""

from __future__ import annotations

import base64

import pyotp

from notes_service.services import totp

KEY = "test-secret-key-that-is-long-enough-0123456789"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_rfc_6238_test_vector() -> None:
    # RFC 6238 appendix B, SHA-1, at T = 59 s: 94287082 (8 digits); 6 digits are its last six.
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp.matching_step(secret, "287082", now=59) == 1
    assert totp.matching_step(secret, "287 082", now=59 + 30) == 1  # the previous step, typed with a blank
    assert totp.matching_step(secret, "287082", now=59 + 60) is None  # two steps later: outside


def test_secrets_are_160_bits_and_fresh() -> None:
    first, second = totp.new_secret(), totp.new_secret()
    assert len(base64.b32decode(first)) == 20 and first != second
    assert pyotp.TOTP(first).now().isdigit()


def test_provisioning_uri_is_the_spec_s() -> None:
    uri = totp.provisioning_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "ada@example.com")
    assert (
        uri
        == "otpauth://totp/notes-service:ada@example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=notes-service"
    )
    assert pyotp.parse_uri(uri).issuer == "notes-service"


def test_qr_code_is_inline_svg_without_style_or_links() -> None:
    svg = totp.qr_svg(totp.provisioning_uri(totp.new_secret(), "ada@example.com"))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "style" not in svg and "href" not in svg and "<script" not in svg


def test_sealed_secret_opens_only_with_its_key_and_context() -> None:
    box = totp.SecretBox(KEY)
    sealed = box.seal(SECRET, context=totp.user_context(1))
    assert SECRET not in sealed and sealed != box.seal(SECRET, context="x")
    assert box.open(sealed, context=totp.user_context(1)) == SECRET
    assert box.open(sealed, context=totp.user_context(2)) is None  # copied onto another user's row
    assert totp.SecretBox(KEY + "-rotated").open(sealed, context=totp.user_context(1)) is None
    assert box.open("v1:bm90IGEgc2VhbGVkIHZhbHVl", context=totp.user_context(1)) is None
    assert box.open("v0:" + sealed[3:], context=totp.user_context(1)) is None


def test_recovery_codes_are_ten_distinct_80_bit_codes() -> None:
    codes = totp.new_recovery_codes()
    assert len(set(codes)) == 10
    for code in codes:
        assert len(code) == 19 and code.count("-") == 3
        assert set(code.replace("-", "")) <= set(totp.RECOVERY_ALPHABET)  # 16 × 5 bits
    assert totp.normalise(" AB12-cd34 ") == "ab12cd34"
