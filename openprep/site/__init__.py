"""Templates and assets of the public results site (not a Django app: see openprep.publish.site)."""
