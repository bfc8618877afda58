<?php
// Runs PHP code read from stdin inside a loaded WordPress; tests use it to change a site mid-crawl.
// Usage: php run.php SITE_DIR < code.php   (the code has no opening tag; VIEWWORLD_ARGS holds JSON
// arguments, decoded into $args, so values never need quoting into PHP source).
require __DIR__ . '/bootstrap.php';

// Like a logged-in editor: raw HTML is kept and posts get an author.
kses_remove_filters();
wp_set_current_user(1);
$args = json_decode(getenv('VIEWWORLD_ARGS') ?: '{}', true, 512, JSON_THROW_ON_ERROR);
eval(stream_get_contents(STDIN));
