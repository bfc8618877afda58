"""The project's own signals, sent through Scrapy's signal manager (``crawler.signals``)."""

site_finished = object()
"""A site is done while the crawl goes on (each site ends as soon as it is done): its output can be completed
now. Sent with ``site_key``, the key its items carry (``Post.site``)."""

site_ended = object()
"""A site has ended and is forgotten (see ``viewworld.spiders.ending``): what a component kept for its crawl is for
that crawl only (a cluster worker crawls the site again on its next claim). Sent with ``site``, the URL it was given
as (its requests' ``meta["site"]``)."""
