-- `updated_at` is set to now() on every update unless the update itself sets it: operators (and
-- tests) can backdate a row, e.g. to replay what the sweeper does with a stalled search.
CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger AS $$
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at = now();
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
