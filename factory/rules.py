"""The rule ids of schema validation, as constants: a `Problem`'s `rule`, asserted by tests.

`validate --json` prints them, so a script can act on a rule without parsing
messages; a test names the rule it expects through these constants, so a
renamed or repurposed rule is a reviewed change. Stdlib only and imported by
the check's fast path: keep it a list of names.
"""

from __future__ import annotations

# Reading the file: bytes, JSON text, numbers and depth (factory/schema/loader.py).
UNREADABLE = "unreadable"
MISSING_FILE = "missing-file"
SYMLINK_LOOP = "symlink-loop"
ENCODING = "encoding"
JSON_SYNTAX = "json-syntax"
JSON_DUPLICATE_KEY = "json-duplicate-key"
JSON_NUMBER = "json-number"
JSON_DEPTH = "json-depth"
META_SCHEMA = "meta-schema"
MODEL = "model"
# Nothing to read at all (factory/project_files.py).
NO_SCHEMAS = "no-schemas"

# What the schema says: names, versions, fields, patterns, workflow, batch (factory/schema/checks.py).
AGENT_NAME_FORMAT = "agent-name-format"
BATCH_COLUMN = "batch-column"
BATCH_FIELD = "batch-field"
BOUNDS = "bounds"
DEFAULT_INVALID = "default-invalid"
DUPLICATE_AGENT = "duplicate-agent"
DUPLICATE_NAME = "duplicate-name"
ENUM_DUPLICATE = "enum-duplicate"
ENUM_TYPE = "enum-type"
FIELD_KEYWORD = "field-keyword"
FIELD_NAME = "field-name"
FIELD_RESERVED = "field-reserved"
FILE_NAME = "file-name"
FORMAT_UNKNOWN = "format-unknown"
ITEMS_TYPE = "items-type"
NAME_FORMAT = "name-format"
NAME_KEYWORD = "name-keyword"
NAME_LENGTH = "name-length"
PATTERN_COMPILE = "pattern-compile"
PATTERN_UNSAFE = "pattern-unsafe"
PATTERN_TYPE = "pattern-type"
PROPERTIES_TYPE = "properties-type"
REQUIRED_UNDECLARED = "required-undeclared"
STARTING_URL = "starting-url"
TEXT = "text"
TIMEOUT = "timeout"
VERSION_FORMAT = "version-format"
WORKFLOW_EXTRACT = "workflow-extract"
WORKFLOW_MUSTACHE = "workflow-mustache"
WORKFLOW_PLACEHOLDER = "workflow-placeholder"
WORKFLOW_PROMPT = "workflow-prompt"

# Comparing a schema with an older version of itself (factory/check/versions.py).
NOT_A_SCHEMA = "not-a-schema"
GIT = "git"

# Writing the output and reading the project's settings (factory/output.py, project_config.py, app_edit.py).
WRITE = "write"
UNOWNED_FILE = "unowned-file"
PROJECT_CONFIG = "project-config"
APP_EDIT = "app-edit"

# The step-functions-agent form's stack (factory/emit/sfa_agent_stack.py).
CDK_TOKEN_TEXT = "cdk-token-text"
AGENT_LLM_VALUE = "agent-llm-value"
