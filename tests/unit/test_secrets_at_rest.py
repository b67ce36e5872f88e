"""Secrets at rest: what is encrypted comes back only with the same key."""
import pytest
from cryptography.fernet import InvalidToken

from app import secrets_at_rest


def test_encrypted_text_comes_back_with_the_same_key_and_is_not_stored_in_clear():
    token = secrets_at_rest.encrypt("JBSWY3DPEHPK3PXP", "the app's secret key")
    assert "JBSWY3DPEHPK3PXP" not in token
    assert secrets_at_rest.decrypt(token, "the app's secret key") == "JBSWY3DPEHPK3PXP"
    assert secrets_at_rest.decrypt(token, b"the app's secret key") == "JBSWY3DPEHPK3PXP"


def test_another_key_cannot_read_it():
    token = secrets_at_rest.encrypt("JBSWY3DPEHPK3PXP", "the app's secret key")
    with pytest.raises(InvalidToken):
        secrets_at_rest.decrypt(token, "another secret key")


def test_the_same_text_encrypts_differently_each_time():
    assert secrets_at_rest.encrypt("same", "key") != secrets_at_rest.encrypt("same", "key")
