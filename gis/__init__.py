"""gridmap GIS helpers."""
