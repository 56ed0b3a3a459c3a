# The existing repository's own LLM agent stack for this schema.
