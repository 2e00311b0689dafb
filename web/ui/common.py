"""What every page shares: the ``ui`` blueprint, who is looking (``viewer()``), role checks, CSRF, form helpers.

Pages call the same domain services as the API (``appliance.*``); the server refuses what a role may not do even
when a template would not have shown the button.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import math
import secrets
from dataclasses import dataclass
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, request, session, url_for
from flask_login import current_user, logout_user
from marshmallow import ValidationError as SchemaError

from appliance import accounts
from appliance.errors import BadRequest, CallboxError, Forbidden
from appliance.roles import Role
from data.models import Membership, Organization, User
from web.auth import login_manager

logger = logging.getLogger(__name__)

bp = Blueprint("ui", __name__)
login_manager.login_view = "ui.login"
login_manager.login_message = "Please sign in to see that page."
login_manager.login_message_category = "info"

PAGE_SIZE = 25


def csrf_token() -> str:
    """The session's CSRF token (made on first use)."""
    if "csrf_token" not in session:
        session["csrf_token"] = secrets.token_urlsafe(32)
    return session["csrf_token"]


@bp.before_app_request
def _check_csrf() -> None:
    if request.method in ("GET", "HEAD", "OPTIONS") or request.path.startswith(("/api/", "/hooks/")):
        return
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token", "")
    if not sent or not hmac.compare_digest(sent, session.get("csrf_token", "")):
        raise BadRequest("The form expired or was sent from another site; reload the page and try again")


def safe_next(target: str | None) -> str:
    """Only same-site paths are followed after sign-in (no open redirects)."""
    if not target:
        return url_for("ui.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("ui.home")
    return target


def password_stamp(user: User) -> str:
    """A fingerprint of the user's password hash: a session made before a password change stops working."""
    key = current_app.config["SECRET_KEY"]
    key = key if isinstance(key, bytes) else key.encode()
    return hmac.new(key, (user.password_hash or "").encode(), hashlib.sha256).hexdigest()[:24]


def start_session(user: User, organization_id: str) -> None:
    """Sign a user in to the browser session (a fresh session: no fixation)."""
    from flask_login import login_user
    from web.auth import SessionUser

    session.clear()
    login_user(SessionUser(user))
    session["organization_id"] = organization_id
    session["pw"] = password_stamp(user)
    csrf_token()


@dataclass(frozen=True)
class Viewer:
    """The signed-in user as seen in their current workspace."""

    user: User
    membership: Membership
    organization: Organization
    role: Role

    def can(self, role: Role | str) -> bool:
        """Whether the viewer's role is at least ``role``."""
        return self.role.at_least(Role(role))

    @property
    def org_id(self) -> str:
        return self.organization.id


def _active_membership(user_id: str, org_id: str) -> Membership | None:
    return (Membership.select(Membership, Organization).join(Organization)
            .where((Membership.user == user_id) & (Membership.organization == org_id) & Membership.is_active)
            .first())


def _resolve_viewer() -> Viewer | None:
    user: User = current_user.user
    if session.get("pw") != password_stamp(user):
        return None  # the password changed since this session signed in
    membership = _active_membership(user.id, session.get("organization_id", ""))
    if membership is None:
        fallback = accounts.first_membership(user)
        if fallback is None:
            return None
        membership = _active_membership(user.id, fallback.organization_id)
        session["organization_id"] = membership.organization_id
    return Viewer(user, membership, membership.organization, Role(membership.role))


def viewer() -> Viewer | None:
    """Who is looking at the page (None when signed out); cached for the request."""
    if "ui_viewer" not in g:
        g.ui_viewer = _resolve_viewer() if current_user.is_authenticated else None
        if g.ui_viewer is None and current_user.is_authenticated:
            logout_user()
            session.clear()
    return g.ui_viewer


def page(role: Role = Role.VIEWER) -> Callable:
    """A page for signed-in users whose role is at least ``role`` (others: sign-in, or 403)."""
    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            who = viewer()
            if who is None:
                return login_manager.unauthorized()
            if not who.can(role):
                raise Forbidden(f"This page needs the {role.value} role or higher.")
            return view(*args, **kwargs)
        wrapper._ui_role = role
        return wrapper
    return decorate


def require(role: Role) -> None:
    """Refuse the current action (403) unless the viewer's role is at least ``role``."""
    who = viewer()
    if who is None or not who.can(role):
        raise Forbidden(f"This needs the {role.value} role or higher.")


# -- forms ---------------------------------------------------------------------------------------------------------

def flatten_errors(messages: Any, prefix: str = "") -> dict[str, str]:
    """marshmallow's nested messages as ``{"dotted.field": "first message"}``."""
    found: dict[str, str] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix and key != "_schema" else (prefix or str(key))
            if isinstance(key, int):
                name = prefix
            for inner, text in flatten_errors(value, name).items():
                found.setdefault(inner, text)
    elif isinstance(messages, list) and messages:
        if all(isinstance(m, str) for m in messages):
            found[prefix or "_form"] = messages[0]
        else:
            for item in messages:
                for inner, text in flatten_errors(item, prefix).items():
                    found.setdefault(inner, text)
    elif isinstance(messages, str):
        found[prefix or "_form"] = messages
    return found


class FormError(Exception):
    """A form that cannot be accepted; ``errors`` maps field names to messages (``_form``: the whole form)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(next(iter(errors.values()), "The form is not valid"))
        self.errors = errors


def load(schema_cls: type, body: dict, *, partial: bool = False) -> dict:
    """Validate a form's values with the API's own schema; ``FormError`` with per-field messages."""
    try:
        return schema_cls().load(body, partial=partial)
    except SchemaError as exc:
        raise FormError(flatten_errors(exc.messages)) from exc


def domain_errors(exc: CallboxError, fields: Iterable[str] = (), default: str = "_form") -> dict[str, str]:
    """A domain error as form errors: on the field its details name (when the form has it), else on ``default``."""
    details = exc.details if isinstance(exc.details, dict) else {}
    named = [key for key in details if key in fields]
    return {named[0] if named else default: exc.message}


def checkbox(name: str) -> bool:
    """Whether a checkbox of the submitted form was ticked."""
    return request.form.get(name) in ("on", "true", "1", "yes")


def text(name: str, default: str = "") -> str:
    """A submitted text field, stripped."""
    return (request.form.get(name) or default).strip()


def optional(name: str) -> str | None:
    """A submitted text field, None when blank."""
    return text(name) or None


def number(name: str) -> Any:
    """A submitted number field: an int when it is one, else the text (the schema reports it)."""
    value = text(name)
    if value.lstrip("-").isdigit():
        return int(value)
    try:
        return float(value) if value else None
    except ValueError:
        return value


def page_number() -> int:
    """The ``page`` query argument (1 when missing or nonsense)."""
    value = request.args.get("page", "1")
    return max(1, min(int(value), 1_000_000)) if value.isdigit() else 1


def paginate(query, order: tuple, page_no: int, size: int = PAGE_SIZE) -> tuple[list, dict]:
    """One page of a peewee query and what the pager needs."""
    total = query.count()
    pages = max(1, math.ceil(total / size))
    page_no = min(page_no, pages)
    rows = list(query.order_by(*order).paginate(page_no, size))
    return rows, {"page": page_no, "pages": pages, "total": total, "has_prev": page_no > 1,
                  "has_next": page_no < pages}


def back(endpoint: str, **values) -> Any:
    """Redirect to a page after a successful form (post/redirect/get)."""
    return redirect(url_for(endpoint, **values), code=303)
