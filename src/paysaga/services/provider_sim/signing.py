"""The callback signature: the shared wire contract in `paysaga.contracts.signatures`."""

from paysaga.contracts.signatures import (
    DEFAULT_TOLERANCE_SECONDS,
    SIGNATURE_HEADER,
    compute_signature,
    signature_header,
    verify_signature,
)

__all__ = ["DEFAULT_TOLERANCE_SECONDS", "SIGNATURE_HEADER", "compute_signature", "signature_header", "verify_signature"]
