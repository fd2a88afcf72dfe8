"""opennews: an open-data archive of Vietnamese news, searchable and served as feeds and dumps."""

__version__ = "0.1.0"
