"""The service identities that call internal APIs (SPEC §11): the `iss` of their identity tokens
and the names the routes allow. Each is the calling service's name in the catalog."""

from typing import Final

BFF: Final = "bff"
PAYMENT: Final = "payment"
# The operators' tools (the Ops service, the `paysaga` CLI, the tests acting as an operator).
OPS: Final = "ops"

# The identities that hold a private key of their own.
CALLERS: Final = (BFF, PAYMENT, OPS)

# The `iss` of the customers' access tokens (the BFF signs them); the Ops service asks the BFF about
# a token that says so (token introspection) to answer a customer 403 rather than 401.
CUSTOMER_TOKEN_ISSUER: Final = "paysaga-bff"
