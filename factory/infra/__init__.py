"""Hand-written CDK constructs for the shared infrastructure.

Imports aws-cdk-lib, which `pip install .` does not bring: it comes with the
`cdk` extra (`pip install 'schema-factory[cdk]'`), so only CDK apps and tests
import this package and the CLI never does. Without it, importing any module
here fails with one line naming the extra instead of a bare
`No module named 'aws_cdk'` from deep inside a construct.
"""

from __future__ import annotations

import sys

CDK_EXTRA_INSTALL = "pip install 'schema-factory[cdk]'"


class CdkNotInstalledError(ImportError):
    """aws-cdk-lib or constructs is missing from the running interpreter."""


try:
    import aws_cdk  # noqa: F401  (every construct here builds on it)
    import constructs  # noqa: F401
except ModuleNotFoundError as error:
    if error.name not in ("aws_cdk", "constructs"):
        raise
    raise CdkNotInstalledError(
        f"factory.infra needs aws-cdk-lib and constructs, not installed for {sys.executable}: "
        f"run {CDK_EXTRA_INSTALL} (the cdk extra)",
        name=error.name,
    ) from None
