-- A search: a background job that pages through the creator API one step (one SQS message) at a time.
CREATE TABLE scraping_jobs (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id            text NOT NULL,
    -- Deleting a campaign deletes its searches and (through scraping_results) their creators.
    campaign_id        uuid NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    platform           text NOT NULL CHECK (platform IN ('TikTok', 'Instagram', 'YouTube')),
    search_type        text NOT NULL CHECK (search_type IN ('keyword', 'similar')),
    keywords           jsonb CHECK (keywords IS NULL OR jsonb_typeof(keywords) = 'array'),
    target_username    text,
    region             text,
    target_results     integer NOT NULL CHECK (target_results BETWEEN 1 AND 1000),
    status             text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'processing', 'completed', 'error', 'timeout', 'cancelled')),
    -- Steps applied so far; a queue message names the step it carries, so a stale or repeated
    -- message is recognised by comparing the two.
    processed_runs     integer NOT NULL DEFAULT 0 CHECK (processed_runs >= 0),
    processed_results  integer NOT NULL DEFAULT 0 CHECK (processed_results >= 0),
    progress           integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    -- Paging state of the current search (API cursor, continuation token, keyword index, ...).
    cursor             jsonb NOT NULL DEFAULT '{}'::jsonb,
    error              text,
    -- Why a completed job stopped: target_reached, results_exhausted, api_limit_reached.
    completion_reason  text,
    queue_message_id   text,
    -- Highest step whose queue message was sent and recorded; a step committed but never
    -- enqueued (crash between commit and send) shows as enqueued_step < processed_runs.
    enqueued_step      integer NOT NULL DEFAULT -1,
    -- A worker holds the lease while it calls the creator API, so a duplicate delivery of the same
    -- step does not pay for the same page twice. The lease outlives no visibility timeout.
    lease_token        uuid,
    lease_expires_at   timestamptz,
    timeout_at         timestamptz NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    started_at         timestamptz,
    completed_at       timestamptz,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (search_type <> 'keyword' OR jsonb_array_length(keywords) > 0),
    CHECK (search_type <> 'similar' OR target_username IS NOT NULL),
    CHECK ((status IN ('completed', 'error', 'timeout', 'cancelled')) = (completed_at IS NOT NULL))
);

CREATE TRIGGER scraping_jobs_updated_at BEFORE UPDATE ON scraping_jobs
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE INDEX idx_scraping_jobs_status ON scraping_jobs (status);
CREATE INDEX idx_scraping_jobs_platform ON scraping_jobs (platform);
CREATE INDEX idx_scraping_jobs_user_campaign ON scraping_jobs (user_id, campaign_id, created_at DESC);
CREATE INDEX idx_scraping_jobs_campaign_created ON scraping_jobs (campaign_id, created_at DESC);
CREATE INDEX idx_scraping_jobs_keywords ON scraping_jobs USING gin (keywords);
-- The sweeper scans only unfinished jobs.
CREATE INDEX idx_scraping_jobs_active ON scraping_jobs (updated_at)
    WHERE status IN ('pending', 'processing');
