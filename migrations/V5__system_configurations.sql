-- Settings an operator can change without a deploy; the functions cache them for 30 seconds.
CREATE TABLE system_configurations (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    category           text NOT NULL,
    key                text NOT NULL,
    value              text NOT NULL,
    value_type         text NOT NULL CHECK (value_type IN ('number', 'duration', 'boolean', 'string', 'json')),
    description        text,
    is_hot_reloadable  boolean NOT NULL DEFAULT true,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (category, key)
);

CREATE TRIGGER system_configurations_updated_at BEFORE UPDATE ON system_configurations
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Defaults the pipeline reads. ON CONFLICT keeps an operator's changes if this is ever re-run.
INSERT INTO system_configurations (category, key, value, value_type, description) VALUES
    ('api_limits', 'max_api_calls_tiktok_keyword', '50', 'number', 'Search pages one TikTok keyword search may request'),
    ('api_limits', 'max_api_calls_youtube_keyword', '50', 'number', 'Search pages one YouTube keyword search may request'),
    ('api_limits', 'max_api_calls_tiktok_similar', '20', 'number', 'User searches one TikTok similar search may request'),
    ('api_limits', 'max_api_calls_instagram_similar', '20', 'number', 'Steps one Instagram similar search may run'),
    ('api_limits', 'max_api_calls_youtube_similar', '20', 'number', 'Search pages one YouTube similar search may request'),
    ('search_defaults', 'target_results_tiktok_keyword', '100', 'number', 'Creators a TikTok keyword search looks for unless told'),
    ('search_defaults', 'target_results_youtube_keyword', '100', 'number', 'Creators a YouTube keyword search looks for unless told'),
    ('search_defaults', 'target_results_tiktok_similar', '50', 'number', 'Creators a TikTok similar search looks for unless told'),
    ('search_defaults', 'target_results_instagram_similar', '50', 'number', 'Creators an Instagram similar search looks for unless told'),
    ('search_defaults', 'target_results_youtube_similar', '50', 'number', 'Creators a YouTube similar search looks for unless told'),
    ('timing', 'continuation_delay_seconds', '2', 'duration', 'Delay between two steps of a search (SQS DelaySeconds)'),
    ('timing', 'job_timeout_minutes', '60', 'duration', 'A search still running this long after it started ends as timeout'),
    ('timing', 'stalled_after_seconds', '300', 'duration', 'A running search with no progress for this long is re-enqueued by the sweeper'),
    ('retention', 'completed_job_days', '30', 'duration', 'Completed searches and their creators are deleted after this many days'),
    ('retention', 'failed_job_days', '7', 'duration', 'Error, cancelled and timed-out searches are deleted after this many days'),
    ('enrichment', 'profile_concurrency', '5', 'number', 'Profile look-ups one step runs at once'),
    ('enrichment', 'instagram_profiles_per_step', '10', 'number', 'Related Instagram profiles enriched per step')
ON CONFLICT (category, key) DO NOTHING;
