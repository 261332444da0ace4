-- Tables of the first search implementation, kept so historical searches stay readable.
-- Nothing new writes to them.
CREATE TABLE search_jobs (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       text NOT NULL,
    platform      text NOT NULL CHECK (platform IN ('TikTok', 'Instagram', 'YouTube')),
    keywords      jsonb,
    status        text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'processing', 'completed', 'error', 'timeout', 'cancelled')),
    total_results integer NOT NULL DEFAULT 0,
    error         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER search_jobs_updated_at BEFORE UPDATE ON search_jobs
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE INDEX idx_search_jobs_user ON search_jobs (user_id, created_at DESC);

CREATE TABLE search_results (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    job_id      uuid NOT NULL REFERENCES search_jobs (id) ON DELETE CASCADE,
    data        jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX idx_search_results_job ON search_results (job_id);
