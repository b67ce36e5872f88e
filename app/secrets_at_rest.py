"""Secrets the database keeps encrypted (a practice's Claim.MD AccountKey): Fernet (AES-128-CBC with an
HMAC-SHA256), its key derived with HKDF-SHA256 from key material the caller passes (ENCRYPTION_KEY, else
SECRET_KEY: `app.config.encryption_key`). No Flask here, so migrations and jobs use it the same way."""
import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

#: Binds the derived key to this use, so the same SECRET_KEY signing sessions never is the cipher key itself.
_INFO = b"parity secrets at rest"


class SecretUnreadable(ValueError):
    """The stored text was not encrypted with this key material (the key changed, or the text is not a token)."""


def _fernet(key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt(text: str, key: str) -> str:
    """The text as a token to store (ASCII; a new random IV each time, so equal texts differ)."""
    return _fernet(key).encrypt(text.encode()).decode("ascii")


def decrypt(token: str, key: str) -> str:
    """The text a token holds; SecretUnreadable when it was made with other key material or is not a token."""
    try:
        return _fernet(key).decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeEncodeError) as error:
        raise SecretUnreadable("the stored secret cannot be decrypted with this key") from error
