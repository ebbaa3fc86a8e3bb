"""``kgnlu serve``: the HTTP API over one graph — linking, QA, entity pages, alias search, read-only
SPARQL and REL's entity-linking format — with the web page (``static/``) at ``/``.

The pieces, one concept a file: :mod:`.settings` (limits and options), :mod:`.state` (the graph,
linker and QA loaded once, shared by every worker), :mod:`.app` (``create_app(state, settings)``),
:mod:`.limits` (body size, bearer token, per-request time limit), :mod:`.problems` (errors as
JSON with kgnlu's codes), :mod:`.schemas` (request models), the endpoints (:mod:`.nlu_routes`,
:mod:`.graph_routes`, :mod:`.sparql_endpoint`, :mod:`.rel_api`) and :mod:`.workers` (one process,
or N forked workers on one listening socket). docs/serving.md is the user's guide.
"""

from kgnlu.serve.settings import ServeSettings

__all__ = ["ServeSettings"]
