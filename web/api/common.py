"""Shared API pieces: the success envelope, camelCase schemas, UTC times, pagination."""
from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache
from typing import Any, Iterable

import marshmallow as ma
from marshmallow import fields, validate

from appliance.errors import ValidationError
from data.base import isoformat

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


def paginate(query, args: dict, sort_columns: dict[str, Any], default_sort: str) -> tuple[list, dict]:
    """Run one page of a peewee query (``paginate`` + ``count``, never slicing); return (rows, pagination)."""
    column = sort_columns.get(args.get("sortBy") or default_sort)
    if column is None:
        raise ValidationError(f"sortBy must be one of {', '.join(sorted(sort_columns))}")
    ordering = column.asc() if args.get("order") == "asc" else column.desc()
    page, limit = args["page"], args["limit"]
    total = query.count()
    rows = list(query.order_by(ordering).paginate(page, limit))
    pages = math.ceil(total / limit) if total else 0
    return rows, {"page": page, "limit": limit, "total": total, "totalPages": pages,
                  "hasNext": page < pages, "hasPrev": page > 1}
