"""Hand-written CDK constructs for the shared infrastructure.

Imports aws-cdk-lib, so only code that has it installed (CDK apps, tests) may
import this package; the CLI never does.
"""
