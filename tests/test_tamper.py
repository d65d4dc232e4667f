"""The tamper matrix of bench/tamper.py, on a small plan: every kind of tampering with every table
and with the chain is detected and named, and an untouched workspace raises no alarm."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.pgcluster import PostgresCluster

pytestmark = pytest.mark.slow


def bench() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "bench" / "tamper.py"
    spec = importlib.util.spec_from_file_location("bench_tamper", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_tamper"] = module
    spec.loader.exec_module(module)
    return module


def assert_all_caught(tamper: ModuleType, base: object) -> None:
    outcomes, untouched = tamper.run_matrix(base)
    assert untouched == ("", "", "")  # no false alarm
    missed = [(o.target, o.kind, o.detail) for o in outcomes if not (o.detected and o.named)]
    assert missed == []
    tables = {o.target for o in outcomes}
    assert len(tables) == len(tamper.ledger.RECORD_TABLES) + 1  # every table of the record, and the chain
    assert len(outcomes) >= 4 * len(tamper.ledger.RECORD_TABLES)


def test_every_tampering_is_caught_on_sqlite(tmp_path: Path) -> None:
    tamper = bench()
    assert_all_caught(tamper, tamper._sqlite_base(tmp_path, tamper.build_small))


@pytest.mark.postgres
def test_every_tampering_is_caught_on_postgresql(tmp_path: Path, postgres: PostgresCluster) -> None:
    tamper = bench()
    base = tamper._postgres_base(tmp_path, tamper.build_small, postgres)
    try:
        assert_all_caught(tamper, base)
    finally:
        base.close()
