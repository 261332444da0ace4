-- The end of the user's current billing period, beside its start (V10, same cases): the trial's
-- end while trialing, else the first of the next calendar month (UTC). With both bounds here the
-- period is computed in one place, the database, where the ledger is keyed by its start.
CREATE FUNCTION billing_period_end(p_user text) RETURNS timestamptz AS $$
    SELECT CASE
        WHEN p.subscription_status = 'active' OR p.trial_start_date IS NULL OR p.trial_end_date IS NULL
            THEN (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC'
        ELSE p.trial_end_date
    END
    FROM (SELECT NULL::int) AS one
    LEFT JOIN user_profiles p ON p.user_id = p_user
$$ LANGUAGE sql STABLE;
