"""The environment on disk: record, lock, conda-meta, inventory, target checks, cache link, overlays, the package cache, deletion."""
