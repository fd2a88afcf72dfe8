"""The web app: search and article pages, their JSON twins, discovery documents."""

from .app import app_from_env, create_app

__all__ = ["app_from_env", "create_app"]
