"""The scan history store, on SQLite and on a real PostgreSQL server: recording, listing, and the
diff across three scans in which failures appear, persist and resolve."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from support.reports import META, finding

from posture.history.diff import diff, fingerprint
from posture.history.store import StoreError, open_store, scope_of
from posture.model import Finding, Severity, Status


def check(n: int, status: Status = Status.FAIL, severity: Severity = Severity.HIGH) -> Finding:
    return finding(
        n,
        status=status,
        severity=severity,
        check_id="aws.encryption.volume_x",
        message=f"finding {n}",
    )


# scan 1: 1 and 2 fail, 3 passes
SCAN1 = (check(1), check(2, severity=Severity.MEDIUM), check(3, Status.PASS))
# scan 2: 1 still fails, 2 resolved (PASS), 3 newly fails, 4 new critical
SCAN2 = (
    check(1),
    check(2, Status.PASS, Severity.MEDIUM),
    check(3),
    check(4, severity=Severity.CRITICAL),
)
# scan 3: 1 fails with a raised severity, 3 accepted (EXCEPTED), 4 still fails, 5 new low
SCAN3 = (
    check(1, severity=Severity.CRITICAL),
    check(3, Status.EXCEPTED),
    check(4, severity=Severity.CRITICAL),
    check(5, severity=Severity.LOW),
)


def _uids(changes: tuple) -> list[str]:
    return [c.current.resource_uid.rsplit("/", 1)[1] for c in changes]


def test_three_scans_diff(store_url: str) -> None:
    with open_store(store_url) as store:
        ids = [store.record(META, scan, "sha", "cat-1").id for scan in (SCAN1, SCAN2, SCAN3)]
        other = store.record(replace(META, regions=("eu-west-1",)), SCAN1, None, "cat-1")
        first, second, third = (store.get(str(i)) for i in ids)
        assert store.previous(first) is None
        assert store.previous(third) == second
        assert store.previous(other) is None  # another scope
        assert [r.id for r in store.scans()] == [other.id, *reversed(ids)]
        assert [r.id for r in store.scans(scope=scope_of(META))] == list(reversed(ids))
        assert third.counts == {"PASS": 0, "FAIL": 3, "INCONCLUSIVE": 0, "ERROR": 0, "EXCEPTED": 1}
        assert store.get(META.scan_id).id == other.id  # newest record of that scan id
        one_two = diff(store.findings(first), store.findings(second))
        two_three = diff(store.findings(second), store.findings(third))
    assert _uids(one_two.new) == ["sg-0004", "sg-0003"]  # critical first
    assert _uids(one_two.resolved) == ["sg-0002"]
    assert one_two.resolved[0].after and one_two.resolved[0].after.status == Status.PASS
    assert _uids(one_two.still_open) == ["sg-0001"]
    assert one_two.severity_changed == ()
    assert _uids(two_three.new) == ["sg-0005"]
    assert _uids(two_three.resolved) == ["sg-0003"]  # now EXCEPTED
    assert two_three.resolved[0].after and two_three.resolved[0].after.status == Status.EXCEPTED
    assert _uids(two_three.still_open) == ["sg-0001", "sg-0004"]
    assert _uids(two_three.severity_changed) == ["sg-0001"]
    assert [c.current.severity for c in two_three.new_at_or_above(Severity.LOW)] == [Severity.LOW]
    assert two_three.new_at_or_above(Severity.MEDIUM) == ()
    doc = two_three.document()
    assert doc["severity_changed"][0]["severity_before"] == "high"
    assert doc["severity_changed"][0]["severity_after"] == "critical"


def test_findings_round_trip(store_url: str) -> None:
    hostile = finding(9, name="<img src=x onerror=alert(1)>", message="é\u6f22'; DROP TABLE x;--")
    with open_store(store_url) as store:
        record = store.record(META, (hostile,), None, "cat")
        (row,) = store.findings(record)
        empty = store.record(META, (), None, "cat")
        assert store.findings(empty) == []
    assert row.resource_name == hostile.resource_name
    assert row.message == hostile.message
    assert row.fingerprint == fingerprint(hostile.check_id, hostile.resource_uid)
    assert row.severity == Severity.HIGH and row.status == Status.FAIL
    assert record.accounts == META.accounts and record.regions == META.regions


def test_reopening_keeps_history(store_url: str) -> None:
    with open_store(store_url) as store:
        store.record(META, SCAN1, "a" * 64, "cat")
    with open_store(store_url) as store:
        (record,) = store.scans()
    assert record.snapshot_sha256 == "a" * 64 and record.catalogue_version == "cat"


def test_unknown_scan_and_bad_store(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "h.db")) as store, pytest.raises(StoreError, match="no scan"):
        store.get("42")
    with pytest.raises(StoreError, match="history store"), open_store("nosuchdb://x/y"):
        pass
    with pytest.raises(StoreError), open_store(str(tmp_path / "missing" / "dir" / "h.db")):
        pass


def _in(account: str, n: int, status: Status = Status.FAIL) -> Finding:
    return replace(check(n, status), account=account,
                   resource_uid=f"arn:aws:ec2:us-east-1:{account}:volume/vol-{n}")


def test_organization_runs_compare_account_by_account(store_url: str) -> None:
    """Two runs of one organisation share a scope whatever accounts they reached. In the second
    run account B's role could not be assumed (its checks INCONCLUSIVE) and account C was
    excluded: their failures are neither resolved nor new; A's are compared as usual."""
    from posture.history.store import organization_scope

    scope = organization_scope("aws", "o-abc")
    first = (_in("A", 1), _in("A", 2), _in("B", 3), _in("C", 4))
    second = (_in("A", 1), _in("A", 2, Status.PASS), _in("A", 5), _in("B", 3, Status.INCONCLUSIVE))
    with open_store(store_url) as store:
        r1 = store.record(replace(META, accounts=("A", "B", "C")), first, None, "v", scope=scope)
        r2 = store.record(replace(META, accounts=("A", "B")), second, None, "v", scope=scope)
        assert r1.scope == r2.scope == scope != scope_of(META)
        assert store.previous(r2) == r1
        compared = diff(store.findings(r1), store.findings(r2), accounts={"A"})
        everything = diff(store.findings(r1), store.findings(r2))
    assert _uids(compared.resolved) == ["vol-2"]
    assert _uids(compared.new) == ["vol-5"]
    assert _uids(compared.still_open) == ["vol-1"]
    # without the account filter, B's unreachable and C's excluded failures read as resolved
    assert sorted(_uids(everything.resolved)) == ["vol-2", "vol-3", "vol-4"]


