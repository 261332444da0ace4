-- What a user may spend. Plans are the catalogue; their limits are settings (category `limits`,
-- one row per plan and limit, defined in shared/src/domain/settings.rs) so an operator can change
-- them without a deploy.
CREATE TABLE plans (
    id                   text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_]*$'),
    name                 text NOT NULL,
    monthly_price_cents  integer NOT NULL CHECK (monthly_price_cents >= 0),
    is_trial             boolean NOT NULL DEFAULT false,
    created_at           timestamptz NOT NULL DEFAULT now()
);

INSERT INTO plans (id, name, monthly_price_cents, is_trial) VALUES
    ('trial', 'Trial', 0, true),
    ('starter', 'Starter', 9900, false),
    ('pro', 'Pro', 29900, false)
ON CONFLICT (id) DO NOTHING;

-- The paid plan a user subscribed to (the trial applies while there is none).
ALTER TABLE user_profiles ADD COLUMN plan text REFERENCES plans (id);

-- Every creator-API call a search made (search pages, user searches, look-ups, retried calls).
ALTER TABLE scraping_jobs ADD COLUMN credits_used integer NOT NULL DEFAULT 0 CHECK (credits_used >= 0);
-- A search's deadline counts from when its first step runs; until then it is the queue deadline.
COMMENT ON COLUMN scraping_jobs.timeout_at IS 'queued: the latest start; running: started_at + timing.job_timeout';

-- Credits per user and billing period (the trial's window, or a calendar month of a paid plan),
-- added to in the same transaction as the search's own count.
CREATE TABLE credit_ledger (
    user_id       text NOT NULL,
    period_start  timestamptz NOT NULL,
    credits       bigint NOT NULL DEFAULT 0 CHECK (credits >= 0),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, period_start)
);

-- The start of the user's current billing period: the trial's start while trialing, else the
-- calendar month (UTC) of a paid plan.
CREATE FUNCTION billing_period_start(p_user text) RETURNS timestamptz AS $$
    SELECT CASE
        WHEN p.subscription_status = 'active' OR p.trial_start_date IS NULL
            THEN date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
        ELSE p.trial_start_date
    END
    FROM (SELECT NULL::int) AS one
    LEFT JOIN user_profiles p ON p.user_id = p_user
$$ LANGUAGE sql STABLE;

-- Answers of POST requests sent with an Idempotency-Key, kept 24 hours: the same key and body
-- get the first answer again; another body with the key is refused.
CREATE TABLE idempotency_keys (
    user_id       text NOT NULL,
    route         text NOT NULL,
    key           text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    request_hash  text NOT NULL,
    status_code   integer NOT NULL,
    response      jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, route, key)
);

CREATE INDEX idx_idempotency_keys_created ON idempotency_keys (created_at);
