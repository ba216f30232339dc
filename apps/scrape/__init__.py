"""Web scraper: a shell that drives headless Chromium with a small command language.

Command-line only (`stackyard scrape`), so the package exposes no `router`.
"""
