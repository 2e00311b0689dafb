"""The knowledge base the assistants answer from.

Access (lowest role):
| endpoint                                   | role    | why                                              |
|--------------------------------------------|---------|--------------------------------------------------|
| GET /knowledge, /knowledge/{id}, /categories | AGENT | staff answering phones look answers up too       |
| POST, PATCH, DELETE, POST /knowledge/import | MANAGER | changes what the AI tells callers                |
"""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import fields, validate
from peewee import fn

from appliance import audit, knowledge
from appliance.roles import Role
from data.ai import KnowledgeItem
from web import accepts_multipart
from web.api.common import Schema, UTCDateTime, envelope, page_args_schema, paginate
from web.auth import access, client_ip, current_principal

blp = Blueprint("knowledge", __name__, description="Knowledge base")

QUESTION = validate.Length(min=1, max=knowledge.MAX_QUESTION)
VARIATION = validate.Length(max=knowledge.MAX_QUESTION)  # blank ones are dropped, not refused


class KnowledgeSchema(Schema):
    id = fields.String(dump_only=True)
    category = fields.String(load_default="general", validate=validate.Length(min=1, max=knowledge.MAX_CATEGORY))
    question = fields.String(required=True, validate=QUESTION)
    answer = fields.String(required=True, validate=validate.Length(min=1, max=knowledge.MAX_ANSWER))
    questionVariations = fields.List(fields.String(validate=VARIATION), load_default=list,
                                     validate=validate.Length(max=knowledge.MAX_VARIATIONS))
    isPriority = fields.Boolean(load_default=False)
    isActive = fields.Boolean(load_default=True)
    usageCount = fields.Integer(dump_only=True)
    lastUsedAt = UTCDateTime(dump_only=True, allow_none=True)
    createdAt = UTCDateTime(dump_only=True)
    updatedAt = UTCDateTime(dump_only=True)


class KnowledgePatchSchema(Schema):
    category = fields.String(validate=validate.Length(min=1, max=knowledge.MAX_CATEGORY))
    question = fields.String(validate=QUESTION)
    answer = fields.String(validate=validate.Length(min=1, max=knowledge.MAX_ANSWER))
    questionVariations = fields.List(fields.String(validate=VARIATION),
                                     validate=validate.Length(max=knowledge.MAX_VARIATIONS))
    isPriority = fields.Boolean()
    isActive = fields.Boolean()


class KnowledgeQuerySchema(page_args_schema(["createdAt", "updatedAt", "usageCount", "lastUsedAt", "category",
                                             "question"])):
    category = fields.String(validate=validate.Length(max=knowledge.MAX_CATEGORY))
    search = fields.String(validate=validate.Length(max=200))
    isActive = fields.Boolean()
    isPriority = fields.Boolean()


class CategorySchema(Schema):
    category = fields.String(required=True)
    count = fields.Integer(required=True)


class ImportFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "CSV (UTF-8) with a header row: question, answer, "
                                                          "category, questionVariations (| separated), "
                                                          "isPriority, isActive"})


class ImportErrorSchema(Schema):
    row = fields.Integer(required=True, metadata={"description": "line number in the file (header = 1)"})
    error = fields.String(required=True)


class ImportResultSchema(Schema):
    imported = fields.Integer(required=True)
    duplicates = fields.Integer(required=True)
    errors = fields.Integer(required=True)
    errorRows = fields.List(fields.Nested(ImportErrorSchema), required=True)


def view(row: KnowledgeItem) -> dict:
    """The API's picture of a knowledge item."""
    return {"id": row.id, "category": row.category, "question": row.question, "answer": row.answer,
            "questionVariations": row.question_variations or [], "isPriority": row.is_priority,
            "isActive": row.is_active, "usageCount": row.usage_count, "lastUsedAt": row.last_used_at,
            "createdAt": row.created_at, "updatedAt": row.updated_at}


def _audit(action: str, target: str | None, **details) -> None:
    principal = current_principal()
    audit.record(action, organization_id=principal.organization.id, user_id=principal.user_id,
                 target_type="knowledge", target_id=target, ip=client_ip(), **details)


