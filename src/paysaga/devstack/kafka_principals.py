"""The services' Kafka principals and their ACLs, derived from `contracts.bus` (SPEC §11).

Each service that talks to Kafka logs in as `User:<service>` (SASL/SCRAM-SHA-512) and may:
- WRITE (and DESCRIBE) the topics of the events it publishes, and the dead-letter topics of the
  topics it applies records from (its consumer dead-letters there);
- READ the topics it consumes, in its own consumer group (READ on the group).
Nothing else: a Notification that produced `PaymentFailed` to payment-events would be refused
by the broker (TOPIC_AUTHORIZATION_FAILED). No IdempotentWrite on the cluster is granted: since
Kafka 3.0 (KIP-679) WRITE on a topic implies it for an idempotent producer (no transactional.id).
`admin`, the broker's only super user, creates the topics, the principals and these ACLs.
`python -m paysaga.devstack.kafka_principals` prints them as `kafka-acls.sh` commands, to
provision another cluster.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Literal, cast

from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialAlteration,
    UserScramCredentialUpsertion,
)

from paysaga.contracts.bus import (
    OPERATOR_READER_GROUP,
    OPERATOR_SERVICE,
    SUBSCRIPTIONS,
    dead_letter_topics,
    parties,
    published_topics,
)
from paysaga.contracts.topics import ALL_TOPICS, dead_letter_topic
from paysaga.platform.kafka import KafkaAccess

ADMIN = "admin"
SASL_MECHANISM = "SCRAM-SHA-512"
SCRAM_ITERATIONS = 4096  # Kafka's default and minimum for SCRAM-SHA-512

Resource = Literal["TOPIC", "GROUP"]
Operation = Literal["READ", "WRITE", "DESCRIBE"]

# An AclBindingFilter's "match any" for a name, principal or host (its stubs say `str`).
_ANY_STRING: Any = None


@dataclass(frozen=True, order=True, slots=True)
class Grant:
    """One ALLOW ACL of a service's principal, on one resource by its literal name, from any host."""

    principal: str
    resource: Resource
    name: str
    operation: Operation

    def binding(self) -> AclBinding:
        return AclBinding(
            ResourceType[self.resource],
            self.name,
            ResourcePatternType.LITERAL,
            self.principal,
            "*",
            AclOperation[self.operation],
            AclPermissionType.ALLOW,
        )

    @classmethod
    def of(cls, binding: AclBinding) -> Grant | None:
        """The binding as a Grant; None for one of another shape (a DENY, a prefix, a host...)."""
        restype, operation = binding.restype, binding.operation
        simple = (
            restype in (ResourceType.TOPIC, ResourceType.GROUP)
            and operation in (AclOperation.READ, AclOperation.WRITE, AclOperation.DESCRIBE)
            and binding.resource_pattern_type == ResourcePatternType.LITERAL
            and binding.permission_type == AclPermissionType.ALLOW
            and binding.host == "*"
        )
        if not simple or not isinstance(restype, ResourceType) or not isinstance(operation, AclOperation):
            return None
        return cls(binding.principal, cast(Resource, restype.name), binding.name, cast(Operation, operation.name))


def principal(service: str) -> str:
    return f"User:{service}"


def grants(service: str) -> list[Grant]:
    """What the service's principal may do, from what it publishes and consumes."""
    who = principal(service)
    found: set[Grant] = set()
    for topic in (*published_topics(service), *dead_letter_topics(service)):
        found |= {Grant(who, "TOPIC", topic, "WRITE"), Grant(who, "TOPIC", topic, "DESCRIBE")}
    if (subscription := SUBSCRIPTIONS.get(service)) is not None:
        found |= {Grant(who, "TOPIC", topic, "READ") for topic in subscription.read_topics}
        found.add(Grant(who, "GROUP", subscription.group, "READ"))
    if service == OPERATOR_SERVICE:
        found |= _operator_grants(who)
    return sorted(found)


def _operator_grants(who: str) -> set[Grant]:
    """The Ops service: DESCRIBE every topic and consumer group (lag: committed offsets against the
    watermarks), READ the dead-letter topics (browsing, in its reader group), WRITE the original
    topics (a replay puts a dead letter back where it came from)."""
    found = {Grant(who, "GROUP", sub.group, "DESCRIBE") for sub in SUBSCRIPTIONS.values()}
    found.add(Grant(who, "GROUP", OPERATOR_READER_GROUP, "READ"))
    for topic in ALL_TOPICS:
        dlq = dead_letter_topic(topic)
        found |= {
            Grant(who, "TOPIC", topic, "DESCRIBE"),
            Grant(who, "TOPIC", topic, "WRITE"),
            Grant(who, "TOPIC", dlq, "DESCRIBE"),
            Grant(who, "TOPIC", dlq, "READ"),
        }
    return found


