<?php
// Seeds an installed site with deterministic, varied content: the edge cases a crawler of a real
// news site meets (see the list in seed_site()). Usage: php seed.php SITE_DIR POSTS [RANDOM_SEED [MEDIA]]
// MEDIA > 0 (the benchmark's news-site shape) adds that many attachments sharing the real images' files,
// and featured images go round the whole library, each to a post of its own while they last.
// Prints JSON counts of what it made.
require __DIR__ . '/bootstrap.php';
require_once ABSPATH . 'wp-admin/includes/image.php';

const FIRST_DATE = '2019-01-01 08:00:00';
const LAST_DATE = '2025-06-30 18:00:00';
const PASSWORD = 'open-sesame';
const YOUTUBE_URL = 'https://www.youtube.com/watch?v=dQw4w9WgXcQ';
const FEATURED_IMAGES = 30;
const HIDDEN_POSTS_PER_STATUS = 3;

$posts = (int) ($argv[2] ?? 230);
$random_seed = (int) ($argv[3] ?? 1);
$library = (int) ($argv[4] ?? 0);
mt_srand($random_seed);

// The seed writes raw HTML (a <script> included) and must not be slowed by per-post bookkeeping.
kses_remove_filters();
remove_action('publish_post', '_publish_post_hook', 5);
wp_defer_term_counting(true);
wp_defer_comment_counting(true);
wp_set_current_user(1);

const WORDS = ['minister', 'council', 'market', 'harbour', 'election', 'drought', 'vaccine', 'border', 'summit',
    'railway', 'festival', 'court', 'parliament', 'refinery', 'university', 'satellite', 'coalition', 'strike',
    'budget', 'monsoon', 'treaty', 'startup', 'museum', 'pipeline', 'protest', 'reservoir', 'ceasefire', 'tariff',
    'glacier', 'orchestra', 'shipyard', 'senate', 'wildfire', 'currency', 'stadium', 'archive', 'clinic', 'bridge',
    'vineyard', 'observatory'];
const PLACES = ['Geneva', 'Nairobi', 'Lima', 'Osaka', 'Tbilisi', 'Dakar', 'Oslo', 'Hanoi', 'Quito', 'Beirut',
    'Perth', 'Lagos', 'Krakow', 'Montreal', 'Manila', 'Cairo'];
const VERBS = ['approves', 'delays', 'questions', 'expands', 'rejects', 'celebrates', 'reviews', 'funds',
    'opens', 'suspends'];

function pick(array $items)
{
    return $items[mt_rand(0, count($items) - 1)];
}

/** @return array<int, mixed> $count distinct items, in a deterministic order. */
function pick_some(array $items, int $count): array
{
    $chosen = [];
    while (count($chosen) < min($count, count($items))) {
        $chosen[pick($items)] = true;
    }
    return array_keys($chosen);
}

function sentence(): string
{
    return ucfirst(pick(WORDS)) . ' officials in ' . pick(PLACES) . ' ' . pick(VERBS) . ' the ' . pick(WORDS)
        . ' plan after ' . mt_rand(2, 90) . ' days of talks about the ' . pick(WORDS) . '.';
}

function paragraph_text(): string
{
    $sentences = [];
    for ($i = mt_rand(2, 4); $i > 0; $i--) {
        $sentences[] = sentence();
    }
    return implode(' ', $sentences);
}

function headline(): string
{
    $forms = [
        fn () => ucfirst(pick(WORDS)) . ' in ' . pick(PLACES) . ' ' . pick(VERBS) . ' ' . pick(WORDS) . ' deal',
        fn () => pick(PLACES) . ' ' . pick(WORDS) . ' & ' . pick(WORDS) . ': what comes next',
        fn () => "“" . ucfirst(pick(WORDS)) . " first,” says " . pick(PLACES) . "’s mayor",
        fn () => "Why the " . pick(WORDS) . " won't wait for " . pick(PLACES),
    ];
    return pick($forms)();
}

