-- Whether the stored address was verified by its owner (the token's `email_verified` claim) when
-- it was stored. Addresses stored before this are not known to be verified: an address the
-- deployment names as an admin's counts for the last-admin rule only once a verified one is
-- stored. A constant default: no table rewrite.
ALTER TABLE user_profiles ADD COLUMN email_verified boolean NOT NULL DEFAULT false;

-- Subscriptions are changed by verified Stripe events only. `stripe_event_at` is the creation
-- time of the newest event applied to the profile's subscription, so an older event delivered
-- late (Stripe does not promise order) does not undo a newer one.
ALTER TABLE user_profiles ADD COLUMN stripe_event_at timestamptz;

-- `customer.subscription.*` events find their user by the subscription's id.
CREATE INDEX idx_user_profiles_stripe_subscription ON user_profiles (stripe_subscription_id)
    WHERE stripe_subscription_id IS NOT NULL;

-- Every verified Stripe event received, once: Stripe delivers at least once (and retries for
-- three days), so an event id seen before is acknowledged and not applied again. `outcome` says
-- what it did, for the operator (`applied`, or why it changed nothing).
CREATE TABLE stripe_events (
    id           text PRIMARY KEY CHECK (char_length(id) BETWEEN 1 AND 255),
    type         text NOT NULL,
    created_at   timestamptz NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    outcome      text NOT NULL
);
