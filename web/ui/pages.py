"""UI shell: sign-in and sign-out with a session cookie and CSRF, and the home page.

The full staff UI grows here (issue "The staff's browser UI"); pages call the same domain services as the API.
"""
from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from appliance import accounts
from appliance.errors import InvalidCredentials, RateLimitExceeded
from web.auth import SessionUser, client_ip, login_manager
from web.context import config

bp = Blueprint("ui", __name__)
login_manager.login_view = "ui.login"


def csrf_token() -> str:
    """The session's CSRF token (made on first use)."""
    if "csrf_token" not in session:
        session["csrf_token"] = secrets.token_urlsafe(32)
    return session["csrf_token"]


@bp.app_context_processor
def _template_globals() -> dict:
    return {"csrf_token": csrf_token}


@bp.before_app_request
def _check_csrf() -> None:
    if request.method in ("GET", "HEAD", "OPTIONS") or request.path.startswith(("/api/", "/hooks/")):
        return
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token", "")
    if not hmac.compare_digest(sent, session.get("csrf_token", "")) or not sent:
        abort(400, description="The form expired; reload the page and try again")


def safe_next(target: str | None) -> str:
    """Only same-site paths are followed after sign-in (no open redirects)."""
    if not target:
        return url_for("ui.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("ui.home")
    return target


@bp.route("/")
@login_required
def home():
    membership = accounts.membership_of(current_user.id, session.get("organization_id", ""))
    return render_template("home.html", user=current_user.user, organization=membership.organization,
                           role=membership.role)


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        try:
            user, membership = accounts.authenticate(request.form.get("email", ""), request.form.get("password", ""),
                                                     client_ip(), config().auth)
        except (InvalidCredentials, RateLimitExceeded) as exc:
            error = exc.message
        else:
            session.clear()
            login_user(SessionUser(user))
            session["organization_id"] = membership.organization_id
            csrf_token()
            return redirect(safe_next(request.args.get("next")))
    return render_template("login.html", error=error), 401 if error else 200


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("ui.login"))
