-- The creators a search found. The original stored one row per step with an array of creators;
-- here each creator is its own row so that a page of results, the export and the "no creator twice
-- in one job" rule are index lookups rather than scans of growing arrays.
CREATE TABLE scraping_results (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id       uuid NOT NULL REFERENCES scraping_jobs (id) ON DELETE CASCADE,
    -- Discovery order within the job, 0-based and gap-free.
    position     integer NOT NULL CHECK (position >= 0),
    -- The step that found it; a repeated step is recognised by it.
    step         integer NOT NULL CHECK (step >= 0),
    -- Platform identity of the creator (lower-cased handle or channel id).
    creator_key  text NOT NULL,
    -- One creator in the shape the API returns: {creator, video, hashtags, platform, foundBy}.
    creators     jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (job_id, creator_key),
    UNIQUE (job_id, position)
);

CREATE INDEX idx_scraping_results_job ON scraping_results (job_id);
CREATE INDEX idx_scraping_results_created ON scraping_results (created_at);
