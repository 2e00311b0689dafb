"""The shell around every page: sign-in, sign-up, invitations, sign-out, the account page, the workspace switcher,
and what every template gets (the viewer, role-aware navigation, asset URLs)."""
from __future__ import annotations

import logging
import os

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import logout_user

from appliance import accounts, audit
from appliance.errors import CallboxError, Forbidden, InvalidCredentials, NotFound, RateLimitExceeded
from appliance.roles import Role
from web.api.auth import SignupSchema
from web.auth import client_ip
from web.context import config
from web.ui import assets
from web.ui.common import (FormError, bp, back, csrf_token, domain_errors, load, page, password_stamp,
                           safe_next, start_session, text, viewer)

logger = logging.getLogger(__name__)

# endpoint, label, lowest role; an endpoint that is not registered (a later feature) is left out.
NAV = (
    ("ui.home", "Dashboard", Role.VIEWER),
    ("ui.calls", "Calls", Role.VIEWER),
    ("ui.appointments", "Appointments", Role.AGENT),
    ("ui.knowledge", "Knowledge", Role.AGENT),
    ("ui.try_it", "Try it", Role.AGENT),
    ("ui.assistants", "Assistants", Role.VIEWER),
    ("ui.phone_numbers", "Phone numbers", Role.VIEWER),
    ("ui.users", "Users", Role.ADMIN),
    ("ui.api_keys", "API keys", Role.ADMIN),
    ("ui.settings", "Settings", Role.ADMIN),
)


def _nav() -> list[dict]:
    who = viewer()
    if who is None:
        return []
    items = []
    for endpoint, label, role in NAV:
        if endpoint in current_app.view_functions and who.can(role):
            url = url_for(endpoint)
            current = request.path == url or (url != "/" and request.path.startswith(url + "/"))
            items.append({"url": url, "label": label, "current": current})
    return items


def static_url(filename: str) -> str:
    """A URL of our own static file that changes when the file does (so browsers may cache it)."""
    try:
        stamp = int(os.stat(os.path.join(current_app.static_folder, filename)).st_mtime)
    except OSError:
        stamp = 0
    return url_for("static", filename=filename, v=stamp)


@bp.app_context_processor
def _template_globals() -> dict:
    if request.path.startswith(("/api/", "/hooks/")):
        return {}
    who = viewer()
    return {"csrf_token": csrf_token, "viewer": who, "nav": _nav() if who else [],
            "workspaces": accounts.user_workspaces(who.user) if who else [], "Role": Role,
            "asset_url": lambda name: assets.store().url(name), "static_url": static_url,
            "role_options": lambda roles: [(r, r.title()) for r in roles]}


@bp.app_template_filter("when")
def when(value) -> str:
    """A stored UTC time (datetime or ISO text) as ``YYYY-MM-DD HH:MM``."""
    if value is None:
        return "—"
    text_value = value.isoformat(sep=" ") if hasattr(value, "isoformat") else str(value)
    return text_value.replace("T", " ")[:16]


@bp.route("/login", methods=["GET", "POST"])
def login():
    if viewer() is not None and request.method == "GET":
        return back("ui.home")
    error = None
    if request.method == "POST":
        try:
            user, membership = accounts.authenticate(text("email"), request.form.get("password", ""), client_ip(),
                                                     config().auth)
        except (InvalidCredentials, RateLimitExceeded) as exc:
            error = exc.message
        else:
            start_session(user, membership.organization_id)
            audit.record("auth.login", organization_id=membership.organization_id, user_id=user.id, ip=client_ip(),
                         via="browser")
            return redirect(safe_next(request.args.get("next")))
    return render_template("shell/login.html", error=error, page_title="Sign in",
                           signup=config().web.signup_enabled), 401 if error else 200



