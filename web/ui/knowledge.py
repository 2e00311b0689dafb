"""The knowledge base editor: questions callers ask (with variations) and the business's answers; CSV import.

AGENTs may read it (they answer phones too); changing it is a MANAGER's, as in the API.
"""
from __future__ import annotations

import logging

from flask import flash, render_template, request, url_for
from peewee import fn

from appliance import audit, knowledge
from appliance.errors import CallboxError
from appliance.roles import Role
from data.ai import KnowledgeItem
from web.api.knowledge import KnowledgePatchSchema, KnowledgeSchema
from web.auth import client_ip
from web.ui.common import (FormError, back, bp, checkbox, domain_errors, load, page, page_number, paginate, require,
                           text, viewer)

logger = logging.getLogger(__name__)

BLANK_VARIATIONS = 2  # empty inputs offered below the existing variations (without JavaScript, to add more)


def _filters() -> dict:
    state = request.args.get("state", "")
    return {"search": request.args.get("search", "").strip()[:200],
            "category": request.args.get("category", "").strip().lower()[:knowledge.MAX_CATEGORY],
            "state": state if state in ("active", "inactive", "priority") else ""}


def filtered(org_id: str, filters: dict):
    """The organization's items matching the list filters (search covers variations and answers)."""
    query = KnowledgeItem.select().where(KnowledgeItem.organization == org_id)
    if filters["category"]:
        query = query.where(KnowledgeItem.category == filters["category"])
    if filters["search"]:
        term = filters["search"]
        query = query.where(KnowledgeItem.question.contains(term) | KnowledgeItem.answer.contains(term)
                            | fn.LOWER(KnowledgeItem.question_variations).contains(term.lower()))
    if filters["state"] == "active":
        query = query.where(KnowledgeItem.is_active)
    elif filters["state"] == "inactive":
        query = query.where(~KnowledgeItem.is_active)
    elif filters["state"] == "priority":
        query = query.where(KnowledgeItem.is_priority)
    return query


@bp.route("/knowledge", endpoint="knowledge")
@page(Role.AGENT)
def knowledge_list():
    who, filters = viewer(), _filters()
    order = (KnowledgeItem.is_priority.desc(), KnowledgeItem.category, KnowledgeItem.created_at, KnowledgeItem.id)
    rows, pager = paginate(filtered(who.org_id, filters), order, page_number())
    args = {k: v for k, v in filters.items() if v}
    template = "knowledge/_results.html" if request.headers.get("HX-Request") else "knowledge/list.html"
    response = render_template(template, page_title="Knowledge base", rows=rows, pager=pager, filters=filters,
                               args=args, categories=knowledge.categories(who.org_id))
    return response, 200, {"Vary": "HX-Request"}


def form_body() -> dict:
    """The item form as the API's body."""
    return {"category": text("category") or "general", "question": text("question"),
            "answer": request.form.get("answer", "").strip(),
            "questionVariations": [v.strip() for v in request.form.getlist("questionVariations") if v.strip()],
            "isPriority": checkbox("isPriority"), "isActive": checkbox("isActive")}


def _render_form(values: dict, errors: dict, row: KnowledgeItem | None, status: int = 200):
    action = url_for("ui.knowledge_edit", item_id=row.id) if row else url_for("ui.knowledge_new")
    title = "Edit answer" if row else "New answer"
    return render_template("knowledge/form.html", page_title=title, values=values, errors=errors, row=row,
                           action=action, blanks=BLANK_VARIATIONS, readonly=not viewer().can(Role.MANAGER),
                           categories=[c["category"] for c in knowledge.categories(viewer().org_id)]), status


def _view(row: KnowledgeItem) -> dict:
    return {"category": row.category, "question": row.question, "answer": row.answer,
            "questionVariations": row.question_variations or [], "isPriority": row.is_priority,
            "isActive": row.is_active}


def _save(row: KnowledgeItem | None):
    who = viewer()
    submitted = form_body()
    try:
        body = load(KnowledgeSchema if row is None else KnowledgePatchSchema, submitted)
        row = knowledge.create(who.org_id, body) if row is None else knowledge.update(row, body)
    except FormError as exc:
        return _render_form(submitted, exc.errors, row, 422)
    except CallboxError as exc:
        return _render_form(submitted, domain_errors(exc, ("question", "answer")), row, 422)
    audit.record("knowledge.updated", organization_id=who.org_id, user_id=who.user.id, target_type="knowledge",
                 target_id=row.id, ip=client_ip())
    flash("Answer saved. The assistants use it from the next question on.", "success")
    return back("ui.knowledge_edit", item_id=row.id)


@bp.route("/knowledge/new", methods=["GET", "POST"])
@page(Role.MANAGER)
def knowledge_new():
    if request.method == "GET":
        return _render_form({"category": request.args.get("category", "general")[:64], "isActive": True,
                             "questionVariations": []}, {}, None)
    return _save(None)


@bp.route("/knowledge/<string:item_id>", methods=["GET", "POST"])
@page(Role.AGENT)
def knowledge_edit(item_id: str):
    row = knowledge.get(viewer().org_id, item_id)
    if request.method == "GET":
        return _render_form(_view(row), {}, row)
    require(Role.MANAGER)
    return _save(row)


@bp.route("/knowledge/<string:item_id>/delete", methods=["POST"])
@page(Role.MANAGER)
def knowledge_delete(item_id: str):
    who = viewer()
    knowledge.get(who.org_id, item_id).delete_instance()
    audit.record("knowledge.deleted", organization_id=who.org_id, user_id=who.user.id, target_type="knowledge",
                 target_id=item_id, ip=client_ip())
    flash("Answer deleted.", "success")
    return back("ui.knowledge")


@bp.route("/knowledge/import", methods=["POST"])
@page(Role.MANAGER)
def knowledge_import():
    who = viewer()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("Choose a CSV file to import.", "error")
        return back("ui.knowledge")
    try:
        result = knowledge.import_csv(who.org_id, upload.read(knowledge.MAX_IMPORT_BYTES + 1))
    except CallboxError as exc:
        flash(f"Import refused: {exc.message}", "error")
        return back("ui.knowledge")
    audit.record("knowledge.imported", organization_id=who.org_id, user_id=who.user.id, target_type="knowledge",
                 ip=client_ip(), imported=result.imported, errors=result.errors)
    flash(f"Imported {result.imported} answers; {result.duplicates} duplicates skipped; "
          f"{result.errors} rows with errors.", "success" if not result.errors else "warning")
    for problem in result.error_rows[:5]:
        flash(f"Line {problem['row']}: {problem['error']}", "warning")
    return back("ui.knowledge")