function block(string $name, string $html, array $attributes = []): string
{
    $json = $attributes ? ' ' . wp_json_encode($attributes, JSON_UNESCAPED_SLASHES) : '';
    return "<!-- wp:$name$json -->\n$html\n<!-- /wp:$name -->";
}

function youtube_block(): string
{
    $classes = 'wp-block-embed is-type-video is-provider-youtube wp-block-embed-youtube wp-embed-aspect-16-9 wp-has-aspect-ratio';
    return block('embed', "<figure class=\"$classes\"><div class=\"wp-block-embed__wrapper\">\n" . YOUTUBE_URL
        . "\n</div></figure>", ['url' => YOUTUBE_URL, 'type' => 'video', 'providerNameSlug' => 'youtube',
        'responsive' => true, 'className' => 'wp-embed-aspect-16-9 wp-has-aspect-ratio']);
}

function image_block(int $attachment_id): string
{
    $url = wp_get_attachment_url($attachment_id);
    $alt = esc_attr(get_post_meta($attachment_id, '_wp_attachment_image_alt', true));
    $caption = wp_get_attachment_caption($attachment_id);
    return block('image', "<figure class=\"wp-block-image size-large\"><img src=\"$url\" alt=\"$alt\" "
        . "class=\"wp-image-$attachment_id\"/><figcaption>$caption</figcaption></figure>",
        ['id' => $attachment_id, 'sizeSlug' => 'large']);
}

/** Block-editor markup: paragraphs, a heading, a list, a quote and sometimes an image or a video. */
function block_content(array $attachment_ids, bool $with_video): string
{
    $blocks = [block('paragraph', '<p>' . paragraph_text() . '</p>')];
    $blocks[] = block('heading', '<h2>' . esc_html(headline()) . '</h2>');
    $blocks[] = block('paragraph', '<p>' . paragraph_text() . ' <a href="https://example.org/report">Read the report</a>.</p>');
    $items = array_map(fn ($word) => "<li>" . ucfirst($word) . "</li>", pick_some(WORDS, 3));
    $blocks[] = block('list', '<ul>' . implode('', $items) . '</ul>');
    $blocks[] = block('quote', '<blockquote class="wp-block-quote"><p>' . sentence() . '</p><cite>'
        . pick(PLACES) . ' Daily</cite></blockquote>');
    if (mt_rand(0, 2) === 0) {
        $blocks[] = image_block(pick($attachment_ids));
    }
    if ($with_video) {
        $blocks[] = youtube_block();
    }
    $blocks[] = block('paragraph', '<p>' . paragraph_text() . '</p>');
    return implode("\n\n", $blocks);
}

/** Classic-editor markup: bare paragraphs separated by blank lines (wpautop adds <p>), inline tags, a caption shortcode. */
function classic_content(array $attachment_ids): string
{
    $parts = [paragraph_text(), '<strong>' . sentence() . "</strong>\nA line break above, <em>emphasis</em> here."];
    if (mt_rand(0, 2) === 0) {
        $id = pick($attachment_ids);
        $parts[] = '[caption id="attachment_' . $id . '" align="alignnone" width="300"]<img class="size-medium wp-image-'
            . $id . '" src="' . wp_get_attachment_url($id) . '" alt="" width="300" height="200" /> '
            . esc_html(wp_get_attachment_caption($id) ?: 'Photo') . '[/caption]';
    }
    $parts[] = paragraph_text();
    return implode("\n\n", $parts);
}

