<?php
// Prints, as JSON, what the database holds for every published post, computed with the same
// functions the REST API uses, so tests can compare a crawl with it. Usage: php truth.php SITE_DIR
require __DIR__ . '/bootstrap.php';

function rest_date(string $mysql_date): ?string
{
    return $mysql_date === '0000-00-00 00:00:00' ? null : mysql_to_rfc3339($mysql_date);
}

function term_fields(WP_Term $term): array
{
    $fields = ['id' => $term->term_id, 'name' => $term->name, 'slug' => $term->slug];
    if (is_taxonomy_hierarchical($term->taxonomy)) {
        $fields['parent'] = $term->parent;
    }
    return $fields;
}

/** @return array<int, array> A post's terms of one taxonomy, in the order the REST API lists their ids. */
function post_terms(WP_Post $post, string $taxonomy): array
{
    $terms = get_the_terms($post, $taxonomy);
    return is_array($terms) ? array_values(array_map('term_fields', $terms)) : [];
}

function featured_media(int $attachment_id): ?array
{
    $attachment = $attachment_id ? get_post($attachment_id) : null;
    if (!$attachment || $attachment->post_type !== 'attachment') {
        return null;
    }
    $metadata = wp_get_attachment_metadata($attachment_id) ?: [];
    return [
        'id' => $attachment_id,
        'url' => wp_get_attachment_url($attachment_id),
        'alt' => (string) get_post_meta($attachment_id, '_wp_attachment_image_alt', true),
        'caption' => $attachment->post_excerpt,
        'mime_type' => $attachment->post_mime_type,
        'width' => $metadata['width'] ?? null,
        'height' => $metadata['height'] ?? null,
    ];
}

function author_fields(int $user_id): array
{
    $user = get_userdata($user_id);
    return ['id' => $user_id, 'name' => $user ? $user->display_name : null, 'slug' => $user ? $user->user_nicename : null];
}

/** The title as `title.rendered` shows it: the REST API drops the "Protected: " prefix. */
function rendered_title(WP_Post $post): string
{
    $no_prefix = fn () => '%s';
    add_filter('protected_title_format', $no_prefix);
    $title = get_the_title($post);
    remove_filter('protected_title_format', $no_prefix);
    return $title;
}

function post_truth(WP_Post $post, array $extra_taxonomies): array
{
    $revisions = wp_get_latest_revision_id_and_total_count($post);
    $featured_media_id = (int) get_post_meta($post->ID, '_thumbnail_id', true);
    $terms = [];
    foreach ($extra_taxonomies as $taxonomy) {
        $terms[$taxonomy] = post_terms($post, $taxonomy);
    }
    return [
        'id' => $post->ID,
        'slug' => $post->post_name,
        'link' => get_permalink($post),
        'title' => rendered_title($post),
        'date' => rest_date($post->post_date),
        'date_gmt' => rest_date($post->post_date_gmt),
        'modified' => rest_date($post->post_modified),
        'modified_gmt' => rest_date($post->post_modified_gmt),
        'status' => $post->post_status,
        'type' => $post->post_type,
        'format' => get_post_format($post) ?: 'standard',
        'sticky' => is_sticky($post->ID),
        'protected' => $post->post_password !== '',
        'password' => $post->post_password,
        'author' => author_fields((int) $post->post_author),
        'categories' => post_terms($post, 'category'),
        'tags' => post_terms($post, 'post_tag'),
        'terms' => $terms,
        'featured_media_id' => $featured_media_id,
        'featured_media' => featured_media($featured_media_id),
        'revisions' => is_wp_error($revisions) ? ['count' => 0, 'latest_id' => null]
            : ['count' => $revisions['count'], 'latest_id' => $revisions['latest_id'] ?: null],
        'features' => get_post_meta($post->ID, '_viewworld_features', true) ?: [],
    ];
}

/** Taxonomies of posts shown in the REST API besides categories and tags (post_format is not a term list there). */
function extra_taxonomies(): array
{
    $names = [];
    foreach (get_object_taxonomies('post', 'objects') as $taxonomy) {
        if ($taxonomy->show_in_rest && !in_array($taxonomy->name, ['category', 'post_tag', 'post_format'], true)) {
            $names[] = $taxonomy->name;
        }
    }
    return $names;
}

function taxonomy_truth(string $taxonomy): array
{
    $terms = get_terms(['taxonomy' => $taxonomy, 'hide_empty' => false, 'orderby' => 'term_id']);
    return [
        'rest_base' => get_taxonomy($taxonomy)->rest_base ?: $taxonomy,
        'terms' => array_map(fn ($term) => term_fields($term) + ['count' => $term->count], $terms),
    ];
}

function users_truth(): array
{
    $published = count_many_users_posts(get_users(['fields' => 'ID']), 'post', true);
    return array_map(fn ($user) => [
        'id' => (int) $user->ID,
        'name' => $user->display_name,
        'slug' => $user->user_nicename,
        'roles' => array_values($user->roles),
        'published_posts' => (int) ($published[$user->ID] ?? 0),
    ], get_users(['orderby' => 'ID']));
}

$published = get_posts(['post_type' => 'post', 'post_status' => 'publish', 'numberposts' => -1,
    'orderby' => 'ID', 'order' => 'ASC', 'suppress_filters' => true, 'ignore_sticky_posts' => true]);
$hidden = get_posts(['post_type' => 'post', 'post_status' => ['draft', 'pending', 'private', 'future', 'trash'],
    'numberposts' => -1, 'orderby' => 'ID', 'order' => 'ASC', 'suppress_filters' => true]);
$extra_taxonomies = extra_taxonomies();
$taxonomies = [];
foreach (array_merge(['category', 'post_tag'], $extra_taxonomies) as $taxonomy) {
    $taxonomies[$taxonomy] = taxonomy_truth($taxonomy);
}

viewworld_json_out([
    'url' => home_url(),
    'permalink_structure' => get_option('permalink_structure'),
    'timezone' => wp_timezone_string(),
    'posts' => array_map(fn ($post) => post_truth($post, $extra_taxonomies), $published),
    'hidden_ids' => array_map(fn ($post) => $post->ID, $hidden),
    'hidden' => array_map(fn ($post) => ['id' => $post->ID, 'status' => $post->post_status], $hidden),
    'users' => users_truth(),
    'taxonomies' => $taxonomies,
]);
