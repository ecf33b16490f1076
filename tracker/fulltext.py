"""Full-text search over case reviews' summary and findings, on SQLite (FTS5) and PostgreSQL (tsvector).

The index is made by a migration (20261126_1240_…_case_review_full_text_search.py) and kept in step by
the database itself: on SQLite an FTS5 table whose triggers follow every insert, update and delete of
case_reviews; on PostgreSQL a GIN index on the same to_tsvector() expression that the search uses, so
there is nothing to keep in step. Police-only feedback to the officer is never indexed.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import Integer, literal_column, select, text

from tracker.models import CaseReview

SQLITE_TABLE = "case_review_search"
POSTGRES_INDEX = "ix_case_reviews_fulltext"
# Exactly the expression indexed on PostgreSQL: the planner uses the index only for the same expression.
ACCENTED = "áàâäãåāéèêëēíìîïīóòôöõøōúùûüūýÿçñÁÀÂÄÃÅĀÉÈÊËĒÍÌÎÏĪÓÒÔÖÕØŌÚÙÛÜŪÝÇÑ"
PLAIN = "aaaaaaaeeeeeiiiiiooooooouuuuuyycnAAAAAAAEEEEEIIIIIOOOOOOOUUUUUYCN"
# Accented letters are folded first ("café" is found by "cafe"), as SQLite's tokenizer does, with no
# extension needed.
POSTGRES_DOCUMENT = (
    "to_tsvector('english', translate(case_reviews.summary || ' ' || case_reviews.findings,"
    " '" + ACCENTED + "', '" + PLAIN + "'))"
)
MAX_WORDS = 12
_WORD = re.compile(r"\w+", re.UNICODE)


def words_in(typed: str) -> list[str]:
    """The words of what was typed, accents folded (letters and digits only: punctuation is not searched),
    at most a dozen."""
    decomposed = unicodedata.normalize("NFKD", typed.lower())
    folded = "".join(character for character in decomposed if not unicodedata.combining(character))
    return _WORD.findall(folded)[:MAX_WORDS]


def matches_words(dialect: str, words: list[str]):
    """SQL condition on CaseReview: the summary or findings contain every word (stemmed, so "visit"
    finds "visited"), in either field."""
    if dialect == "postgresql":
        return text(f"{POSTGRES_DOCUMENT} @@ plainto_tsquery('english', :fulltext_words)").bindparams(
            fulltext_words=" ".join(words)
        )
    # FTS5: each word quoted (so nothing typed is read as query syntax) and matched as a prefix.
    query = " ".join('"' + word.replace('"', '""') + '"*' for word in words)
    hits = (
        select(literal_column("rowid", Integer))
        .select_from(text(SQLITE_TABLE))
        .where(text(f"{SQLITE_TABLE} MATCH :fulltext_query").bindparams(fulltext_query=query))
    )
    return CaseReview.id.in_(hits)


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """For Alembic: the search index lives outside the models (an FTS5 table and its shadow tables on
    SQLite, an expression index on PostgreSQL); leave it out of comparisons with the models."""
    if type_ == "table" and name and name.startswith(SQLITE_TABLE):
        return False
    return not (type_ == "index" and name == POSTGRES_INDEX)
