"""HTTP: thin routes, request/response schemas, auth and error mapping."""
