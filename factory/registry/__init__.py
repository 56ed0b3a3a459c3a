"""TemplateRegistry and AgentRegistry: one protocol, two backends.

`protocol.Registry` is what both backends implement (`dynamodb.DynamoRegistry`,
`sqlite.SqliteRegistry`); `service` holds every rule on top of it; `connect`
picks the backend from command-line options; `sources` reads the generated
records that get registered. Table shapes live in `tables`, shared with the
CDK construct in `factory.infra`.
"""
