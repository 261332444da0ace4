-- Similar searches rank their creators by relevance to the target (0-100, see
-- shared/src/pipeline/search/similar.rs); their pages are read best first. Keyword searches
-- leave it null and keep discovery order.
ALTER TABLE scraping_results ADD COLUMN relevance real;

CREATE INDEX idx_scraping_results_relevance ON scraping_results (job_id, relevance DESC, position)
    WHERE relevance IS NOT NULL;
