"""What views reach through the app: the configuration and the shared security objects."""
from __future__ import annotations

from flask import current_app

from appliance.config import Config
from appliance.security import SecretBox, TokenSigner


def config() -> Config:
    return current_app.config["CALLBOX"]


def signer() -> TokenSigner:
    return current_app.extensions["callbox.signer"]


def secret_box() -> SecretBox:
    return current_app.extensions["callbox.box"]
