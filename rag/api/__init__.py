"""The HTTP service: create_app(settings)."""
