<?php
// Router for `php -S`: existing files are served as-is (PHP files run), every other
// path goes to index.php so that pretty permalinks and /wp-json/ resolve as under Apache.
$root = $_SERVER['DOCUMENT_ROOT'];
$path = '/' . ltrim(rawurldecode(parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH) ?? '/'), '/');

if ($path !== '/' && file_exists($root . $path)) {
    if (is_dir($root . $path) && substr($path, -1) !== '/') {
        header('Location: ' . $path . '/', true, 301);
        exit;
    }
    if (substr($path, -4) === '.php') {
        chdir(dirname($root . $path));
        $_SERVER['SCRIPT_NAME'] = $_SERVER['PHP_SELF'] = $path;
        $_SERVER['SCRIPT_FILENAME'] = $root . $path;
        require $root . $path;
        return true;
    }
    return false;
}

chdir($root);
$_SERVER['SCRIPT_NAME'] = $_SERVER['PHP_SELF'] = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = $root . '/index.php';
require $root . '/index.php';