def test_reading_never_creates_a_store(tmp_path: Path) -> None:
    """``history`` and ``diff`` read (``create=False``): a mistyped path is an error naming it,
    and nothing is created; a file or database that is not a store is named, and left as is."""
    typo = tmp_path / "histroy.db"
    for target in (str(typo), f"sqlite:///{typo}"):
        with pytest.raises(StoreError) as caught, open_store(target, create=False):
            pass
        assert str(caught.value).startswith(f"{target}: no history store there")
        assert not typo.exists()
    other = tmp_path / "other.db"
    other.write_bytes(b"")
    with pytest.raises(StoreError, match="not a posture history store"), open_store(
        str(other), create=False
    ):
        pass
    assert other.read_bytes() == b""
    with pytest.raises(StoreError, match="is a folder"), open_store(str(tmp_path), create=False):
        pass
    with open_store(str(typo)) as store:  # recording creates it
        store.record(META, SCAN1, None, "cat")
    with open_store(str(typo), create=False) as store:
        assert len(store.scans()) == 1


def test_reading_an_empty_postgresql_database_creates_nothing(pg_url: str) -> None:
    from support import pg

    url = pg.fresh_database(pg_url, "t_empty_read")
    with pytest.raises(StoreError, match="not a posture history store"), open_store(
        url, create=False
    ):
        pass
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        assert sa.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_a_store_in_a_missing_folder_is_named(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "h.db"
    for create in (True, False):
        with pytest.raises(StoreError) as caught, open_store(str(path), create=create):
            pass
        assert str(caught.value) == f"{path}: the folder {path.parent} does not exist"
    assert not path.parent.exists()
