-- One row per Clerk user: onboarding progress, trial and billing state.
-- `user_id` is Clerk's id (the JWT `sub`); every other table refers to users by it.

-- Keeps `updated_at` current on every table that has one, so no query has to remember it.
CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger AS $$
BEGIN
    NEW.updated_at = now();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TABLE user_profiles (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id                 text NOT NULL UNIQUE CHECK (char_length(user_id) BETWEEN 1 AND 255),
    email                   text,
    -- Legacy profile fields, kept for accounts created before step-by-step onboarding.
    name                    text,
    company_name            text,
    industry                text,
    onboarding_step         text NOT NULL DEFAULT 'pending'
        CHECK (onboarding_step IN ('pending', 'info_captured', 'intent_captured', 'completed')),
    full_name               text,
    business_name           text,
    brand_description       text,
    signup_timestamp        timestamptz NOT NULL DEFAULT now(),
    -- {"welcome": {"status": "scheduled", "dueAt": "..."}, ...}: emails the onboarding scheduled.
    email_schedule_status   jsonb NOT NULL DEFAULT '{}'::jsonb,
    trial_start_date        timestamptz,
    trial_end_date          timestamptz,
    trial_status            text NOT NULL DEFAULT 'pending'
        CHECK (trial_status IN ('pending', 'active', 'expired', 'cancelled', 'converted')),
    stripe_customer_id      text,
    stripe_subscription_id  text,
    subscription_status     text NOT NULL DEFAULT 'none'
        CHECK (subscription_status IN ('none', 'trialing', 'active', 'past_due', 'canceled', 'unpaid')),
    is_admin                boolean NOT NULL DEFAULT false,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CHECK (trial_end_date IS NULL OR trial_start_date IS NULL OR trial_end_date > trial_start_date)
);

CREATE TRIGGER user_profiles_updated_at BEFORE UPDATE ON user_profiles
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Billing jobs look users up by trial state, by trial window and by Stripe customer.
CREATE INDEX idx_user_profiles_trial_status ON user_profiles (trial_status);
CREATE INDEX idx_user_profiles_trial_dates ON user_profiles (trial_start_date, trial_end_date);
CREATE INDEX idx_user_profiles_stripe_customer ON user_profiles (stripe_customer_id)
    WHERE stripe_customer_id IS NOT NULL;
-- Admins are a handful of rows: partial indexes keep the admin screens' lookups tiny.
CREATE INDEX idx_user_profiles_admins ON user_profiles (is_admin) WHERE is_admin;
CREATE INDEX idx_user_profiles_admin_details ON user_profiles (user_id, email, full_name) WHERE is_admin;
