"""A generated news site of any size, for benchmarks: `python demo/wpserver.py --synthetic 100000`.

Everything about post number `i` (dates, author, terms, text) derives from `i` alone, so nothing is stored but a
`PostRow` per post, and each post's JSON is rendered when a page asks for it. Ids interleave like WordPress's: a
post, its featured image, then its revisions.
"""

from __future__ import annotations

import random
import time
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Callable

from demo.wpshape import media_object, post_class_list, post_object, slugify, term_object, user_object
from demo.wpsite import ListTable, PostRow, Site

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from demo.wpshape import JsonObject

ORIGIN = "https://news.synthetic.example"
FIRST_POST_ID = 1000
ID_STEP = 5  # post, featured image, up to three revisions
START = 1451606400  # 2016-01-01T00:00:00Z
SECONDS_BETWEEN_POSTS = 2400
CATEGORY_IDS = range(2, 32)
TAG_IDS = range(100, 600)
USER_IDS = range(1, 21)

SUBJECTS = """Brazil's central bank|Kenyan farmers|European regulators|Tokyo's city council|Chilean miners|Indian
startups|Canadian wildfire crews|Nigerian lawmakers|German carmakers|Australian scientists|Mexican voters|Polish
truckers|South Korean chipmakers|Egyptian archaeologists|Norwegian oil workers|Argentine economists|Philippine
fishermen|Turkish exporters|Spanish hoteliers|Vietnamese garment makers|UN negotiators|Swiss bankers|Indonesian
volcanologists|French rail unions|Ghanaian cocoa growers|Dutch water engineers|Peruvian health officials|Thai
tourism chiefs|Irish tech workers|Moroccan solar developers|Pakistani flood survivors|Italian winemakers|Saudi
investors|Ukrainian grain traders|Colombian coffee growers|Swedish climate researchers|Bangladeshi textile
unions|New Zealand dairy farmers|Greek shipowners|Ethiopian aviation officials""".replace("\n", " ").split("|")
PREDICATES = """weigh new rules on {}|brace for a shortage of {}|bet big on {}|push back against limits on {}|race
to secure {}|report record demand for {}|warn of rising costs of {}|unveil a plan to expand {}|face scrutiny over
{}|call for talks on {}|count the cost of {}|look abroad for {}|sign a landmark deal on {}|test a new approach to
{}|rethink their reliance on {}|struggle to keep up with {}|draw up rules for {}|pour money into {}|ask for help
with {}|back a ban on {}|study the effects of {}|slash prices of {}|reopen the debate on {}|track a surge in
{}|cut red tape around {}|map out the future of {}|turn to robots for {}|hold emergency talks over {}|pin hopes on
{}|close ranks over {}""".replace("\n", " ").split("|")
THINGS = """lithium|fertiliser|drinking water|electric buses|wheat exports|cloud computing|rare earths|affordable
housing|vaccines|offshore wind|microchips|cocoa|shipping routes|tourist visas|hydrogen fuel|cybersecurity|school
meals|river dams|satellite internet|coal plants|rice harvests|fishing quotas|battery recycling|heat pumps|gig
work|copper mines|night trains|antibiotics|desalination|carbon credits|grain storage|bank lending|public
broadcasting|organ donation|rooftop solar|drone deliveries|pension funds|border checks|forest fires|seed
banks""".replace("\n", " ").split("|")
PEOPLE = """Ana Ribeiro|Daniel Mwangi|Sophie Laurent|Kenji Watanabe|Olga Petrenko|Ahmed Mansour|Lucía Fernández|
Tom Becker|Priya Raman|Grace Adeyemi|Mateus Costa|Ingrid Halvorsen|Omar Haddad|Mei Lin|Jonas Weber""".replace(
    "\n", ""
).split("|")
ROLES = "an economist at the central bank|a spokesperson for the ministry|a local organiser|a senior analyst|the mayor|a union leader|a researcher at the university|the company's chief executive".split("|")
PATTERNS = [
    "{S} said on {day} that {thing} would be the main focus of talks over the coming months.",
    "Officials expect demand for {thing} to rise by about {n} percent before the end of the year, according to figures released this week.",
    "“We cannot keep doing things the way we did them ten years ago,” said {person}, {role}, in an interview.",
    "The debate over {thing} has divided {s}, with some calling for swift action and others urging caution.",
    "Critics say the plan does little to address the underlying problems, and warn that costs could climb further.",
    "The announcement came after weeks of pressure from industry groups, consumers and opposition lawmakers.",
    "According to {person}, {role}, the changes could affect as many as {n},000 households across the region.",
    "Prices for {thing} have swung sharply since the start of the year, leaving smaller businesses struggling to plan ahead.",
    "{S} have until the end of the month to respond, after which a final decision is expected.",
    "“The numbers speak for themselves,” {person} told reporters on {day}, pointing to a {n} percent jump in applications.",
    "Several pilot projects are already under way, and early results have been more encouraging than many expected.",
    "The government has promised a review, but has so far declined to say when it will be published.",
    "Analysts noted that similar efforts in neighbouring countries had produced mixed results.",
    "Meanwhile, {s} are looking for ways to cut their dependence on {thing} altogether.",
]
DAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday".split("|")
YOUTUBE_IDS = ["M7lc1UVf-VE", "dQ4w9WgXcQ0", "aqz-KE-bpKQ", "ScMzIvxBSi4", "LXb3EKWsInQ"]


