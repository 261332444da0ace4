-- When a search's latest step message was sent: until it can no longer be in the queue (its
-- delay, then every delivery's visibility timeout), the sweeper does not send it again, which
-- would reset SQS's receive count and multiply the retries.
ALTER TABLE scraping_jobs ADD COLUMN enqueued_at timestamptz;
