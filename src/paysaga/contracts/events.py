"""The five events of the seeds, with exactly the seed fields (camelCase on the wire), and
`WalletToppedUp`, PaySaga's own (not in the seeds; named and shaped in their style).

Python attributes are snake_case; `model_dump_json()` (by alias) gives the wire form.
Metadata (event id, type, source, time, trace) travels in Kafka headers, not here:
see `paysaga.contracts.cloudevents`.
"""

from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from paysaga.contracts.topics import CALLBACK_EVENTS, CUSTOMER_EVENTS, PAYMENT_EVENTS, WALLET_EVENTS
from paysaga.contracts.values import Currency, MinorUnits


class _Wire(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        serialize_by_alias=True,
        extra="forbid",
        frozen=True,
    )


class Event(_Wire):
    """Base of every event: knows its topic and which field is the partition key."""

    topic: ClassVar[str]
    key_field: ClassVar[str]

    @property
    def key(self) -> str:
        return str(getattr(self, self.key_field))

    @classmethod
    def type_name(cls) -> str:
        return cls.__name__

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()


class Recipient(_Wire):
    account_number: str = Field(description="Recipient's 20-digit bank account number")
    bank_bic: str = Field(description="9-digit BIC of the recipient's bank")
    name: str = Field(description="Recipient's full name")


class PaymentInitiated(Event):
    """Wallet reserved the funds; the payment may start."""

    topic = PAYMENT_EVENTS
    key_field = "payment_id"

    payment_id: str
    wallet_id: str
    user_id: str
    amount: MinorUnits
    currency: Currency
    recipient: Recipient
    created_at: AwareDatetime


class PaymentCompleted(Event):
    """The provider confirmed the payout."""

    topic = PAYMENT_EVENTS
    key_field = "payment_id"

    payment_id: str
    provider_txn_id: str
    completed_at: AwareDatetime


class PaymentFailed(Event):
    """The payout did not happen; `provider_txn_id` is null when none was obtained."""

    topic = PAYMENT_EVENTS
    key_field = "payment_id"

    payment_id: str
    provider_txn_id: str | None
    error_code: str
    completed_at: AwareDatetime


class ProviderCallbackReceived(Event):
    """The provider told us the final outcome of a payout."""

    topic = CALLBACK_EVENTS
    key_field = "provider_txn_id"

    provider_txn_id: str
    status: Literal["SUCCESS", "FAILED"]
    received_at: AwareDatetime


class CustomerCreated(Event):
    """A customer registered; Wallet opens their wallet."""

    topic = CUSTOMER_EVENTS
    key_field = "user_id"

    user_id: str
    currency: Currency
    created_at: AwareDatetime


class WalletToppedUp(Event):
    """Money arrived in a wallet (a card top-up); Core Banking journals it. PaySaga's own, not a seed event."""

    topic = WALLET_EVENTS
    key_field = "wallet_id"

    top_up_id: str = Field(description="The top-up's id (one per client Idempotency-Key); unique")
    wallet_id: str
    user_id: str
    amount: MinorUnits
    currency: Currency = Field(description="The wallet's currency")
    balance_after: int = Field(strict=True, ge=0, description="The wallet's balance after this top-up, minor units")
    created_at: AwareDatetime = Field(description="When the top-up was credited")


ALL_EVENTS: tuple[type[Event], ...] = (
    PaymentInitiated,
    PaymentCompleted,
    PaymentFailed,
    ProviderCallbackReceived,
    CustomerCreated,
    WalletToppedUp,
)
EVENTS_BY_TYPE: dict[str, type[Event]] = {e.type_name(): e for e in ALL_EVENTS}
