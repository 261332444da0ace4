-- The original application's legacy `search_jobs` / `search_results`, column for column (names,
-- types, defaults, keys), so its rows load as they are. Nothing in this product writes to them;
-- V6 had given them another shape, and they were empty.
DROP TABLE search_results;
DROP TABLE search_jobs;

CREATE TABLE search_jobs (
    id               text PRIMARY KEY,
    campaign_id      uuid REFERENCES campaigns (id),
    platform         varchar(20) NOT NULL,
    search_type      varchar(20) NOT NULL,
    status           varchar(20) NOT NULL DEFAULT 'queued',
    total_count      integer NOT NULL,
    completed_count  integer NOT NULL DEFAULT 0,
    created_at       timestamp NOT NULL DEFAULT now(),
    updated_at       timestamp NOT NULL DEFAULT now(),
    completed_at     timestamp
);

CREATE TABLE search_results (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    job_id            text NOT NULL REFERENCES search_jobs (id),
    profile_id        text NOT NULL,
    username          text NOT NULL,
    display_name      text,
    platform          varchar(20) NOT NULL,
    profile_url       text,
    post_url          text,
    post_description  text,
    avatar_url        text,
    followers         integer DEFAULT 0,
    is_verified       varchar(10) DEFAULT 'false',
    email             text,
    bio               text,
    raw_data          jsonb,
    created_at        timestamp NOT NULL DEFAULT now()
);

-- Deleting a campaign (DELETE /campaigns/{id}) deletes its legacy rows explicitly: the original's
-- foreign keys have no ON DELETE action, and are kept that way.
CREATE INDEX idx_search_jobs_campaign ON search_jobs (campaign_id);
CREATE INDEX idx_search_results_job ON search_results (job_id);
