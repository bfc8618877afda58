# Scrapy settings for viewworld. Every setting we add is documented in the README with its default;
# Scrapy's own are listed at https://docs.scrapy.org/en/latest/topics/settings.html

from scrapy.settings import default_settings

BOT_NAME = "viewworld"
SPIDER_MODULES = ["viewworld.spiders"]
NEWSPIDER_MODULE = "viewworld.spiders"
# Our crawl command: the same as Scrapy's, with exit codes cron can act on.
COMMANDS_MODULE = "viewworld.commands"

# Politeness: obey robots.txt, say who we are, few requests at a time per site, and let AutoThrottle
# slow down when the site does.
ROBOTSTXT_OBEY = True
USER_AGENT = "viewworld/0.1 (+https://www.viewworld.org; WordPress news crawler)"
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
# Scrapy's downloader, but a site gets no more than CONCURRENT_REQUESTS_PER_DOMAIN requests at a time when requests
# go without delay (Scrapy 2.19's went over it: viewworld/downloader.py).
DOWNLOADER = "viewworld.downloader.Downloader"
# First in, first out among requests of one priority (Scrapy's default is last in, first out): the posts pages
# asked for with page 1 went out last page first, and page 1, which tells how many pages there are, came back
# after all of them on a server with fewer workers than requests at once, while the walk waited for it. A cluster
# worker's queue (viewworld/cluster_scheduler.py) is first in, first out too.
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"

# Robustness: retry what may pass (5xx, 429, timeouts), wait as long as Retry-After says (at most
# RETRY_AFTER_MAX seconds), and cap what a hostile site can send.
RETRY_TIMES = 3
RETRY_AFTER_MAX = 300
DOWNLOAD_TIMEOUT = 60
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
REDIRECT_MAX_TIMES = 5

# Consoles that run code inside the crawl: off, and not even loaded (Scrapy imports every extension its
# lists name, disabled or not; the remote control pulls in aiohttp: ~0.15 s of CPU on every run).
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
# Scrapy's CoreStats is viewworld.stats.CoreStats, which leaves item_scraped_count to JsonLinesPipeline when it
# is the last pipeline (Scrapy's item_scraped receiver costs ~50 us an item). Enable only one of the two.
EXTENSIONS_BASE = {("viewworld.stats.CoreStats" if path == "scrapy.extensions.corestats.CoreStats" else path): order
                   for path, order in default_settings.EXTENSIONS_BASE.items()
                   if not path.endswith((".TelnetConsole", ".RemoteControl"))}

# The crawl: keep requests inside each site, add credentials only at download time; clean, then write.
DOWNLOADER_MIDDLEWARES = {
    "viewworld.middlewares.SiteScopeMiddleware": 50,
    # Scrapy's, at its place, reading a site's robots.txt afresh on each crawl of it (a cluster worker's claims).
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "viewworld.middlewares.RobotsTxtMiddleware": 100,
    # Above RetryMiddleware (550), and the credentials above RedirectMiddleware (600): answers reach them first,
    # from the highest number down, so the credentials are off a request before anything copies it.
    "viewworld.middlewares.RetryAfterMiddleware": 570,
    "viewworld.middlewares.CredentialsMiddleware": 610,
}
ITEM_PIPELINES = {
    "viewworld.pipelines.CleaningPipeline": 300,
    "viewworld.pipelines.JsonLinesPipeline": 800,
}
EXTENSIONS = {
    "viewworld.progress.Progress": 500,
    "viewworld.collector.GarbageCollection": 510,
}

# Output: OUTPUT_DIR/<site>/posts-<UTC time>-<run id>.jsonl
OUTPUT_DIR = "output"

# Cron: per-site state (high-water mark, known ids, lock) in STATE_DIR; incremental runs ask for posts
# modified since the mark minus INCREMENTAL_OVERLAP seconds; deleted posts are looked for every
# DELETION_SWEEP_INTERVAL seconds.
STATE_DIR = "state"
INCREMENTAL_OVERLAP = 3600
DELETION_SWEEP_INTERVAL = 86400

# A run on one machine crawls CONCURRENT_SITES of the sites given at a time (0: all at once); each of the others
# starts as one ends. A cluster worker takes CLUSTER_SITES_PER_WORKER claims at a time instead.
CONCURRENT_SITES = 16

# Cluster (on when REDIS_URL is set, e.g. -s REDIS_URL=redis://127.0.0.1:6379/0): how many sites one
# worker crawls at once, how long the whole cluster must have been idle before a worker closes, and how
# old a worker's heartbeat (every second) may get before its sites are given to others.
CLUSTER_SITES_PER_WORKER = 4
MAX_IDLE_TIME_BEFORE_CLOSE = 10
CLUSTER_WORKER_TIMEOUT = 60

# Cleaning: also write content_markdown (markdownify, in requirements.txt; the crawl says so if it is missing);
# off, as it costs ~10 times the rest of the cleaning (~500 posts/s against ~5,000).
CONTENT_MARKDOWN = False

# Progress: one log line per site every PROGRESS_INTERVAL seconds (0 turns it off), and a summary at the end.
PROGRESS_INTERVAL = 30.0

# Posts pages: once a post has shown the site's taxonomies, later pages ask with _fields for what records are
# made of, so that WordPress neither computes nor sends what plugins add (Yoast's yoast_head, Jetpack's fields).
POSTS_ONLY_NEEDED_FIELDS = True
# Revision counts: each post's _links carry its revision count and latest revision id, which WordPress finds
# with a query per post; _links are over a quarter of WordPress's work for a posts page (bench/README.md).
# Off, the pages asked for with _fields (POSTS_ONLY_NEEDED_FIELDS) leave _links out: their posts get the
# links of the post the _fields came from, pointed at their own ids, and revisions.count null. Revisions
# fetched with credentials are chosen by their counts: there it stays on.
REVISION_COUNTS = True

# Assembly: partial include= batches are sent early when this many posts wait for them (memory bound).
ASSEMBLY_MAX_WAITING_POSTS = 2000

# Python's garbage collector: a young collection every GC_THRESHOLD allocations, not 700, and what
# start-up made frozen out of its sight (viewworld/collector.py); 0 keeps Python's defaults.
GC_THRESHOLD = 20000

# Feeds given with -o/-O are UTF-8 JSON Lines like ours.
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
# Scrapy re-reads and re-parses a callback's source on every response to warn of a generator that returns
# a value (its cache is keyed by the bound method, made anew each time): ~3% of a crawl's CPU. The test
# suite makes that check once for all our callbacks (tests/test_spider_wpposts.py).
WARN_ON_GENERATOR_RETURN_VALUE = False
# No log record per item unless LOG_LEVEL is DEBUG (the posts are in the output files).
LOG_FORMATTER = "viewworld.logformatter.QuietItemsLogFormatter"
