"""Users and roles of the workspace, and its API keys (ADMIN pages, as in the API)."""
from __future__ import annotations

import logging

from flask import flash, render_template, request
from peewee import JOIN

from appliance import accounts, audit
from appliance.errors import CallboxError, NotFound
from appliance.roles import Role
from data.models import ApiKey, Invitation, Membership, User
from web.api.users import InviteSchema
from web.api.workspaces import ApiKeyCreateSchema
from web.auth import client_ip
from web.context import config
from web.ui.common import FormError, back, bp, domain_errors, load, page, page_number, paginate, text, viewer

logger = logging.getLogger(__name__)


def assignable_roles() -> list[str]:
    """Roles the viewer may give (none above their own)."""
    who = viewer()
    return [r.value for r in Role if who.role.at_least(r)]


def _members(search: str, page_no: int):
    who = viewer()
    query = (Membership.select(Membership, User).join(User)
             .where(Membership.organization == who.org_id))
    if search:
        query = query.where(User.name.contains(search) | User.email.contains(search))
    return paginate(query, (Membership.created_at, Membership.id), page_no)


def _pending_invites() -> set[str]:
    """Users of the workspace whose invitation is not accepted yet."""
    rows = (Invitation.select(Invitation.user).where((Invitation.organization == viewer().org_id)
                                                     & Invitation.accepted_at.is_null()).tuples())
    return {user_id for (user_id,) in rows}


def _render_users(errors: dict | None = None, invited: dict | None = None, status: int = 200):
    search = request.args.get("search", "").strip()[:200]
    rows, pager = _members(search, page_number())
    return render_template("team/users.html", page_title="Users", rows=rows, pager=pager, search=search,
                           roles=assignable_roles(), errors=errors or {}, invited=invited,
                           pending=_pending_invites()), status


@bp.route("/users")
@page(Role.ADMIN)
def users():
    return _render_users()


@bp.route("/users/invite", methods=["POST"])
@page(Role.ADMIN)
def user_invite():
    who = viewer()
    try:
        body = load(InviteSchema, {"email": text("email"), "name": text("name"), "role": text("role") or "AGENT"})
        inv, raw, user = accounts.invite(who.organization, body["email"], body["name"], Role(body["role"]), who.user,
                                         who.role, config().auth)
    except FormError as exc:
        return _render_users(exc.errors, status=422)
    except CallboxError as exc:
        return _render_users(domain_errors(exc, (), "email"), status=exc.status if exc.status < 500 else 422)
    audit.record("user.invited", organization_id=who.org_id, user_id=who.user.id, target_type="user",
                 target_id=user.id, ip=client_ip(), role=body["role"])
    base = config().web.public_url.rstrip("/") or request.host_url.rstrip("/")
    # Shown once, in this response only: a flash message would keep the secret link in the session cookie.
    invited = {"name": user.name, "email": user.email, "url": f"{base}/invite/{raw}", "expires": inv.expires_at}
    return _render_users(invited=invited, status=201)


@bp.route("/users/<string:user_id>", methods=["POST"])
@page(Role.ADMIN)
def user_update(user_id: str):
    who = viewer()
    action = request.form.get("action", "role")
    changes = {}
    if action == "role":
        role = text("role")
        if role not in Role.names():
            raise NotFound("Unknown role")
        changes["role"] = Role(role)
    else:
        changes["is_active"] = action == "activate"
    try:
        accounts.update_member(who.org_id, user_id, who.role, **changes)
    except CallboxError as exc:
        if exc.status == 404:
            raise
        flash(exc.message, "error")
        return back("ui.users")
    audit.record("user.updated", organization_id=who.org_id, user_id=who.user.id, target_type="user",
                 target_id=user_id, ip=client_ip(), change=action)
    flash("Member updated.", "success")
    return back("ui.users")


@bp.route("/users/<string:user_id>/remove", methods=["POST"])
@page(Role.ADMIN)
def user_remove(user_id: str):
    who = viewer()
    try:
        accounts.remove_member(who.org_id, user_id, who.role, who.user.id, client_ip())
    except CallboxError as exc:
        if exc.status == 404:
            raise
        flash(exc.message, "error")
        return back("ui.users")
    flash("Member removed from the workspace.", "success")
    return back("ui.users")


# -- API keys --------------------------------------------------------------------------------------------------

def _render_keys(errors: dict | None = None, created: dict | None = None, status: int = 200):
    query = (ApiKey.select(ApiKey, User).join(User, JOIN.LEFT_OUTER, on=(ApiKey.created_by == User.id))
             .where(ApiKey.organization == viewer().org_id))
    rows, pager = paginate(query, (ApiKey.created_at.desc(), ApiKey.id), page_number())
    return render_template("team/api_keys.html", page_title="API keys", rows=rows, pager=pager,
                           roles=assignable_roles(), errors=errors or {}, created=created), status


@bp.route("/api-keys")
@page(Role.ADMIN)
def api_keys():
    return _render_keys()


@bp.route("/api-keys", methods=["POST"])
@page(Role.ADMIN)
def api_key_create():
    who = viewer()
    try:
        body = load(ApiKeyCreateSchema, {"name": text("name"), "role": text("role") or "ADMIN"})
        key, raw = accounts.create_api_key(who.organization, body["name"], Role(body["role"]), who.user, who.role)
    except FormError as exc:
        return _render_keys(exc.errors, status=422)
    except CallboxError as exc:
        return _render_keys(domain_errors(exc, (), "role"), status=422)
    audit.record("api_key.created", organization_id=who.org_id, user_id=who.user.id, target_type="api_key",
                 target_id=key.id, ip=client_ip())
    return _render_keys(created={"name": key.name, "key": raw}, status=201)


@bp.route("/api-keys/<string:key_id>/revoke", methods=["POST"])
@page(Role.ADMIN)
def api_key_revoke(key_id: str):
    who = viewer()
    deleted = ApiKey.delete().where((ApiKey.id == key_id) & (ApiKey.organization == who.org_id)).execute()
    if not deleted:
        raise NotFound("No API key with this id")
    audit.record("api_key.deleted", organization_id=who.org_id, user_id=who.user.id, target_type="api_key",
                 target_id=key_id, ip=client_ip())
    flash("API key revoked: programs using it are refused from now on.", "success")
    return back("ui.api_keys")
