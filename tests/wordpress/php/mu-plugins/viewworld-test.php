<?php
/*
 * Plugin Name: viewworld test site
 * Description: A third taxonomy, `region`, shown in the REST API under a rest_base that differs from its name,
 * so posts carry three entries in `_links["wp:term"]` and crawlers must follow links rather than guess routes.
 */
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
