"""Following outlets: sources (feeds, sitemaps, home pages) polled politely into the archive."""
