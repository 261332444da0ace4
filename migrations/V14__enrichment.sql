-- Enrichment (a creator's own profile: bio, emails, audience) runs as its own messages, apart from
-- the page chain: a page's creators are stored as found, with `enrichment = 'pending'` where the
-- platform needs a look-up, and an enrichment message fills them in later.
--   pending  waiting for its look-up;
--   done     looked up, or needed none (every row stored before this migration);
--   skipped  not looked up: the search was cancelled, timed out or failed first, its credits ran
--            out, or every attempt failed.
--
-- scraping_results is the biggest table, and a migration holds its lock until it commits: nothing
-- here reads its rows. The defaults are constants (stored once, no rewrite), the CHECK is added
-- NOT VALID (new rows are checked, old ones are not scanned), and the online steps after this
-- version (crates/db/src/migrate/online.rs) validate it and build the partial index
-- idx_scraping_results_enrichment_pending CONCURRENTLY, with writes going on. The constraint's
-- name is the one PostgreSQL gave the column CHECK of this migration's first text, which
-- databases migrated before this rewrite have (crates/db/src/superseded/).
ALTER TABLE scraping_results
    ADD COLUMN enrichment text NOT NULL DEFAULT 'done',
    -- The delivery that holds the row's look-up, and until when.
    ADD COLUMN enrich_token uuid,
    ADD COLUMN enrich_lease_until timestamptz,
    -- Deliveries that claimed the row; bounded, so a row whose look-up keeps failing ends skipped.
    ADD COLUMN enrich_attempts smallint NOT NULL DEFAULT 0,
    -- When its enrichment message was sent (null: not yet, the sweeper sends it).
    ADD COLUMN enrich_enqueued_at timestamptz,
    ADD CONSTRAINT scraping_results_enrichment_check
        CHECK (enrichment IN ('pending', 'done', 'skipped')) NOT VALID;

-- A search that stops (cancelled, timed out, failed) stops its pending look-ups in the same
-- transaction: no later delivery can claim them, so nothing is paid for after the stop commits.
CREATE OR REPLACE FUNCTION skip_pending_enrichment() RETURNS trigger AS $$
BEGIN
    UPDATE scraping_results SET enrichment = 'skipped', enrich_token = NULL, enrich_lease_until = NULL
     WHERE job_id = NEW.id AND enrichment = 'pending';
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER scraping_jobs_stop_enrichment AFTER UPDATE OF status ON scraping_jobs
    FOR EACH ROW WHEN (NEW.status IN ('cancelled', 'timeout', 'error') AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION skip_pending_enrichment();

-- The delivery (lease token) that applied the job's latest step: an attempt whose commit timed
-- out client-side learns from it whether the commit landed (and charged its calls) after all.
ALTER TABLE scraping_jobs ADD COLUMN applied_by uuid;
