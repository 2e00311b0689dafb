"""Schema migrations: from empty, from an older database with data, idempotent, and models match the schema."""
from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pkgutil

import pytest
from peewee import Model, SqliteDatabase

import data
from data.migrations import available, current_version, migrate

LATEST = max(m.version for m in available())

_TEXT, _INT, _REAL, _BOOL, _TIME, _BLOB = "text", "int", "real", "bool", "time", "blob"
_FIELD_FAMILY = {"VARCHAR": _TEXT, "TEXT": _TEXT, "CHAR": _TEXT, "UUID": _TEXT, "INT": _INT, "BIGINT": _INT,
                 "SMALLINT": _INT, "AUTO": _INT, "BIGAUTO": _INT, "FLOAT": _REAL, "DOUBLE": _REAL,
                 "DECIMAL": _REAL, "BOOL": _BOOL, "DATETIME": _TIME, "DATE": _TIME, "TIME": _TIME,
                 "TIMESTAMP": _TIME, "BLOB": _BLOB}
_SQL_FAMILY = {"TEXT": _TEXT, "VARCHAR": _TEXT, "CHAR": _TEXT, "INTEGER": _INT, "INT": _INT, "BIGINT": _INT,
               "SMALLINT": _INT, "REAL": _REAL, "FLOAT": _REAL, "DOUBLE": _REAL, "NUMERIC": _REAL,
               "DECIMAL": _REAL, "BOOLEAN": _BOOL, "TIMESTAMP": _TIME, "DATETIME": _TIME, "DATE": _TIME,
               "TIME": _TIME, "BLOB": _BLOB, "BYTEA": _BLOB}


def sqlite_file(tmp_path) -> SqliteDatabase:
    db = SqliteDatabase(str(tmp_path / "callbox.db"), pragmas={"journal_mode": "wal", "foreign_keys": 1})
    db.connect()
    return db


def schema_sql(db) -> list[str]:
    return sorted(r[0] for r in db.execute_sql("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL").fetchall())


def all_models() -> list[type[Model]]:
    """Every concrete peewee model defined in a module directly under ``data/`` (later features' too)."""
    found = []
    for info in pkgutil.iter_modules(data.__path__):
        if info.ispkg:
            continue
        module = importlib.import_module(f"data.{info.name}")
        found += [obj for obj in vars(module).values()
                  if inspect.isclass(obj) and issubclass(obj, Model) and obj.__module__ == module.__name__]
    return [m for m in found if not any(issubclass(other, m) and other is not m for other in found)]


def model_problems(db, model: type[Model]) -> list[str]:
    """How a model disagrees with the migrated schema (empty when they agree)."""
    table = model._meta.table_name
    if not db.table_exists(table):
        return [f"{model.__name__}: table {table!r} is not created by any migration"]
    columns = {c.name: c for c in db.get_columns(table)}
    fields = {f.column_name: f for f in model._meta.sorted_fields}
    problems = [f"{table}: column {name!r} missing from the schema" for name in sorted(set(fields) - set(columns))]
    problems += [f"{table}: column {name!r} has no model field" for name in sorted(set(columns) - set(fields))]
    model_pk, schema_pk = _primary_key_columns(model), {n for n, c in columns.items() if c.primary_key}
    if model_pk != schema_pk:
        problems.append(f"{table}: primary key is {sorted(model_pk)} in the model, {sorted(schema_pk)} in the schema")
    for name in sorted(set(fields) & set(columns)):
        problems += _column_problems(table, fields[name], columns[name], name in schema_pk)
    return problems + _foreign_key_problems(db, table, fields)


def _primary_key_columns(model: type[Model]) -> set[str]:
    pk = model._meta.primary_key
    names = getattr(pk, "field_names", None)
    if names:  # CompositeKey
        return {model._meta.fields[n].column_name for n in names}
    return {pk.column_name} if pk else set()


def _column_problems(table: str, field, column, in_primary_key: bool) -> list[str]:
    problems = []
    if not in_primary_key and bool(field.null) != bool(column.null):
        problems.append(f"{table}.{column.name}: model null={field.null}, schema null={column.null}")
    wanted = _FIELD_FAMILY.get(str(field.field_type).upper())
    got = _SQL_FAMILY.get(column.data_type.split("(")[0].upper())
    if wanted and got and wanted != got:
        problems.append(f"{table}.{column.name}: model type {field.field_type}, schema type {column.data_type}")
    return problems