/** Posts whose text a crawler must carry through untouched: scripts, right-to-left, CJK, Cyrillic, emoji. */
function special_posts(array $attachment_ids): array
{
    return [
        ['features' => ['arabic', 'rtl'], 'post_title' => 'الانتخابات البلدية في بيروت: ما الذي تغيّر؟',
            'post_content' => block('paragraph', '<p dir="rtl">أعلنت اللجنة الانتخابية اليوم عن النتائج الأولية للانتخابات البلدية، وسط إقبال واسع من الناخبين.</p>')
                . "\n\n" . block('paragraph', '<p dir="rtl">وقال رئيس اللجنة إن «العملية جرت بهدوء» في معظم المراكز.</p>')],
        ['features' => ['chinese'], 'post_title' => '大阪港口扩建计划获批',
            'post_content' => block('paragraph', '<p>市议会周二批准了港口扩建计划，预计将创造三千个就业岗位。</p>')
                . "\n\n" . block('paragraph', '<p>反对者担心对海湾生态的影响。“我们需要更多时间，”一位居民说。</p>')],
        ['features' => ['cyrillic'], 'post_title' => 'В Тбилиси открылся новый музей современного искусства',
            'post_content' => "Музей разместился в здании бывшей фабрики.\n\n«Это событие для всего города», — сказал директор."],
        ['features' => ['emoji', 'curly_quotes'], 'post_title' => "Fans’ “perfect” night 🎉⚽ in Lima",
            'post_content' => "<p>“We’ve waited ten years,” said one fan — holding a flag 🇵🇪 and a 🏆 replica…</p>\n\n<p>Ticket prices: €40–€90 ‘depending on the seat’.</p>"],
        ['features' => ['script'], 'post_title' => 'Interactive: the budget in one chart',
            'post_content' => "<p>Explore the figures below.</p>\n<script>document.write('<p>chart goes here</p>');</script>\n"
                . "<noscript>Enable JavaScript to see the chart.</noscript>\n<style>.chart { width: 100%; }</style>\n<p>Source: finance ministry.</p>"],
        ['features' => ['blocks', 'video', 'format_video'], 'format' => 'video', 'post_title' => 'Watch: the summit in four minutes',
            'post_content' => block('paragraph', '<p>Highlights from the summit.</p>') . "\n\n" . youtube_block()],
        ['features' => ['blocks', 'image_block'], 'post_title' => 'Photo essay: the harbour at dawn',
            'post_content' => block_content($attachment_ids, false) . "\n\n" . image_block($attachment_ids[0])],
        ['features' => ['classic', 'caption_shortcode'], 'post_title' => 'Letters to the editor',
            'post_content' => classic_content($attachment_ids) . "\n\n[caption id=\"attachment_{$attachment_ids[1]}\" align=\"alignnone\" width=\"300\"]<img src=\""
                . wp_get_attachment_url($attachment_ids[1]) . "\" alt=\"\" width=\"300\" height=\"200\" /> A caption[/caption]"],
        ['features' => ['protected'], 'post_password' => PASSWORD, 'post_title' => 'Members only: the full interview',
            'post_content' => block('paragraph', '<p>The full interview, for members.</p>')],
        ['features' => ['protected'], 'post_password' => PASSWORD, 'post_title' => 'Members only: budget documents',
            'post_content' => '<p>Leaked documents, for members.</p>'],
        ['features' => ['sticky'], 'sticky' => true, 'post_title' => 'Live: election night results',
            'post_content' => block_content($attachment_ids, false)],
        ['features' => ['sticky'], 'sticky' => true, 'post_title' => 'About this site',
            'post_content' => classic_content($attachment_ids)],
        ['features' => ['format_aside'], 'format' => 'aside', 'post_title' => 'Quick note',
            'post_content' => '<p>' . sentence() . '</p>'],
        ['features' => ['format_aside'], 'format' => 'aside', 'post_title' => '',
            'post_content' => '<p>An aside without a title.</p>'],
        ['features' => ['dangling_featured_media'], 'post_title' => 'Photo removed after publication',
            'post_content' => '<p>The featured photo of this post was deleted from the media library.</p>'],
        ['features' => ['html_entities'], 'post_title' => 'R&D spending: 5 < 7 > 3 & "quotes"',
            'post_content' => '<p>Tom &amp; Jerry &lt;3 &mdash; non&nbsp;breaking.</p>', 'post_excerpt' => 'A manual excerpt with <b>bold</b> & ampersand.'],
    ];
}

