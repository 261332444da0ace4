-- The onboarding and trial emails: one row per (user, email), so each is sent at most once.
-- `send-emails` claims due rows with FOR UPDATE SKIP LOCKED (two runs never claim the same row),
-- marks them `sending` with a lease before calling the provider, and records the outcome.
CREATE TABLE scheduled_emails (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id          text NOT NULL REFERENCES user_profiles (user_id) ON DELETE CASCADE,
    kind             text NOT NULL CHECK (kind IN
        ('welcome', 'abandonment_reminder', 'trial_day_2', 'trial_day_5', 'trial_expiry')),
    due_at           timestamptz NOT NULL,
    status           text NOT NULL DEFAULT 'scheduled'
        CHECK (status IN ('scheduled', 'sending', 'sent', 'skipped', 'failed')),
    -- Provider calls made so far; a transient failure schedules the next at `next_attempt_at`.
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  timestamptz NOT NULL,
    -- While `sending`: the claim's end. A run that crashed leaves the row to be claimed again after it.
    claimed_until    timestamptz,
    message_id       text,
    reason           text,
    finished_at      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, kind),
    CHECK (status <> 'sent' OR message_id IS NOT NULL),
    CHECK (status <> 'sending' OR claimed_until IS NOT NULL)
);

CREATE TRIGGER scheduled_emails_updated_at BEFORE UPDATE ON scheduled_emails
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- The sender's one query: what is due, or claimed by a run that never finished.
CREATE INDEX idx_scheduled_emails_due ON scheduled_emails (next_attempt_at)
    WHERE status = 'scheduled';
CREATE INDEX idx_scheduled_emails_claimed ON scheduled_emails (claimed_until)
    WHERE status = 'sending';

-- Reminders (abandonment, trial) stop after a one-click unsubscribe; the welcome email is
-- transactional and unaffected.
ALTER TABLE user_profiles ADD COLUMN reminders_unsubscribed_at timestamptz;

-- `user_profiles.email_schedule_status` is the seeds' view of the same rows
-- ({"welcome": {"status": "sent", "messageId": "...", "timestamp": "..."}, ...}); a trigger keeps
-- it equal to them, so no query has to remember it.
CREATE FUNCTION scheduled_email_view(e scheduled_emails) RETURNS jsonb AS $$
    SELECT jsonb_strip_nulls(CASE e.status
        WHEN 'sent' THEN jsonb_build_object('status', 'sent', 'messageId', e.message_id,
                                            'timestamp', e.finished_at)
        WHEN 'skipped' THEN jsonb_build_object('status', 'skipped', 'reason', e.reason,
                                               'timestamp', e.finished_at)
        WHEN 'failed' THEN jsonb_build_object('status', 'failed', 'reason', e.reason,
                                              'attempts', e.attempts, 'timestamp', e.finished_at)
        -- `sending` is shown as scheduled: the outcome is not known yet.
        ELSE jsonb_build_object('status', 'scheduled', 'dueAt', e.due_at,
                                'nextAttemptAt', CASE WHEN e.attempts > 0 THEN e.next_attempt_at END,
                                'attempts', NULLIF(e.attempts, 0), 'lastError', e.reason)
    END)
$$ LANGUAGE sql STABLE;

CREATE FUNCTION scheduled_emails_to_profile() RETURNS trigger AS $$
BEGIN
    UPDATE user_profiles
       SET email_schedule_status = email_schedule_status
                                   || jsonb_build_object(NEW.kind, scheduled_email_view(NEW))
     WHERE user_id = NEW.user_id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- Not on a claim (`sending`): the view shows the email scheduled until its outcome is known, and
-- the claim's transaction then locks no profile.
CREATE TRIGGER scheduled_emails_to_profile AFTER INSERT OR UPDATE ON scheduled_emails
    FOR EACH ROW WHEN (NEW.status <> 'sending') EXECUTE FUNCTION scheduled_emails_to_profile();

-- Schedules written before this migration (at onboarding completion, never sent) become rows;
-- trial users also get the trial-expiry email. An email more than a day overdue is recorded as
-- skipped rather than sent weeks late.
INSERT INTO scheduled_emails (user_id, kind, due_at, next_attempt_at, status, reason, finished_at)
SELECT p.user_id, s.key, (s.value ->> 'dueAt')::timestamptz, (s.value ->> 'dueAt')::timestamptz,
       CASE WHEN (s.value ->> 'dueAt')::timestamptz < now() - interval '1 day' THEN 'skipped' ELSE 'scheduled' END,
       CASE WHEN (s.value ->> 'dueAt')::timestamptz < now() - interval '1 day'
            THEN 'due before emails were sent' END,
       CASE WHEN (s.value ->> 'dueAt')::timestamptz < now() - interval '1 day' THEN now() END
  FROM user_profiles p, jsonb_each(p.email_schedule_status) s
 WHERE s.value ->> 'status' = 'scheduled'
   AND s.key IN ('welcome', 'abandonment_reminder', 'trial_day_2', 'trial_day_5')
   AND s.value ? 'dueAt'
ON CONFLICT (user_id, kind) DO NOTHING;

INSERT INTO scheduled_emails (user_id, kind, due_at, next_attempt_at)
SELECT user_id, 'trial_expiry', trial_end_date, trial_end_date
  FROM user_profiles
 WHERE trial_status = 'active' AND trial_end_date > now() - interval '1 day'
ON CONFLICT (user_id, kind) DO NOTHING;
