-- A campaign groups the searches a brand runs for one purpose.
-- No foreign key to user_profiles: a campaign is owned by a Clerk user id, and users may exist in
-- Clerk before (or without) a profile row.
CREATE TABLE campaigns (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      text NOT NULL,
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    description  text CHECK (description IS NULL OR char_length(description) <= 500),
    search_type  text NOT NULL CHECK (search_type IN ('keyword', 'similar')),
    status       text NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'active', 'completed', 'archived')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER campaigns_updated_at BEFORE UPDATE ON campaigns
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Listing a user's campaigns newest first is the dashboard's main query.
CREATE INDEX idx_campaigns_user_created ON campaigns (user_id, created_at DESC, id DESC);
