"""The signature header parser: anything malformed is "not signed", never an exception."""

from __future__ import annotations

import pytest

from paysaga.contracts.signatures import compute_signature, signature_header, verify_signature

pytestmark = pytest.mark.unit

SECRET = "s" * 32
BODY = b'{"a": 1}'
NOW = 1_700_000_000


def test_a_good_header_verifies() -> None:
    assert verify_signature(SECRET, BODY, signature_header(SECRET, BODY, NOW), now=NOW)


@pytest.mark.parametrize(
    "header",
    [
        "t=\u00b2,v1={sig}",
        "t={t}\u00b3,v1={sig}",
        "t=\u0661\u0662,v1={sig}",  # Arabic-Indic digits: int() takes them, the wire contract does not
        "t=,v1={sig}",
        "t=junk,v1={sig}",
        "t=" + "9" * 5000 + ",v1={sig}",
        "t={t},v1=\u00e9{sig}",
        "t={t},v1=\u0434\u0430",
        "t={t},v1=",
        "t\u00b2={t},v1={sig}",
    ],
)
def test_a_malformed_header_is_false_not_an_exception(header: str) -> None:
    value = header.format(t=NOW, sig=compute_signature(SECRET, NOW, BODY))
    assert verify_signature(SECRET, BODY, value, now=NOW) is False
