<?php
// Installs WordPress into an empty database and creates the administrator's application password.
// Usage: php install.php SITE_DIR PERMALINK_STRUCTURE TITLE
// Prints JSON: {"username", "password", "app_password"}.
define('WP_INSTALLING', true);
require __DIR__ . '/bootstrap.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';

[, , $permalink_structure, $title] = $argv;
$username = 'admin';
$password = 'viewworld-admin-password';

$result = wp_install($title, $username, 'admin@example.test', true, '', wp_slash($password));
$admin_id = (int) $result['user_id'];
wp_update_user(['ID' => $admin_id, 'display_name' => 'Site Administrator', 'nickname' => 'Site Administrator']);

// The default content (Hello world!, Sample Page, the privacy policy draft) would blur the seeded ground truth.
foreach (get_posts(['post_type' => 'any', 'post_status' => 'any', 'numberposts' => -1, 'fields' => 'ids']) as $id) {
    wp_delete_post($id, true);
}

// A non-UTC zone with daylight saving, like the production site, so `date` and `date_gmt` differ.
update_option('timezone_string', 'America/New_York');
update_option('gmt_offset', '');
update_option('blogdescription', 'A WordPress seeded for the viewworld test suite');
update_option('permalink_structure', $permalink_structure);
update_option('posts_per_page', 10);

[$app_password] = WP_Application_Passwords::create_new_application_password($admin_id, ['name' => 'viewworld tests']);

viewworld_json_out(['username' => $username, 'password' => $password, 'app_password' => $app_password]);
