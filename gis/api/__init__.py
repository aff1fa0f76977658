"""The Open311 GeoReport v2 HTTP API (`python -m gis api`): a thin FastAPI front on `gis/`.

`app.create_app` builds it; `render` writes Open311's JSON and XML; `limits` holds the rate and
body-size limits; `docs` serves the self-contained API page. The rules are in
`gis.problems.intake` and `gis.people.apikeys`.
"""
