"""`make bench`'s CPU table: per group, per completed payment, the platform's total without what is not the platform."""

import os

import pytest

from paysaga.devstack.bench_cpu import Sample, group_of, sample, table

pytestmark = pytest.mark.unit


def _rows(lines: list[str]) -> dict[str, list[float]]:
    """Group → its figures (process, [its PG,] total), from the printed table (the name is 24 wide)."""
    return {line[2:26].strip(): [float(cell) for cell in line[26:].split()] for line in lines[2:]}


def test_each_group_is_charged_its_processes_and_its_database_backends_per_payment() -> None:
    before = Sample(
        {
            (10, 1): ("payment", "process", 1.0),
            (11, 1): ("payment", "db", 0.5),
            (20, 1): ("kafka", "process", 2.0),
            (30, 1): ("provider_sim", "process", 0.0),
            (40, 1): ("load generator", "process", 0.0),
        }
    )
    after = Sample(
        {
            (10, 1): ("payment", "process", 1.4),  # +400 ms
            (11, 1): ("payment", "db", 0.7),  # +200 ms
            (12, 5): ("payment", "db", 0.1),  # a backend that started meanwhile: +100 ms
            (20, 1): ("kafka", "process", 2.3),  # +300 ms
            (30, 1): ("provider_sim", "process", 0.5),  # +500 ms, not the platform's
            (40, 1): ("load generator", "process", 0.9),  # +900 ms, not the platform's
        }
    )
    rows = _rows(table(before, after, payments=100))
    assert rows["payment"] == pytest.approx([4.0, 3.0, 7.0])
    assert rows["kafka"] == pytest.approx([3.0, 3.0])
    assert rows["= platform"] == pytest.approx([7.0, 3.0, 10.0])
    assert rows["provider_sim (apart)"] == pytest.approx([5.0, 5.0])
    assert rows["load generator (apart)"] == pytest.approx([9.0, 9.0])


def test_a_reused_pid_is_a_new_process() -> None:
    before = Sample({(10, 1): ("wallet", "process", 5.0), (40, 1): ("load generator", "process", 0.0)})
    after = Sample({(10, 2): ("wallet", "process", 0.2), (40, 1): ("load generator", "process", 0.0)})
    assert _rows(table(before, after, payments=10))["wallet"] == pytest.approx([20.0, 20.0])


def test_without_a_platform_the_table_says_so() -> None:
    alone = sample("/nonexistent-state-dir")
    assert [group for group, _, _ in alone.processes.values()] == ["load generator"]
    assert os.getpid() in [pid for pid, _ in alone.processes]
    assert table(alone, alone, payments=10) == [
        "CPU per payment: n/a (no `paysaga run` state here, or nothing completed)"
    ]


def test_instances_of_a_service_and_nodes_of_kafka_are_one_group() -> None:
    assert [group_of(n) for n in ("wallet-1", "wallet-2", "kafka-3", "core_banking", "kafka")] == [
        "wallet",
        "wallet",
        "kafka",
        "core_banking",
        "kafka",
    ]
