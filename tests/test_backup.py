"""flask backup PATH / restore PATH: every table and the stored PDFs round-trip; nothing is
overwritten without --force (SQLite's online backup API here; pg_dump / pg_restore on PostgreSQL)."""

import hashlib
from datetime import date

import pytest
import sqlalchemy as sa

from tests.conftest import ON_POSTGRES
from tracker.extensions import db
from tracker.models import (
    AccountToken,
    AgencyReturn,
    AuditEvent,
    Case,
    DocumentJob,
    FormSubmission,
    LegalHold,
    LoginFailure,
    Meeting,
    MinutesDocument,
    MinutesReopening,
    RecoveryCode,
    ReminderSent,
    ServiceSetting,
    TokenPurpose,
    User,
    UserSession,
)
from tracker.timeutil import utcnow


def every_table():
    return [*db.metadata.sorted_tables, sa.table("alembic_version", sa.column("version_num"))]


def contents(app) -> dict[str, list[tuple]]:
    with app.app_context():
        db.session.remove()
        return {
            table.name: sorted((tuple(row) for row in db.session.execute(sa.select(table))), key=repr)
            for table in every_table()
        }


@pytest.fixture
def full_database(app):
    """The demo data, plus a row in every table the demo leaves empty, and two stored minutes PDFs."""
    from tracker.demo import seed_demo

    with app.app_context():
        seed_demo()
        user = db.session.scalar(sa.select(User).order_by(User.id))
        meeting = db.session.scalar(sa.select(Meeting).order_by(Meeting.id))
        case = db.session.scalar(sa.select(Case).order_by(Case.id))
        for revision, pdf in ((1, b"%PDF-1.7 first revision\x00\xff"), (2, b"%PDF-1.7 second revision")):
            digest = hashlib.sha256(pdf).hexdigest()
            db.session.add(
                MinutesDocument(
                    meeting=meeting, revision=revision, pdf=pdf, sha256=digest, size_bytes=len(pdf), approved_by=user
                )
            )
        db.session.add_all(
            [
                LoginFailure(account_key="0" * 64, ip_address="192.0.2.9"),
                ServiceSetting(key="confidentiality_statement", value="Kept in confidence."),
                FormSubmission(user_id=user.id, token_hash="a" * 64, location="/meetings/1"),
                LegalHold(case=case, reason="A claim"),
                ReminderSent(user_id=user.id, kind="digest", sent_on=date(2026, 11, 1), action_ids="1,2"),
                UserSession(token_hash="b" * 64, user_id=user.id),
                AccountToken(
                    user_id=user.id, purpose=TokenPurpose.PASSWORD_RESET, token_hash="c" * 64, expires_at=utcnow()
                ),
                RecoveryCode(user_id=user.id, code_hash="d" * 64),
                DocumentJob(user_id=user.id, kind="board_report", title="Board report", filename="b.pdf"),
                MinutesReopening(meeting=meeting, revision=2, reason="Attendance was wrong", reopened_by=user),
            ]
        )
        db.session.commit()
    tables = contents(app)
    assert [name for name, rows in tables.items() if not rows] == [], "every table must hold a row"
    return tables


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def stored_pdfs(app):
    with app.app_context():
        documents = db.session.scalars(sa.select(MinutesDocument).order_by(MinutesDocument.id))
        return [(document.sha256, hashlib.sha256(document.pdf).hexdigest()) for document in documents]


def test_every_table_and_every_stored_pdf_round_trip(app, full_database, tmp_path):
    path = tmp_path / "tracker.backup"
    pdfs_before = stored_pdfs(app)
    assert all(stored == actual for stored, actual in pdfs_before) and len(pdfs_before) == 2

    result = run(app, "backup", str(path))
    assert result.exit_code == 0, result.output
    assert hashlib.sha256(path.read_bytes()).hexdigest() in result.output

    # Changes after the backup, which the restore must undo.
    with app.app_context():
        db.session.execute(sa.delete(AgencyReturn))
        db.session.scalar(sa.select(User).order_by(User.id)).display_name = "Changed after the backup"
        db.session.add(AuditEvent(action="made_after_the_backup"))
        db.session.commit()
    assert contents(app) != full_database

    refused = run(app, "restore", str(path))
    assert refused.exit_code != 0 and "--force" in refused.output
    result = run(app, "restore", str(path), "--force")
    assert result.exit_code == 0, result.output

    restored = contents(app)
    for table, rows in full_database.items():
        if table == "audit_events":
            continue
        assert restored[table] == rows, table
    # The audit log is the backup's, plus the restore itself (written after it).
    with app.app_context():
        newer = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.id > max(r[0] for r in full_database["audit_events"]))
        )
        assert list(newer) == ["database_restored"]
    assert [
        row for row in restored["audit_events"] if row[0] <= max(r[0] for r in full_database["audit_events"])
    ] == full_database["audit_events"]
    assert stored_pdfs(app) == pdfs_before


def test_a_backup_never_overwrites_without_force(app, full_database, tmp_path):
    path = tmp_path / "existing.backup"
    path.write_bytes(b"an earlier backup")
    result = run(app, "backup", str(path))
    assert result.exit_code != 0 and "already exists" in result.output and "--force" in result.output
    assert path.read_bytes() == b"an earlier backup"
    assert run(app, "backup", str(path), "--force").exit_code == 0
    assert path.read_bytes() != b"an earlier backup"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "database_backed_up")) == 1


def test_restoring_something_that_is_not_a_backup_changes_nothing(app, full_database, tmp_path):
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("not a database")
    result = run(app, "restore", str(not_a_backup), "--force")
    assert result.exit_code != 0
    assert run(app, "restore", str(tmp_path / "missing.backup"), "--force").exit_code != 0
    assert contents(app) == full_database


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's backup file")
def test_a_sqlite_backup_is_one_self_contained_file(app, tmp_path):
    """The database runs with a write-ahead log; its backup does not (it is one file, readable even
    from a folder its reader cannot write to)."""
    path = tmp_path / "tracker.backup"
    assert run(app, "backup", str(path)).exit_code == 0
    with app.app_context():
        assert db.session.scalar(sa.text("PRAGMA journal_mode")) == "wal"
    # Byte 18 of a SQLite file is 1 for a rollback journal and 2 for a write-ahead log.
    assert path.read_bytes()[18] == 1
    assert not list(tmp_path.glob("tracker.backup-*"))
