"""The project's own signals, sent through Scrapy's signal manager (``crawler.signals``)."""

site_finished = object()
"""A site is done while the crawl goes on (each site ends as soon as it is done): its output can be completed
now. Sent with ``site_key``, the key its items carry (``Post.site``)."""

site_ended = object()
"""A site has ended and is forgotten (see ``viewworld.spiders.ending``). Sent with ``netlocs``, the hosts (with their
ports) it was crawled at: what a component kept for them is for that crawl only (a cluster worker crawls the
site again on its next claim)."""