def all_grants() -> list[Grant]:
    return [g for service in parties() for g in grants(service)]


def acl_commands(bootstrap: str = "<bootstrap>", command_config: str = "<admin.properties>") -> list[str]:
    """The ACLs as Kafka's own `kafka-acls.sh` commands (literal names, ALLOW from any host)."""
    return [
        f"kafka-acls.sh --bootstrap-server {bootstrap} --command-config {command_config} --add "
        f"--allow-principal {g.principal} --operation {g.operation.title()} --{g.resource.lower()} {g.name}"
        for g in all_grants()
    ]


def admin_access(bootstrap: str, password: str) -> KafkaAccess:
    return KafkaAccess(bootstrap, "SASL_PLAINTEXT", SASL_MECHANISM, ADMIN, password)


def service_access(bootstrap: str, service: str, password: str) -> KafkaAccess:
    return KafkaAccess(bootstrap, "SASL_PLAINTEXT", SASL_MECHANISM, service, password)


def service_environments(bootstrap: str, passwords: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Each Kafka-using service's own `KAFKA_*` environment: its principal and password, no one else's."""
    return {s: service_access(bootstrap, s, passwords[s]).environment() for s in parties()}


async def ensure_principals(admin: KafkaAccess, passwords: Mapping[str, str], *, timeout: float = 30.0) -> int:
    """Give every service its SCRAM credential and exactly its ACLs (idempotent: a restart sets the
    same again and drops the ACLs of our principals that the contract no longer grants). Returns
    once the broker enforces them; the number of ACLs created or deleted."""
    return await asyncio.to_thread(_ensure_principals, admin, passwords, timeout)


def _ensure_principals(admin_access_: KafkaAccess, passwords: Mapping[str, str], timeout: float) -> int:
    admin = AdminClient(admin_access_.client_config())
    services = parties()
    credential = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS)
    upserts: list[UserScramCredentialAlteration] = [
        UserScramCredentialUpsertion(s, credential, passwords[s].encode()) for s in services
    ]
    for future in admin.alter_user_scram_credentials(upserts, request_timeout=timeout).values():
        future.result()

    wanted = set(all_grants())
    ours = {principal(s) for s in services}
    existing = _current_acls(admin, timeout)
    stale = [b for b in existing if b.principal in ours and Grant.of(b) not in wanted]
    missing = wanted - {g for g in map(Grant.of, existing) if g is not None}
    if stale:
        filters = [_exact_filter(b) for b in stale]
        for future in admin.delete_acls(filters, request_timeout=timeout).values():
            future.result()
    if missing:
        for future in admin.create_acls([g.binding() for g in sorted(missing)], request_timeout=timeout).values():
            future.result()
    _wait_enforced(admin, services, wanted, ours, timeout)
    return len(stale) + len(missing)


def _current_acls(admin: AdminClient, timeout: float) -> list[AclBinding]:
    every = AclBindingFilter(
        ResourceType.ANY,
        _ANY_STRING,
        ResourcePatternType.ANY,
        _ANY_STRING,
        _ANY_STRING,
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    result: list[AclBinding] = admin.describe_acls(every, request_timeout=timeout).result()
    return result


def _exact_filter(binding: AclBinding) -> AclBindingFilter:
    return AclBindingFilter(
        binding.restype,
        binding.name,
        binding.resource_pattern_type,
        binding.principal,
        binding.host,
        binding.operation,
        binding.permission_type,
    )


def _wait_enforced(
    admin: AdminClient, services: Iterable[str], wanted: set[Grant], ours: set[str], timeout: float
) -> None:
    """Until the broker's authorizer and credential cache show the changes: they reach it through the
    metadata log a moment after the controller accepted them, and a service that started meanwhile
    would be refused (its subscription then waits for a metadata refresh)."""
    deadline = time.monotonic() + timeout
    users = set(services)
    while True:
        everyone = cast("Future[dict[str, object]]", admin.describe_user_scram_credentials(request_timeout=timeout))
        described = everyone.result()
        acls = {g for g in map(Grant.of, _current_acls(admin, timeout)) if g is not None and g.principal in ours}
        if users <= set(described) and acls == wanted:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"Kafka did not show the principals' credentials and ACLs within {timeout} s")
        time.sleep(0.05)


if __name__ == "__main__":
    print("\n".join(acl_commands()))
