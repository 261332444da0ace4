-- A creator whose profile look-up was not made says so where users read it: its stored JSON (what
-- `GET /jobs/{jobId}` answers and the exports read) carries `"enrichment": "skipped"` as soon as
-- the row is `skipped`. The worker's statements write the mark with the state; this function, run
-- when a search stops, does too. Only the function changes: no statement here touches the rows
-- or the constraints of `scraping_results`, so the migration takes no lock on that table.
CREATE OR REPLACE FUNCTION skip_pending_enrichment() RETURNS trigger AS $$
BEGIN
    UPDATE scraping_results
       SET enrichment = 'skipped', enrich_token = NULL, enrich_lease_until = NULL,
           creators = creators || '{"enrichment": "skipped"}'::jsonb
     WHERE job_id = NEW.id AND enrichment = 'pending';
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