function make_users(): array
{
    $authors = [
        ['user_login' => 'amira', 'display_name' => 'Amira Haddad', 'user_nicename' => 'amira-haddad'],
        ['user_login' => 'wei', 'display_name' => '李伟', 'user_nicename' => 'li-wei'],
        ['user_login' => 'olga', 'display_name' => 'Ольга Иванова', 'user_nicename' => 'olga-ivanova'],
        // Writes only drafts: the REST API refuses to show users without published posts.
        ['user_login' => 'quiet', 'display_name' => 'Quinn Quiet', 'user_nicename' => 'quinn-quiet'],
    ];
    $ids = [];
    foreach ($authors as $author) {
        $ids[$author['user_login']] = wp_insert_user($author + ['role' => 'author',
            'user_email' => $author['user_login'] . '@example.test', 'user_pass' => 'viewworld-' . $author['user_login']]);
    }
    return $ids;
}

function make_categories(): array
{
    $tree = ['World' => ['Europe' => ['Россия'], 'Asia' => [], 'Middle East' => [], 'Africa' => [], 'Americas' => []],
        'Politics' => [], 'Economy' => ['Markets' => []], 'Science & Technology' => [], 'Culture' => [], 'Opinion' => []];
    $ids = [];
    $insert = function (array $branch, int $parent) use (&$insert, &$ids): void {
        foreach ($branch as $key => $value) {
            $name = is_array($value) ? $key : $value;
            $ids[] = $id = wp_insert_term($name, 'category', ['parent' => $parent])['term_id'];
            if (is_array($value)) {
                $insert($value, $id);
            }
        }
    };
    $insert($tree, 0);
    return $ids;
}

function make_terms(string $taxonomy, array $names): array
{
    return array_map(fn ($name) => wp_insert_term($name, $taxonomy)['term_id'], $names);
}

function tag_names(): array
{
    $names = ['Климат', 'اقتصاد', '选举', 'COVID-19', 'Q&A', "Editor’s pick", 'Breaking news', 'Long read'];
    foreach (WORDS as $word) {
        $names[] = $word;
        $names[] = $word . ' policy';
    }
    foreach (PLACES as $place) {
        $names[] = $place;
        $names[] = $place . ' ' . WORDS[count($names) % count(WORDS)];
    }
    return array_slice($names, 0, 120);
}

/** An attachment sharing the file and sizes of one of the real images: a large library made in seconds. */
function make_library_image(int $index, array $real_ids): int
{
    $source = $real_ids[$index % count($real_ids)];
    $id = wp_insert_attachment([
        'post_title' => "Library photo $index",
        'post_excerpt' => $index % 3 === 0 ? "Library caption $index" : '',
        'post_mime_type' => get_post_mime_type($source),
        'post_status' => 'inherit',
        'guid' => wp_get_attachment_url($source),
    ], get_attached_file($source), 0, true);
    update_post_meta($id, '_wp_attachment_metadata', wp_get_attachment_metadata($source));
    update_post_meta($id, '_wp_attachment_image_alt', "Alt text for library photo $index");
    return $id;
}

function make_image(int $index): int
{
    // Small, so that WordPress makes only the thumbnail and medium sizes: GD resizing dominates seeding time.
    $width = [480, 640, 320, 400][$index % 4];
    $height = intdiv($width * [9, 2, 3][$index % 3], [16, 3, 4][$index % 3]);
    $image = imagecreatetruecolor($width, $height);
    imagefill($image, 0, 0, imagecolorallocate($image, ($index * 53) % 256, ($index * 97) % 256, ($index * 29) % 256));
    imagestring($image, 5, 20, 20, "viewworld test image $index", imagecolorallocate($image, 255, 255, 255));
    $is_png = $index % 2 === 0;
    $uploads = wp_upload_dir(sprintf('2021/%02d', $index % 12 + 1));
    $file = $uploads['path'] . "/photo-$index" . ($is_png ? '.png' : '.jpg');
    $is_png ? imagepng($image, $file) : imagejpeg($image, $file, 80);
    imagedestroy($image);

    $captions = ['', 'Crowds gather at the harbour.', 'Photo: “City Archive” / CC BY', 'الميناء عند الفجر'];
    $id = wp_insert_attachment([
        'post_title' => "Photo $index",
        'post_excerpt' => $captions[$index % 4],
        'post_mime_type' => $is_png ? 'image/png' : 'image/jpeg',
        'post_status' => 'inherit',
        'guid' => $uploads['url'] . '/' . basename($file),
    ], $file, 0, true);
    wp_update_attachment_metadata($id, wp_generate_attachment_metadata($id, $file));
    if ($index % 5 !== 0) {
        update_post_meta($id, '_wp_attachment_image_alt', "Alt text for photo $index");
    }
    return $id;
}

