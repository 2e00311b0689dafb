"""The audit log: who did what to which resource."""
from __future__ import annotations

import logging

from data.models import AuditLog

logger = logging.getLogger(__name__)


def record(action: str, *, organization_id: str | None, user_id: str | None = None,
           target_type: str | None = None, target_id: str | None = None, ip: str | None = None,
           **details) -> None:
    """Append one audit entry (never holds secrets)."""
    AuditLog.create(organization=organization_id, user=user_id, action=action, target_type=target_type,
                    target_id=target_id, details=details, ip=ip)
    logger.debug("audit %s %s/%s", action, target_type, target_id)
