"""Column types shared by the models."""

from sqlalchemy import Enum


def enum_values(enum_class):
    return [member.value for member in enum_class]


def enum_type(enum_class, name: str) -> Enum:
    """A portable enum: a VARCHAR with a CHECK constraint on every database, stored by value."""
    return Enum(
        enum_class, name=name, native_enum=False, length=16, values_callable=enum_values, create_constraint=True
    )