/** Publication dates spread over FIRST_DATE..LAST_DATE, with runs of identical dates. */
function post_dates(int $count): array
{
    $start = strtotime(FIRST_DATE);
    $average_gap = intdiv(strtotime(LAST_DATE) - $start, max($count, 1));
    $dates = [];
    $time = $start;
    for ($i = 0; $i < $count; $i++) {
        if ($i === 0 || mt_rand(0, 9) !== 0) {
            $time += mt_rand(1, 2 * $average_gap);
        }
        $dates[] = gmdate('Y-m-d H:i:s', min($time, strtotime(LAST_DATE)));
    }
    return $dates;
}

function insert_post(array $fields, array $features): int
{
    $id = wp_insert_post(wp_slash($fields), true);
    if (is_wp_error($id)) {
        fwrite(STDERR, 'wp_insert_post failed: ' . $id->get_error_message() . "\n");
        exit(1);
    }
    update_post_meta($id, '_viewworld_features', $features);
    return $id;
}

/** Edits a post several times, as editors do, so it has revisions; then dates the last edit after publication. */
function edit_post(int $id, int $edits, string $date): void
{
    for ($edit = 1; $edit <= $edits; $edit++) {
        $post = get_post($id);
        wp_update_post(wp_slash(['ID' => $id, 'post_content' => $post->post_content . "\n\n<p>Update $edit: " . sentence() . '</p>',
            'post_title' => $edit === $edits ? $post->post_title . ' (updated)' : $post->post_title]));
    }
    $modified = gmdate('Y-m-d H:i:s', min(strtotime($date) + mt_rand(1, 30) * DAY_IN_SECONDS, strtotime(LAST_DATE)));
    global $wpdb;
    $wpdb->update($wpdb->posts, ['post_modified' => $modified, 'post_modified_gmt' => get_gmt_from_date($modified)], ['ID' => $id]);
    clean_post_cache($id);
}

function hidden_post(string $status, int $author, array $category_ids): int
{
    $fields = ['post_title' => "Hidden ($status): " . headline(), 'post_content' => '<p>' . paragraph_text() . '</p>',
        'post_status' => $status === 'trash' ? 'publish' : $status, 'post_author' => $author,
        'post_category' => [pick($category_ids)]];
    if ($status === 'future') {
        $fields['post_date'] = gmdate('Y-m-d H:i:s', time() + mt_rand(30, 300) * DAY_IN_SECONDS);
    }
    $id = insert_post($fields, ['hidden', $status]);
    if ($status === 'trash') {
        wp_trash_post($id);
    }
    return $id;
}

