"""Full-text search on case reviews' summary and findings: an FTS5 table kept in step by triggers (SQLite), a GIN index on their tsvector (PostgreSQL).

Revision ID: f7b3c9d2e815
Revises: cf842fb354be
Create Date: 2026-11-26 12:40:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "f7b3c9d2e815"
down_revision = "cf842fb354be"
branch_labels = None
depends_on = None

# Kept here, not imported from the app: a migration must not change when the app does.
SQLITE_UP = [
    # External content: the text stays in case_reviews; the FTS table holds only the index.
    "CREATE VIRTUAL TABLE case_review_search USING fts5(summary, findings, content='case_reviews',"
    " content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER case_review_search_insert AFTER INSERT ON case_reviews BEGIN"
    " INSERT INTO case_review_search (rowid, summary, findings) VALUES (new.id, new.summary, new.findings); END",
    "CREATE TRIGGER case_review_search_delete AFTER DELETE ON case_reviews BEGIN"
    " INSERT INTO case_review_search (case_review_search, rowid, summary, findings)"
    " VALUES ('delete', old.id, old.summary, old.findings); END",
    "CREATE TRIGGER case_review_search_update AFTER UPDATE OF summary, findings ON case_reviews BEGIN"
    " INSERT INTO case_review_search (case_review_search, rowid, summary, findings)"
    " VALUES ('delete', old.id, old.summary, old.findings);"
    " INSERT INTO case_review_search (rowid, summary, findings) VALUES (new.id, new.summary, new.findings); END",
    "INSERT INTO case_review_search (case_review_search) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS case_review_search_update",
    "DROP TRIGGER IF EXISTS case_review_search_delete",
    "DROP TRIGGER IF EXISTS case_review_search_insert",
    "DROP TABLE IF EXISTS case_review_search",
]
# The search uses exactly this expression, so PostgreSQL answers it from the index; nothing to keep in step.
ACCENTED = "áàâäãåāéèêëēíìîïīóòôöõøōúùûüūýÿçñÁÀÂÄÃÅĀÉÈÊËĒÍÌÎÏĪÓÒÔÖÕØŌÚÙÛÜŪÝÇÑ"
PLAIN = "aaaaaaaeeeeeiiiiiooooooouuuuuyycnAAAAAAAEEEEEIIIIIOOOOOOOUUUUUYCN"
# Accented letters are folded first, as SQLite's tokenizer does ("café" is found by "cafe").
POSTGRES_UP = [
    "CREATE INDEX ix_case_reviews_fulltext ON case_reviews USING gin (to_tsvector('english',"
    " translate(case_reviews.summary || ' ' || case_reviews.findings,"
    " '" + ACCENTED + "', '" + PLAIN + "')))"
]
POSTGRES_DOWN = ["DROP INDEX IF EXISTS ix_case_reviews_fulltext"]


def _run(statements):
    for statement in statements:
        op.execute(statement)


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(SQLITE_UP)
    elif dialect == "postgresql":
        _run(POSTGRES_UP)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(SQLITE_DOWN)
    elif dialect == "postgresql":
        _run(POSTGRES_DOWN)
