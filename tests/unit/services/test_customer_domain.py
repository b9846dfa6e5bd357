import pytest

from paysaga.services.customer.domain import WeakPassword, check_password_strength, normalize_email

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "password",
    ["short1", "abcdefghijk", "12345678901", "aaaaaaaaaa11", "annasmith-123", "x" * 127 + "1" * 2],
)
def test_weak_passwords_are_refused(password: str) -> None:
    with pytest.raises(WeakPassword):
        check_password_strength(password, email="AnnaSmith@example.org")


@pytest.mark.parametrize("password", ["correct-horse-42", "Пароль-надёжный-7", "z9y8x7w6v5u4"])
def test_strong_passwords_pass(password: str) -> None:
    check_password_strength(password, email="anna@example.org")


def test_emails_compare_case_insensitively() -> None:
    assert normalize_email("  Anna@Example.ORG ") == "anna@example.org"
