-- Emails held back by the provider's account (throttling, the daily quota, a paused account) are
-- tried again later without counting an attempt; `deferrals` counts those holds, for their backoff.
ALTER TABLE scheduled_emails ADD COLUMN deferrals integer NOT NULL DEFAULT 0;
ALTER TABLE scheduled_emails ADD CONSTRAINT scheduled_emails_deferrals_check CHECK (deferrals >= 0);

-- A scheduled email's next attempt is shown whenever it is later than the due time (a deferred
-- email has no attempt yet but is not due at `dueAt` any more).
CREATE OR REPLACE FUNCTION scheduled_email_view(e scheduled_emails) RETURNS jsonb AS $$
    SELECT jsonb_strip_nulls(CASE e.status
        WHEN 'sent' THEN jsonb_build_object('status', 'sent', 'messageId', e.message_id,
                                            'timestamp', e.finished_at)
        WHEN 'skipped' THEN jsonb_build_object('status', 'skipped', 'reason', e.reason,
                                               'timestamp', e.finished_at)
        WHEN 'failed' THEN jsonb_build_object('status', 'failed', 'reason', e.reason,
                                              'attempts', e.attempts, 'timestamp', e.finished_at)
        -- `sending` is shown as scheduled: the outcome is not known yet.
        ELSE jsonb_build_object('status', 'scheduled', 'dueAt', e.due_at,
                                'nextAttemptAt', CASE WHEN e.next_attempt_at > e.due_at
                                                      THEN e.next_attempt_at END,
                                'attempts', NULLIF(e.attempts, 0), 'lastError', e.reason)
    END)
$$ LANGUAGE sql STABLE;

-- Failures and retries now keep a short reason code (`provider_throttled`, `invalid_address`, ...);
-- the provider's text goes to the logs only. Rows written before keep the provider's text: it
-- becomes the nearest code (the trigger rewrites the users' schedules with it).
UPDATE scheduled_emails
   SET reason = CASE
           WHEN reason ILIKE '%TooManyRequests%' OR reason ILIKE '%Throttl%'
                OR reason ILIKE '%maximum sending rate%' THEN 'provider_throttled'
           WHEN reason ILIKE '%LimitExceeded%' OR reason ILIKE '%quota%' THEN 'provider_quota_exceeded'
           WHEN reason ILIKE '%SendingPaused%' OR reason ILIKE '%AccountSuspended%' THEN 'provider_paused'
           WHEN reason ILIKE '%illegal address%' OR reason ILIKE '%missing final%'
                OR reason ILIKE '%invalid address%' OR reason ILIKE '%missing domain%' THEN 'invalid_address'
           WHEN reason ILIKE 'could not render%' THEN 'render_failed'
           WHEN reason ILIKE 'scheduled email % has an unreadable%' THEN 'unreadable'
           WHEN reason ILIKE '%timeout%' OR reason ILIKE '%timed out%' OR reason ILIKE '%dispatch failure%'
                OR reason ILIKE '%Unavailable%' OR reason ILIKE '%InternalFailure%'
                OR reason ILIKE '%without a message id%' THEN 'provider_unavailable'
           ELSE 'provider_rejected'
       END
 WHERE reason IS NOT NULL AND status IN ('failed', 'scheduled', 'sending');