function seed_site(int $posts, int $library): array
{
    global $wpdb;
    $users = make_users();
    $authors = [$users['amira'], $users['wei'], $users['olga']];
    $category_ids = make_categories();
    $tag_ids = make_terms('post_tag', tag_names());
    $region_ids = make_terms('region', ['North', 'South', 'East', 'West', 'Центр']);
    $attachment_ids = array_map('make_image', range(1, FEATURED_IMAGES));
    $library_ids = [];
    for ($index = 1; $index <= $library; $index++) {
        $library_ids[] = make_library_image($index, $attachment_ids);
    }
    $featured = 0;

    $specials = special_posts($attachment_ids);
    // Specials are spread over the whole range so they do not all land on the first page.
    $special_every = max(1, intdiv($posts, count($specials)));
    $dates = post_dates($posts);
    $hidden_statuses = array_merge(...array_fill(0, HIDDEN_POSTS_PER_STATUS, ['draft', 'pending', 'private', 'future', 'trash']));
    $hidden_every = max(1, intdiv($posts, count($hidden_statuses) + 1));
    $hidden_ids = [];
    $dangling_post = null;
    $edited = 0;

    for ($i = 0; $i < $posts; $i++) {
        if ($hidden_statuses && $i % $hidden_every === $hidden_every - 1) {
            $status = array_shift($hidden_statuses);
            $hidden_author = $status === 'draft' ? $users['quiet'] : pick($authors);
            $hidden_ids[] = hidden_post($status, $hidden_author, $category_ids);
        }
        $special = ($i % $special_every === 0 && $specials) ? array_shift($specials) : null;
        $format = $special['format'] ?? ['aside', 'video'][mt_rand(0, 24)] ?? 'standard';
        $is_block = $format === 'video' || mt_rand(0, 2) > 0;
        $fields = [
            'post_title' => $special['post_title'] ?? headline(),
            'post_content' => $special['post_content']
                ?? ($is_block ? block_content($attachment_ids, $format === 'video') : classic_content($attachment_ids)),
            'post_excerpt' => $special['post_excerpt'] ?? (mt_rand(0, 4) === 0 ? sentence() : ''),
            'post_status' => 'publish',
            'post_author' => pick($authors),
            'post_date' => $dates[$i],
            'post_password' => $special['post_password'] ?? '',
            'post_category' => pick_some($category_ids, mt_rand(1, 3)),
            'tags_input' => array_map('intval', pick_some($tag_ids, mt_rand(0, 6))),
        ];
        $features = $special['features'] ?? [$is_block ? 'blocks' : 'classic'];
        $id = insert_post($fields, $features);
        if (mt_rand(0, 2) === 0) {
            wp_set_object_terms($id, pick_some($region_ids, mt_rand(1, 2)), 'region');
        }
        if ($format !== 'standard') {
            set_post_format($id, $format);
        }
        if (!empty($special['sticky'])) {
            stick_post($id);
        }
        if (in_array('dangling_featured_media', $features, true)) {
            $dangling_post = $id;
        } elseif (mt_rand(0, 4) < 3) {
            $attachment = $library_ids ? $library_ids[$featured++ % count($library_ids)] : pick($attachment_ids);
            set_post_thumbnail($id, $attachment);
            if ($library_ids) {  // thousands of them: one query each, not wp_update_post's hooks
                $wpdb->update($wpdb->posts, ['post_parent' => $id], ['ID' => $attachment, 'post_parent' => 0]);
            } elseif (!get_post($attachment)->post_parent) {
                wp_update_post(['ID' => $attachment, 'post_parent' => $id]);
            }
        }
        if (mt_rand(0, 9) === 0) {
            edit_post($id, mt_rand(2, 4), $dates[$i]);
            $edited++;
        }
    }

    if ($dangling_post) {
        // wp_delete_attachment() also removes every _thumbnail_id pointing at it, so the dangling
        // reference (left behind on real sites by database edits and plugins) is restored afterwards.
        $doomed = make_image(FEATURED_IMAGES + 1);
        wp_delete_attachment($doomed, true);
        update_post_meta($dangling_post, '_thumbnail_id', $doomed);
    }

    wp_defer_term_counting(false);
    wp_defer_comment_counting(false);
    flush_rewrite_rules(false);
    return ['published' => $posts, 'hidden' => count($hidden_ids), 'edited' => $edited,
        'attachments' => count($attachment_ids) + count($library_ids), 'categories' => count($category_ids), 'tags' => count($tag_ids)];
}

viewworld_json_out(seed_site($posts, $library));
