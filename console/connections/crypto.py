"""Encryption of stored tokens: Fernet with every key in CONSOLE_TOKEN_KEYS (the first one encrypts)."""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class TokenUnreadable(Exception):
    """The stored token was encrypted with a key that is no longer configured."""


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in settings.CONSOLE_TOKEN_KEYS])


def encrypt(token: str) -> str:
    return _fernet().encrypt(token.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise TokenUnreadable(
            "The stored token cannot be decrypted with the keys in CONSOLE_TOKEN_KEYS; enter the token again."
        ) from None


def rotate(ciphertext: str) -> str:
    """Re-encrypt with the first key (after a new key was put first)."""
    try:
        return _fernet().rotate(ciphertext.encode()).decode()
    except InvalidToken:
        raise TokenUnreadable("The stored token cannot be decrypted with the keys in CONSOLE_TOKEN_KEYS.") from None
