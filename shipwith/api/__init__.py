"""The JSON API at /api/v1/: read endpoints for everyone, editor endpoints behind tokens."""