@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return back("ui.login")


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    if not config().web.signup_enabled:
        raise Forbidden("Sign-up is disabled on this appliance; ask an administrator for an invitation.")
    errors, values = {}, {}
    if request.method == "POST":
        values = {"email": text("email"), "name": text("name"), "organizationName": text("organizationName"),
                  "password": request.form.get("password", "")}
        try:
            body = load(SignupSchema, values)
            if body["password"] != request.form.get("confirm", ""):
                raise FormError({"confirm": "The two passwords differ"})
            user, org = accounts.signup(body["email"], body["password"], body["name"], body["organizationName"])
        except FormError as exc:
            errors = exc.errors
        except CallboxError as exc:
            errors = domain_errors(exc, ("email", "password"), "_form")
            if "password" in exc.message and "_form" in errors:
                errors = {"password": exc.message}
        else:
            start_session(user, org.id)
            flash(f"Welcome to Callbox, {user.name}. Your workspace {org.name} is ready.", "success")
            return back("ui.home")
    return render_template("shell/signup.html", errors=errors, values=values, page_title="Create an account"), \
        422 if errors else 200


@bp.route("/invite/<string:token>", methods=["GET", "POST"])
def accept_invite(token: str):
    errors = {}
    if request.method == "POST":
        password = request.form.get("password", "")
        try:
            if not password:
                raise FormError({"password": "Enter a password"})
            user, inv = accounts.accept_invite(token, password, client_ip(), config().auth, text("name") or None)
        except FormError as exc:
            errors = exc.errors
        except NotFound as exc:
            raise NotFound("This invitation link is not valid any more: it was used, withdrawn or has expired. "
                           "Ask for a new one.") from exc
        except CallboxError as exc:
            errors = {"password": exc.message}
        else:
            start_session(user, inv.organization_id)
            flash("Invitation accepted: welcome aboard.", "success")
            return back("ui.home")
    return render_template("shell/invite.html", errors=errors, token=token, page_title="Accept your invitation"), \
        422 if errors else 200


@bp.route("/account", methods=["GET", "POST"])
@page(Role.VIEWER)
def account():
    who, errors = viewer(), {}
    if request.method == "POST":
        try:
            _save_account(who)
        except FormError as exc:
            errors = exc.errors
        else:
            return back("ui.account")
    return render_template("shell/account.html", errors=errors, page_title="Your account"), 422 if errors else 200


def _save_account(who) -> None:
    action = request.form.get("action")
    if action == "password":
        _change_password(who)
    elif action == "workspace":
        _create_workspace(who)
    else:
        name = text("name")
        if not name or len(name) > 200:
            raise FormError({"name": "Enter your name (at most 200 characters)"})
        accounts.update_profile(who.user, {"name": name, "language": text("language") or who.user.language})
        flash("Profile saved.", "success")


def _change_password(who) -> None:
    new = request.form.get("new_password", "")
    if new != request.form.get("confirm_password", ""):
        raise FormError({"confirm_password": "The two new passwords differ"})
    try:
        accounts.update_profile(who.user, {"password": new, "currentPassword": request.form.get("current_password", "")})
    except InvalidCredentials as exc:
        raise FormError({"current_password": "That is not your current password"}) from exc
    except CallboxError as exc:
        raise FormError({"new_password": exc.message}) from exc
    session["pw"] = password_stamp(who.user)  # this browser stays signed in; every other session ends
    audit.record("user.password_changed", organization_id=who.org_id, user_id=who.user.id, target_type="user",
                 target_id=who.user.id, ip=client_ip())
    flash("Password changed. Other sessions and API tokens were signed out.", "success")


def _create_workspace(who) -> None:
    name = text("workspace_name")
    if not name or len(name) > 200:
        raise FormError({"workspace_name": "Enter a name for the workspace (at most 200 characters)"})
    org = accounts.create_organization(name, who.user)
    session["organization_id"] = org.id
    flash(f"Workspace {org.name} created; you are its owner and now working in it.", "success")


@bp.route("/workspace", methods=["POST"])
@page(Role.VIEWER)
def switch_workspace():
    who = viewer()
    wanted = text("organization_id")
    chosen = next((m for m in accounts.user_workspaces(who.user) if m.organization_id == wanted), None)
    if chosen is None:
        raise NotFound("That workspace is not one of yours")
    session["organization_id"] = chosen.organization_id
    flash(f"Now working in {chosen.organization.name}.", "info")
    return back("ui.home")



@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says: send them the icon."""
    return redirect(static_url("favicon.svg"), code=301)