SORTS = {"createdAt": KnowledgeItem.created_at, "updatedAt": KnowledgeItem.updated_at,
         "usageCount": KnowledgeItem.usage_count, "lastUsedAt": KnowledgeItem.last_used_at,
         "category": KnowledgeItem.category, "question": KnowledgeItem.question}


def _filtered(args: dict):
    query = KnowledgeItem.select().where(KnowledgeItem.organization == current_principal().organization)
    if args.get("category"):
        query = query.where(KnowledgeItem.category == args["category"].strip().lower())
    if args.get("search"):
        term = args["search"].strip()
        query = query.where(KnowledgeItem.question.contains(term) | KnowledgeItem.answer.contains(term)
                            # through a function so the JSON column's converter leaves the pattern alone
                            | fn.LOWER(KnowledgeItem.question_variations).contains(term.lower()))
    for key, column in (("isActive", KnowledgeItem.is_active), ("isPriority", KnowledgeItem.is_priority)):
        if key in args:
            query = query.where(column == args[key])
    return query


@blp.route("/knowledge")
class Knowledge(MethodView):
    @access(Role.AGENT)
    @blp.arguments(KnowledgeQuerySchema, location="query")
    @blp.response(200, envelope(KnowledgeSchema, many=True, paginated=True))
    def get(self, args):
        """Knowledge items (filters: category, search in questions, variations and answers, isActive, isPriority)."""
        rows, page = paginate(_filtered(args), args, SORTS, "createdAt")
        return {"data": [view(r) for r in rows], "pagination": page}

    @access(Role.MANAGER)
    @blp.arguments(KnowledgeSchema)
    @blp.response(201, envelope(KnowledgeSchema))
    def post(self, body):
        """Add a question and its answer."""
        row = knowledge.create(current_principal().organization.id, body)
        _audit("knowledge.created", row.id)
        return {"data": view(row)}


@blp.route("/knowledge/categories")
class KnowledgeCategories(MethodView):
    @access(Role.AGENT)
    @blp.response(200, envelope(CategorySchema, many=True))
    def get(self):
        """Categories in use, with how many items each has."""
        return {"data": knowledge.categories(current_principal().organization.id)}


@blp.route("/knowledge/import")
class KnowledgeImport(MethodView):
    @access(Role.MANAGER)
    @accepts_multipart
    @blp.arguments(ImportFileSchema, location="files")
    @blp.response(200, envelope(ImportResultSchema))
    def post(self, files):
        """Import items from a CSV file (multipart ``file``); bad rows are reported, good ones stored."""
        data = files["file"].read(knowledge.MAX_IMPORT_BYTES + 1)  # enough to know it is too large
        result = knowledge.import_csv(current_principal().organization.id, data)
        _audit("knowledge.imported", None, imported=result.imported, errors=result.errors)
        return {"data": result.as_dict(),
                "message": f"Imported {result.imported} items, {result.duplicates} duplicates skipped, "
                           f"{result.errors} rows with errors"}


@blp.route("/knowledge/<string:item_id>")
class KnowledgeById(MethodView):
    @access(Role.AGENT)
    @blp.response(200, envelope(KnowledgeSchema))
    def get(self, item_id):
        """One knowledge item."""
        return {"data": view(knowledge.get(current_principal().organization.id, item_id))}

    @access(Role.MANAGER)
    @blp.arguments(KnowledgePatchSchema)
    @blp.response(200, envelope(KnowledgeSchema))
    def patch(self, body, item_id):
        """Change a knowledge item."""
        row = knowledge.update(knowledge.get(current_principal().organization.id, item_id), body)
        _audit("knowledge.updated", row.id)
        return {"data": view(row)}

    @access(Role.MANAGER)
    @blp.response(200, envelope(None))
    def delete(self, item_id):
        """Delete a knowledge item."""
        knowledge.get(current_principal().organization.id, item_id).delete_instance()
        _audit("knowledge.deleted", item_id)
        return {"data": None, "message": "Knowledge item deleted"}
