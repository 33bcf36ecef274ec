"""Security: the secrets the server hands out (random, stored hashed, compared
in constant time) and the verification of customer JWTs. Imports nothing of
the HTTP edge or of any API."""

from ._jwt import CustomerToken, CustomerVerifier, InvalidCustomerToken
from ._secrets import activation_code, hash_secret, new_secret, same_hash

__all__ = [
    "CustomerToken",
    "CustomerVerifier",
    "InvalidCustomerToken",
    "activation_code",
    "hash_secret",
    "new_secret",
    "same_hash",
]