def _foreign_key_problems(db, table: str, fields: dict) -> list[str]:
    declared = {(fk.column, fk.dest_table) for fk in db.get_foreign_keys(table)}
    problems = []
    for name, field in fields.items():
        rel = getattr(field, "rel_model", None)
        if rel is not None and (name, rel._meta.table_name) not in declared:
            problems.append(f"{table}.{name}: no FOREIGN KEY to {rel._meta.table_name} in the schema")
    return problems


def test_migration_files_are_numbered_without_gaps_or_duplicates():
    versions = [m.version for m in available()]
    assert versions == list(range(1, len(versions) + 1)), versions


def test_migrate_from_empty(tmp_path):
    db = sqlite_file(tmp_path)
    assert current_version(db) == 0
    assert migrate(db) == list(range(1, LATEST + 1))
    assert current_version(db) == LATEST
    assert {"organizations", "users", "memberships", "heartbeats"} <= set(db.get_tables())


def test_migrate_an_older_database_keeps_its_data(tmp_path):
    db = sqlite_file(tmp_path)
    assert migrate(db, target=1) == [1]
    now = dt.datetime(2024, 5, 1, 12, 0)
    db.execute_sql("INSERT INTO organizations (id, name, created_at) VALUES ('org_old', 'Old Clinic', ?)", (now,))
    db.execute_sql("INSERT INTO users (id, email, name, created_at, updated_at) "
                   "VALUES ('usr_old', 'old@example.com', 'Old User', ?, ?)", (now, now))
    db.execute_sql("INSERT INTO memberships (id, organization_id, user_id, role, created_at) "
                   "VALUES ('mem_old', 'org_old', 'usr_old', 'OWNER', ?)", (now,))
    db.close()

    db = sqlite_file(tmp_path)  # a later start of a newer Callbox on the same file
    assert migrate(db) == list(range(2, LATEST + 1))
    assert current_version(db) == LATEST
    assert db.execute_sql("SELECT name FROM organizations WHERE id = 'org_old'").fetchone() == ("Old Clinic",)
    row = db.execute_sql("SELECT email, language, is_superuser FROM users WHERE id = 'usr_old'").fetchone()
    assert row[0] == "old@example.com" and row[1] == "en" and not row[2]
    assert db.execute_sql("SELECT role FROM memberships WHERE user_id = 'usr_old'").fetchone() == ("OWNER",)


def test_migrate_is_idempotent(tmp_path):
    db = sqlite_file(tmp_path)
    migrate(db)
    before = schema_sql(db)
    assert migrate(db) == []
    assert schema_sql(db) == before
    assert db.execute_sql("SELECT count(*) FROM schema_migrations").fetchone()[0] == LATEST


def test_every_model_matches_the_migrated_schema(tmp_path):
    db = sqlite_file(tmp_path)
    migrate(db)
    models = all_models()
    assert {"User", "Organization", "Heartbeat"} <= {m.__name__ for m in models}
    problems = [p for model in models for p in model_problems(db, model)]
    assert problems == []


def test_the_model_check_catches_drift(tmp_path):
    from peewee import CharField, IntegerField

    from data.base import BaseModel

    db = sqlite_file(tmp_path)
    migrate(db)

    class Drifted(BaseModel):
        id = CharField(primary_key=True)
        email = IntegerField()
        name = CharField(null=True)
        nickname = CharField()

        class Meta:
            table_name = "users"

    class Missing(BaseModel):
        class Meta:
            table_name = "no_such_table"

    problems = model_problems(db, Drifted)
    assert any("'nickname' missing" in p for p in problems)
    assert any("'password_hash' has no model field" in p for p in problems)
    assert any("users.email: model type INT" in p for p in problems)
    assert "users.name: model null=True, schema null=False" in problems
    assert model_problems(db, Missing) == ["Missing: table 'no_such_table' is not created by any migration"]


@pytest.mark.parametrize("target", range(1, LATEST))
def test_each_intermediate_version_migrates_forward(tmp_path, target):
    db = sqlite_file(tmp_path)
    migrate(db, target=target)
    assert current_version(db) == target
    assert migrate(db) == list(range(target + 1, LATEST + 1))
