"""Secrets kept encrypted in the database (Fernet), under a key derived from the app's SECRET_KEY.

No Flask here: the caller passes the key. Changing SECRET_KEY makes what was encrypted unreadable.
"""
import base64

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"parity secrets at rest"


def _fernet(key: str | bytes) -> Fernet:
    material = key.encode() if isinstance(key, str) else key
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(material)
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt(text: str, key: str | bytes) -> str:
    return _fernet(key).encrypt(text.encode()).decode()


def decrypt(token: str, key: str | bytes) -> str:
    """The text `encrypt` was given; cryptography.fernet.InvalidToken when the key is not the one it used."""
    return _fernet(key).decrypt(token.encode()).decode()
