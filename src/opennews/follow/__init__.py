"""Live ingestion: following outlets' feeds and sitemaps, and fetching their pages politely.

``fetch`` asks outlets' servers for what the sources name, one request at a time per host,
honouring robots.txt (``robots``) and back-off; what it brings goes into the archive through
``opennews.ingest.Run``, like every other input.
"""
