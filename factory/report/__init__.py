"""`schema-factory batch report`: one self-contained HTML page that shows a batch at a glance.

Rows stream through a pure accumulator (`aggregate.py`), so memory holds aggregates, never rows;
charts come from pygal (`charts.py`) and the page from one jinja2 template (`page.py`). Where the
rows come from (the local store, a results CSV, a Step Functions execution) is `sources.py`.
"""
