<?php
// Loads one test site's WordPress from the command line: `php SCRIPT.php SITE_DIR [ARGS...]`.
// wp-config.php fills in the $_SERVER fields a web request would have.
if (PHP_SAPI !== 'cli' || $argc < 2) {
    fwrite(STDERR, "usage: php " . basename($argv[0] ?? 'script.php') . " SITE_DIR [ARGS...]\n");
    exit(2);
}
$site_dir = rtrim($argv[1], '/');
if (!is_file($site_dir . '/wp-load.php')) {
    fwrite(STDERR, "not a WordPress directory: $site_dir\n");
    exit(2);
}

function viewworld_json_out($value): void
{
    echo json_encode($value, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR), "\n";
}

require $site_dir . '/wp-load.php';
