-- Settings are typed and edited through the admin API (shared/src/domain/settings.rs defines each
-- one; `migrate` seeds any that are missing from there). Durations are written as durations
-- ('2s', '60m', '30d'), so keys no longer carry a unit and plain numbers mean seconds.
UPDATE system_configurations SET key = 'continuation_delay',
       value = CASE WHEN value ~ '^[0-9]+$' THEN value || 's' ELSE value END
 WHERE category = 'timing' AND key = 'continuation_delay_seconds';
UPDATE system_configurations SET key = 'job_timeout',
       value = CASE WHEN value ~ '^[0-9]+$' THEN value || 'm' ELSE value END
 WHERE category = 'timing' AND key = 'job_timeout_minutes';
UPDATE system_configurations SET key = 'stalled_after',
       value = CASE WHEN value ~ '^[0-9]+$' THEN value || 's' ELSE value END
 WHERE category = 'timing' AND key = 'stalled_after_seconds';
UPDATE system_configurations SET key = 'completed_jobs',
       value = CASE WHEN value ~ '^[0-9]+$' THEN value || 'd' ELSE value END
 WHERE category = 'retention' AND key = 'completed_job_days';
UPDATE system_configurations SET key = 'failed_jobs',
       value = CASE WHEN value ~ '^[0-9]+$' THEN value || 'd' ELSE value END
 WHERE category = 'retention' AND key = 'failed_job_days';

-- Every change made through the admin API: who changed what, from what, to what, and when.
-- Kept when a setting is reset (the reset is a change too).
CREATE TABLE system_configuration_changes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    category    text NOT NULL,
    key         text NOT NULL,
    old_value   text,
    new_value   text NOT NULL,
    changed_by  text NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX idx_system_configuration_changes_at ON system_configuration_changes (changed_at DESC, id DESC);
