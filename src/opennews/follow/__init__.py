"""Live ingestion: following outlets' feeds, sitemaps and home pages, and fetching their pages politely.

``sources`` keeps what is followed (in the archive); ``discover`` tells a URL's kind, reads the
items of feeds and sitemaps and finds a home page's feeds; ``items`` keeps the items seen and
when each is checked again; ``follow`` polls what is due. ``fetch`` asks outlets' servers for
what the sources name, one request at a time per host, honouring robots.txt (``robots``) and
back-off, and reads bodies within size and time bounds (``body``). What it brings goes into
the archive through ``opennews.ingest.Run``, like every other input.
"""
