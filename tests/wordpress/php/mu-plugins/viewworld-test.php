<?php
/*
 * Plugin Name: viewworld test site
 * Description: A third taxonomy, `region`, shown in the REST API under a rest_base that differs from its name,
 * so posts carry three entries in `_links["wp:term"]` and crawlers must follow links rather than guess routes.
 */

// There is no mail server here; wp_install() and others would otherwise shell out to a missing sendmail.
add_filter('pre_wp_mail', '__return_true');
add_action('init', function (): void {
    register_taxonomy('region', 'post', [
        'label' => 'Regions',
        'public' => true,
        'hierarchical' => false,
        'show_in_rest' => true,
        'rest_base' => 'regions',
        'rewrite' => ['slug' => 'region'],
    ]);
});
