"""``callbox models``: list the speech models the box can use, and install more (offline: a folder, zip or file)."""
from __future__ import annotations

import argparse
import json

from appliance.config import Config


def models_args(p: argparse.ArgumentParser) -> None:
    """Arguments of ``callbox models list|install``."""
    p.add_argument("--data-dir", metavar="DIR", help="data directory (default: $CALLBOX_DATA_DIR or ./var)")
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = sub.add_parser("list", help="installed and package-shipped models")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    install = sub.add_parser("install", help="install a Vosk model (folder or zip) or a Piper voice (.onnx)")
    install.add_argument("source", metavar="PATH|URL", help="a folder, .zip, .onnx, file:// or http(s):// URL")
    install.add_argument("--name", help="name to install it under (default: from the source)")
    install.add_argument("--language", help="language code of the model, e.g. en, de, ko")
    install.add_argument("--replace", action="store_true", help="replace an installed model of the same name")


def run_models(args: argparse.Namespace, config: Config) -> int:
    """List or install models; errors are ModelError (one clear line, status 1)."""
    from appliance.models_store import install, list_models

    if args.action == "install":
        info = install(config, args.source, name=args.name, language=args.language, replace=args.replace)
        print(f"installed {info.to_dict().get('kind', 'model')} {info.name} ({info.language or '?'})")
        return 0
    models = [m.to_dict() for m in list_models(config)]
    if args.json:
        print(json.dumps(models, indent=2))
        return 0
    for m in models:
        print(f"{m.get('kind', ''):13} {m.get('language') or '-':6} {m.get('name', ''):32} {m.get('source', '')}")
    if not models:
        print("no models found")
    return 0