def mix(number: int) -> int:
    """A cheap 64-bit hash: the dice every derived property of a post is read from."""
    number = (number ^ 0x5DEECE66D) * 0x9E3779B97F4A7C15 & 0xFFFFFFFFFFFFFFFF
    return number ^ (number >> 29)


def sentence_pool(size: int = 1200) -> list[str]:
    rng = random.Random(2022)
    pool = []
    for _ in range(size):
        subject = rng.choice(SUBJECTS)
        pool.append(
            rng.choice(PATTERNS).format(
                S=subject,
                s=subject[0].lower() + subject[1:] if not subject.isupper() else subject,
                thing=rng.choice(THINGS),
                person=rng.choice(PEOPLE),
                role=rng.choice(ROLES),
                day=rng.choice(DAYS),
                n=rng.randint(3, 60),
            )
        )
    return pool


SENTENCES = sentence_pool()
QUOTES = [sentence for sentence in SENTENCES if sentence.startswith("“")]


def paragraph_pool(size: int = 600) -> list[str]:
    # Paragraphs are drawn whole, so rendering a post costs a few choices, not dozens.
    rng = random.Random(2023)
    return ["<p>" + " ".join(rng.choices(SENTENCES, k=rng.randint(4, 5))) + "</p>" for _ in range(size)]


PARAGRAPHS = paragraph_pool()
TITLE_COMBINATIONS = len(SUBJECTS) * len(PREDICATES) * len(THINGS)


