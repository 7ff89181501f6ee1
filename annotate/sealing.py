"""Secrets at rest (a project's GitHub token): Fernet encryption with a key derived from a
passphrase. Django-free; settings.TOKEN_ENCRYPTION_KEY supplies the key."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken


class Unreadable(Exception):
    """A sealed value that the current key cannot open (the key changed)."""


def fernet_key(passphrase: str) -> bytes:
    """A Fernet key from any passphrase (a random 32+ character string in production)."""
    digest = hashlib.sha256(b"faultline-sealing:" + passphrase.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def seal(plaintext: str, key: bytes) -> str:
    return Fernet(key).encrypt(plaintext.encode()).decode()


def unseal(sealed: str, key: bytes) -> str:
    try:
        return Fernet(key).decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        raise Unreadable("The sealed value cannot be decrypted with the current key.") from None
