"""The few non-API pages a crawler meets first: the home page (API discovery), a post page, robots.txt, a 404."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from demo.wpsite import Site


def home_page(site: Site, origin: str, api_root: str, post_id: str | None, latest: list[int]) -> str:
    """The theme's home page, or the post `?p=ID`; the head announces the API root as WordPress does."""
    post = site.posts.get(int(post_id)) if post_id and post_id.isdigit() else None
    if post is not None:
        title = post["title"]["rendered"]
        body = f"<article><h1>{title}</h1>\n{post['content']['rendered']}</article>"
    else:
        title = f"{escape(site.name)} &#8211; {escape(site.description)}"
        items = "\n".join(f'<li><a href="{origin}/?p={post}">{site.posts.title(post)}</a></li>' for post in latest)
        body = f"<h1>{escape(site.name)}</h1>\n<ul class=\"wp-block-latest-posts\">\n{items}\n</ul>"
    page = f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="UTF-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<title>{title}</title>
<link rel="alternate" type="application/rss+xml" title="{escape(site.name)} &raquo; Feed" href="{origin}/?feed=rss2" />
<link rel="https://api.w.org/" href="{escape(api_root)}" />
<link rel="EditURI" type="application/rsd+xml" title="RSD" href="{origin}/xmlrpc.php?rsd" />
<meta name="generator" content="WordPress 6.5.5" />
</head>
<body class="home blog">
{body}
</body>
</html>
"""
    return page.replace(site.origin, origin)


def robots_txt(origin: str) -> str:
    return (
        "User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n\n"
        f"Sitemap: {origin}/wp-sitemap.xml\n"
    )


def not_found_page(path: str) -> str:
    # What Apache answers for a path no file or rewrite rule serves, e.g. /wp-json/ on a plain-permalink site.
    return (
        '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>404 Not Found</title>\n'
        "</head><body>\n<h1>Not Found</h1>\n"
        f"<p>The requested URL {escape(path)} was not found on this server.</p>\n</body></html>\n"
    )
