"""Request and response bodies of the v1 API, one module per resource, as the OpenAPI
document shows them. Each response model says how it is made from its service's typed
result (`of`), so every response shape is declared once, here."""
