"""The project's own signals, sent through Scrapy's signal manager (``crawler.signals``)."""

site_finished = object()
"""A site is done while the crawl goes on (each site ends as soon as it is done): its output can be completed
now. Sent with ``site_key``, the key its items carry (``Post.site``)."""
