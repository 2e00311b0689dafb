"""Shared API pieces: the success envelope, camelCase schemas, UTC times, pagination."""
from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache
from typing import Any, Iterable

import marshmallow as ma
from apispec import BasePlugin
from marshmallow import fields, validate

from appliance.errors import ValidationError
from data.base import isoformat
from web.auth import PUBLIC

MAX_LIMIT = 100


class UTCDateTime(fields.DateTime):
    """ISO 8601 UTC with ``Z`` out; any ISO 8601 in (converted to naive UTC)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return isoformat(value)

    def _deserialize(self, value, attr, data, **kwargs):
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return parsed


class Schema(ma.Schema):
    """Base schema: unknown fields are refused with a clear error."""

    class Meta:
        unknown = ma.RAISE
        ordered = True


class PaginationSchema(Schema):
    page = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    total = fields.Integer(required=True)
    totalPages = fields.Integer(required=True)
    hasNext = fields.Boolean(required=True)
    hasPrev = fields.Boolean(required=True)


@lru_cache(maxsize=None)
def envelope(inner: type[ma.Schema] | None, many: bool = False, paginated: bool = False) -> type[ma.Schema]:
    """The success envelope ``{success, data, message?, pagination?}`` around ``inner``."""
    attrs: dict[str, Any] = {
        "success": fields.Boolean(dump_default=True, required=True),
        "message": fields.String(),
    }
    if inner is None:
        attrs["data"] = fields.Raw(allow_none=True)
    else:
        attrs["data"] = fields.List(fields.Nested(inner)) if many else fields.Nested(inner)
    if paginated:
        attrs["pagination"] = fields.Nested(PaginationSchema, required=True)
    name = f"{inner.__name__ if inner else 'Empty'}{'List' if many else ''}{'Page' if paginated else ''}Envelope"
    return type(name, (Schema,), attrs)


class ErrorDetailSchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Raw()


class ErrorEnvelopeSchema(Schema):
    success = fields.Boolean(required=True, metadata={"enum": [False]})
    error = fields.Nested(ErrorDetailSchema, required=True)


class PageArgsSchema(Schema):
    """``page``, ``limit``, ``sortBy``, ``order`` of every list."""

    class Meta:
        unknown = ma.EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_LIMIT))
    sortBy = fields.String(load_default=None, validate=validate.Length(max=64))
    order = fields.String(load_default="desc", validate=validate.OneOf(["asc", "desc"]))


def page_args_schema(sortable: Iterable[str], **extra: fields.Field) -> type[ma.Schema]:
    """A query-args schema for a list: pagination plus filters, ``sortBy`` limited to ``sortable``."""
    attrs = dict(extra)
    attrs["sortBy"] = fields.String(load_default=None, validate=validate.OneOf(list(sortable)))
    return type("PageArgs", (PageArgsSchema,), attrs)


def paginate(query, args: dict, sort_columns: dict[str, Any], default_sort: str,
             count_query=None) -> tuple[list, dict]:
    """Run one page of a peewee query (``paginate`` + ``count``, never slicing); return (rows, pagination).

    Rows that tie on the sort column keep a stable order by primary key, so pages never overlap.
    ``count_query`` may give a cheaper query with the same rows (e.g. without joins only needed for display).
    """
    column = sort_columns.get(args.get("sortBy") or default_sort)
    if column is None:
        raise ValidationError(f"sortBy must be one of {', '.join(sorted(sort_columns))}")
    descending = args.get("order") != "asc"
    key = query.model._meta.primary_key
    ordering = (column.desc(), key.desc()) if descending else (column.asc(), key.asc())
    page, limit = args["page"], args["limit"]
    total = (query if count_query is None else count_query).count()
    rows = [row for row in query.order_by(*ordering).paginate(page, limit)]  # list() would run it twice
    pages = math.ceil(total / limit) if total else 0
    return rows, {"page": page, "limit": limit, "total": total, "totalPages": pages,
                  "hasNext": page < pages, "hasPrev": page > 1}


class AccessDocPlugin(BasePlugin):
    """apispec plugin: operations whose view is ``@access(PUBLIC)`` document ``security: []`` (no sign-in)."""

    def __init__(self, app) -> None:
        self.app = app

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        """Called by apispec for each path; flask-smorest passes the werkzeug ``rule``."""
        rule = kwargs.get("rule")
        view = self.app.view_functions.get(rule.endpoint) if rule is not None else None
        view_class = getattr(view, "view_class", None)
        for method, operation in (operations or {}).items():
            target = getattr(view_class, method, None) if view_class is not None else view
            if getattr(target, "_callbox_access", None) == PUBLIC:
                operation["security"] = []