def wp_date(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def post_dates(index: int, dice: int) -> tuple[int, int]:
    """Publication and modification time: posts follow each other, two in three were edited later."""
    date = START + index * SECONDS_BETWEEN_POSTS + dice % 1800
    return date, date + (0 if dice % 3 == 0 else (dice >> 8) % (86400 * 30))


def featured_media_kind(dice: int) -> str:
    # One post in ten has no featured image; one in a thousand lost it: the id stays, the link points at the root.
    roll = (dice >> 44) % 1000
    return "none" if roll < 100 else "dangling" if roll == 999 else "image"


class SyntheticPost:
    """The derived properties of post number `index`, without its text."""

    def __init__(self, index: int) -> None:
        dice = mix(index)
        self.index = index
        self.id = FIRST_POST_ID + ID_STEP * index
        self.date, self.modified = post_dates(index, dice)
        self.author = USER_IDS[(dice >> 16) % len(USER_IDS)]
        self.categories = sorted({CATEGORY_IDS[(dice >> shift) % len(CATEGORY_IDS)] for shift in (24, 30)[: 1 + (dice >> 36) % 2]})
        self.tags = sorted({TAG_IDS[mix(index * 8 + k) % len(TAG_IDS)] for k in range((dice >> 40) % 6)})
        media = featured_media_kind(dice)
        self.featured_media = 0 if media == "none" else self.id + 1
        self.featured_media_dangling = media == "dangling"
        self.revision_count = 1 + (dice >> 54) % 3
        self.protected = index % 2000 == 1999
        self.sticky = index % 5000 == 0

    @property
    def has_media(self) -> bool:
        return bool(self.featured_media) and not self.featured_media_dangling

    @cached_property
    def title(self) -> str:
        combination = self.index * 7919 % TITLE_COMBINATIONS
        subject = SUBJECTS[combination % len(SUBJECTS)]
        predicate = PREDICATES[combination // len(SUBJECTS) % len(PREDICATES)]
        thing = THINGS[combination // (len(SUBJECTS) * len(PREDICATES))]
        return f"{subject} {predicate.format(thing)}"

    @cached_property
    def slug(self) -> str:
        # wp_unique_post_slug(): a title seen before gets `-2`, `-3`, ...
        repeat = self.index // TITLE_COMBINATIONS
        return slugify(self.title) + (f"-{repeat + 1}" if repeat else "")


def content(post: SyntheticPost, origin: str) -> str:
    """3-5 KB of rendered block-editor HTML: paragraphs, a heading, the featured image, a list, quote or video."""
    rng = random.Random(post.id)
    blocks = rng.choices(PARAGRAPHS, k=2)
    if post.has_media:
        blocks.append(image_block(post, origin))
    blocks.append(f'<h2 class="wp-block-heading">{rng.choice(SUBJECTS)} {rng.choice(PREDICATES).format(rng.choice(THINGS))}</h2>')
    blocks += rng.choices(PARAGRAPHS, k=2)
    extra = rng.randrange(20)
    if extra < 8:
        items = "".join(f"<li>{sentence}</li>" for sentence in rng.choices(SENTENCES, k=3))
        blocks.append(f'<ul class="wp-block-list">{items}</ul>')
    elif extra < 16:
        blocks.append(
            '<blockquote class="wp-block-quote is-layout-flow wp-block-quote-is-layout-flow">'
            f"<p>{rng.choice(QUOTES)}</p><cite>{rng.choice(PEOPLE)}</cite></blockquote>"
        )
    elif extra < 18:
        blocks.append(youtube_block(rng.choice(YOUTUBE_IDS), post.title))
    blocks += rng.choices(PARAGRAPHS, k=2)
    return "\n" + "\n\n\n\n".join(blocks) + "\n"


def media_file(post: SyntheticPost) -> str:
    return time.strftime("%Y/%m/", time.gmtime(post.date)) + post.slug[:48].rstrip("-") + ".jpg"


def image_block(post: SyntheticPost, origin: str) -> str:
    source = f"{origin}/wp-content/uploads/{media_file(post)}"
    large = source[: -len(".jpg")] + "-1024x683.jpg"
    return (
        f'<figure class="wp-block-image size-large"><img decoding="async" width="1024" height="683" src="{large}" '
        f'alt="" class="wp-image-{post.featured_media}" srcset="{large} 1024w, {source[:-4]}-300x200.jpg 300w, '
        f'{source[:-4]}-768x512.jpg 768w" sizes="(max-width: 1024px) 100vw, 1024px" />'
        f'<figcaption class="wp-element-caption">{post.title}. Photo: {PEOPLE[post.index % len(PEOPLE)]}</figcaption></figure>'
    )


def youtube_block(video_id: str, title: str) -> str:
    return (
        '<figure class="wp-block-embed is-type-video is-provider-youtube wp-block-embed-youtube wp-embed-aspect-16-9 '
        'wp-has-aspect-ratio"><div class="wp-block-embed__wrapper">\n'
        f'<iframe loading="lazy" title="{title}" width="640" height="360" '
        f'src="https://www.youtube.com/embed/{video_id}?feature=oembed" frameborder="0" allow="accelerometer; '
        'autoplay; clipboard-write; encrypted-media; gyroscope; picture-in-picture; web-share" '
        'referrerpolicy="strict-origin-when-cross-origin" allowfullscreen></iframe>\n</div></figure>'
    )


class SyntheticPosts:
    def __init__(self, count: int, term_slugs: dict[int, str]) -> None:
        self.count = count
        self.term_slugs = term_slugs
        self.rows = [self._row(index) for index in range(count)]

    @staticmethod
    def _row(index: int) -> PostRow:
        date, modified = post_dates(index, mix(index))
        return PostRow(FIRST_POST_ID + ID_STEP * index, date, date, modified, modified)

    def post(self, post_id: int) -> SyntheticPost | None:
        index, remainder = divmod(post_id - FIRST_POST_ID, ID_STEP)
        return SyntheticPost(index) if remainder == 0 and 0 <= index < self.count else None

    def get(self, post_id: int) -> JsonObject | None:
        post = self.post(post_id)
        return None if post is None else self.render(post)

    def render(self, post: SyntheticPost) -> JsonObject:
        date, modified = wp_date(post.date), wp_date(post.modified)
        category_slugs = [self.term_slugs[term] for term in post.categories]
        tag_slugs = [self.term_slugs[term] for term in post.tags]
        return post_object(
            ORIGIN,
            post_id=post.id,
            date=date,
            date_gmt=date,
            modified=modified,
            modified_gmt=modified,
            slug=post.slug,
            title=post.title,
            content=content(post, ORIGIN),
            author=post.author,
            featured_media=post.featured_media,
            categories=post.categories,
            tags=post.tags,
            class_list=post_class_list(post.id, post.featured_media, post.protected, category_slugs, tag_slugs),
            revision_count=post.revision_count,
            last_revision_id=post.id + 1 + post.revision_count,
            sticky=post.sticky,
            protected=post.protected,
            featured_media_dangling=post.featured_media_dangling,
        )

    def title(self, post_id: int) -> str:
        return self.post(post_id).title  # type: ignore[union-attr]

    def author(self, post_id: int) -> int:
        return self.post(post_id).author  # type: ignore[union-attr]

    def terms(self, post_id: int, taxonomy: str) -> list[int]:
        post = self.post(post_id)
        if post is None:
            return []
        return post.categories if taxonomy == "category" else post.tags


class SyntheticMedia:
    """The featured images, one per post that has one, each a minute older than its post."""

    def __init__(self, posts: SyntheticPosts) -> None:
        self.posts = posts
        images = (index for index in range(posts.count) if featured_media_kind(mix(index)) == "image")
        self._ids = [FIRST_POST_ID + ID_STEP * index + 1 for index in images][::-1]

    def _image_post(self, media_id: int) -> SyntheticPost | None:
        post = self.posts.post(media_id - 1)
        return post if post is not None and post.has_media else None

    def ids(self) -> Sequence[int]:
        return self._ids

    def in_order(self, item_ids: Iterable[int]) -> list[int]:
        return sorted((media_id for media_id in set(item_ids) if self._image_post(media_id)), reverse=True)

    def attached_to(self, post_id: int) -> list[int]:
        return [post_id + 1] if self._image_post(post_id + 1) else []

    def get(self, media_id: int) -> JsonObject | None:
        post = self._image_post(media_id)
        if post is None:
            return None
        date = wp_date(post.date - 60)
        return media_object(
            ORIGIN,
            media_id=media_id,
            post_id=post.id,
            author=post.author,
            date=date,
            date_gmt=date,
            file=media_file(post),
            title=post.slug[:48].rstrip("-"),
            alt_text=post.title if post.index % 4 else "",
            caption=f"Photo: {PEOPLE[post.index % len(PEOPLE)]}",
            width=1600,
            height=1067,
        )


class LazyTable:
    """A table built on first use: counting every post's terms takes a while, and most runs never ask."""

    def __init__(self, build: Callable[[], ListTable]) -> None:
        self._build = build

    @cached_property
    def table(self) -> ListTable:
        return self._build()

    def ids(self) -> Sequence[int]:
        return self.table.ids()

    def get(self, item_id: int) -> JsonObject | None:
        return self.table.get(item_id)

    def in_order(self, item_ids: Iterable[int]) -> list[int]:
        return self.table.in_order(item_ids)


@lru_cache(maxsize=4)
def synthetic_site(count: int) -> Site:
    term_names = synthetic_term_names()
    term_slugs = {term_id: slugify(name) for term_id, name in term_names.items()}
    terms = lru_cache(maxsize=1)(lambda: synthetic_terms(count, term_names, term_slugs))
    users = [
        user_object(ORIGIN, user_id=user_id, name=PEOPLE[user_id % len(PEOPLE)] + ("" if user_id < len(PEOPLE) else " Jr."),
                    slug=slugify(PEOPLE[user_id % len(PEOPLE)]) + ("" if user_id < len(PEOPLE) else "-2"))
        for user_id in USER_IDS
    ]
    posts = SyntheticPosts(count, term_slugs)
    return Site(
        name="Synthetic News",
        description="A generated WordPress news site",
        origin=ORIGIN,
        gmt_offset="0",
        posts=posts,
        media=SyntheticMedia(posts),
        categories=LazyTable(lambda: terms()[0]),
        tags=LazyTable(lambda: terms()[1]),
        users=ListTable(users, "name"),
    )


def synthetic_terms(count: int, term_names: dict[int, str], term_slugs: dict[int, str]) -> tuple[ListTable, ListTable]:
    counts = dict.fromkeys(term_names, 0)
    for index in range(count):
        post = SyntheticPost(index)
        for term_id in (*post.categories, *post.tags):
            counts[term_id] += 1
    categories = [
        term_object(ORIGIN, taxonomy="category", term_id=term_id, name=term_names[term_id], slug=term_slugs[term_id],
                    count=counts[term_id], parent=0 if term_id < 8 else 2 + term_id % 6)
        for term_id in CATEGORY_IDS
    ]
    categories.append(term_object(ORIGIN, taxonomy="category", term_id=1, name="Uncategorized", slug="uncategorized", count=0))
    tags = [
        term_object(ORIGIN, taxonomy="post_tag", term_id=term_id, name=term_names[term_id], slug=term_slugs[term_id], count=counts[term_id])
        for term_id in TAG_IDS
    ]
    return ListTable(categories, "name"), ListTable(tags, "name")


def synthetic_term_names() -> dict[int, str]:
    """Thirty sections (six top-level ones, the rest below them) and five hundred distinct tags."""
    sections = ["World", "Business", "Science", "Climate", "Health", "Culture"]
    desks = [f"{place} {topic}" for place in ("Africa", "Asia", "Europe", "Americas") for topic in ("News", "Markets", "Politics", "Energy", "Tech", "Sport")]
    names = dict(zip(CATEGORY_IDS, sections + desks))
    words = [thing.title() for thing in THINGS]
    places = [subject.split()[0].removesuffix("'s") for subject in SUBJECTS]
    tags = [f"{place} {word}" for word in words for place in places]
    names.update(zip(TAG_IDS, tags))
    return names
