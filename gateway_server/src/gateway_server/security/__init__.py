"""Security: the secrets the server hands out (random, stored hashed, compared
in constant time) and the verification of customer JWTs. Imports nothing of
the HTTP edge or of any API."""

from ._cipher import Cipher, CipherError, load_key
from ._jwt import CustomerToken, CustomerVerifier, InvalidCustomerToken
from ._passwords import Passwords
from ._secrets import activation_code, hash_secret, new_secret, same_hash

__all__ = [
    "Cipher",
    "CipherError",
    "CustomerToken",
    "CustomerVerifier",
    "InvalidCustomerToken",
    "Passwords",
    "activation_code",
    "hash_secret",
    "load_key",
    "new_secret",
    "same_hash",
]
