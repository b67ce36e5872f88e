"""Secrets at rest: Fernet tokens under a key derived with HKDF-SHA256 from the key material given."""
import pytest

from app import secrets_at_rest
from app.config import encryption_key


def test_a_secret_comes_back_from_its_token_and_the_token_does_not_show_it():
    token = secrets_at_rest.encrypt("ck_live_0042secret9876", "key material")
    assert "secret" not in token and "9876" not in token
    assert secrets_at_rest.decrypt(token, "key material") == "ck_live_0042secret9876"
    assert secrets_at_rest.encrypt("ck_live_0042secret9876", "key material") != token  # a fresh IV each time


@pytest.mark.parametrize("token", ["ck_live_plain", "gAAAAA-not-a-token", "ключ"])
def test_other_key_material_or_no_token_is_refused(token):
    with pytest.raises(secrets_at_rest.SecretUnreadable):
        secrets_at_rest.decrypt(secrets_at_rest.encrypt("secret", "key one"), "key two")
    with pytest.raises(secrets_at_rest.SecretUnreadable):
        secrets_at_rest.decrypt(token, "key one")


def test_the_key_is_hkdf_sha256_of_the_material_with_parity_info():
    import base64

    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"parity secrets at rest").derive(b"material")
    token = Fernet(base64.urlsafe_b64encode(derived)).encrypt(b"made elsewhere").decode()
    assert secrets_at_rest.decrypt(token, "material") == "made elsewhere"


def test_encryption_key_is_encryption_key_when_set_else_secret_key():
    assert encryption_key({"SECRET_KEY": "s", "ENCRYPTION_KEY": None}) == "s"
    assert encryption_key({"SECRET_KEY": "s", "ENCRYPTION_KEY": "e"}) == "e"
