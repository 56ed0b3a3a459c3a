"""The CDK CLI the generated app is tested with, pinned in the output directory.

`npx cdk` runs the `cdk` of the nearest node_modules; without one it installs
whatever the npm package `cdk` is today, and asks first (a non-interactive
shell refuses). So the standalone tree carries its own `package.json` and
`package-lock.json`: `npm ci` in `generated/` installs exactly this CLI, and
`npx cdk` then runs it, in any project, with no prompt. The pin is the one in
this repository's own package.json and lock (tests/test_deploy.py keeps them equal).
"""

from __future__ import annotations

from typing import Any

from factory import names
from factory.emit.serialize import json_bytes
from factory.schema.model import CanonicalSchema

CDK_CLI_VERSION = "2.1148.1"
CDK_CLI_INTEGRITY = (
    "sha512-K3d02L17IwmAuiBWNuX1DzYhKUs9GrKYI7bZnGJfJ1bKz9ymXFxfudBOL3rUb8JAusDNSULiQU2fsJH7kyY2XA=="
)
CDK_CLI_NODE = ">= 18.0.0"  # the engines field of that aws-cdk release, as the lock records it
NODE_ENGINE = ">=20"
PACKAGE_NAME = "schema-factory-generated"


def package_json() -> dict[str, Any]:
    return {
        "name": PACKAGE_NAME,
        "private": True,
        "description": "The AWS CDK CLI schema-factory tests this app with: npm ci, then npx cdk ... here.",
        "license": "UNLICENSED",
        "engines": {"node": NODE_ENGINE},
        "devDependencies": {"aws-cdk": CDK_CLI_VERSION},
    }


def package_lock() -> dict[str, Any]:
    return {
        "name": PACKAGE_NAME,
        "lockfileVersion": 3,
        "requires": True,
        "packages": {
            "": {
                "name": PACKAGE_NAME,
                "license": "UNLICENSED",
                "devDependencies": {"aws-cdk": CDK_CLI_VERSION},
                "engines": {"node": NODE_ENGINE},
            },
            "node_modules/aws-cdk": {
                "version": CDK_CLI_VERSION,
                "integrity": CDK_CLI_INTEGRITY,
                "dev": True,
                "license": "Apache-2.0",
                "bin": {"cdk": "bin/cdk"},
                "engines": {"node": CDK_CLI_NODE},
            },
        },
    }


def emit_cdk_cli(schemas: list[CanonicalSchema]) -> dict[str, bytes]:
    """package.json and package-lock.json pinning the CDK CLI (the same for every schema set)."""
    return {
        names.PACKAGE_JSON_PATH: json_bytes(package_json()),
        names.PACKAGE_LOCK_PATH: json_bytes(package_lock()),
    }
