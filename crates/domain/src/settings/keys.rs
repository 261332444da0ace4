//! The setting keys, grouped as they are stored (by category). Every key has a definition: the
//! match in [`Key::definition`] and the category functions below are exhaustive.

use super::{duration, number, Definition, DAY, MINUTE, SECOND};
use crate::{email::EmailKind, plan::Plan, search::SearchKind};

/// Every setting, by name. A setting that is read must be defined (it would not compile
/// otherwise), and the keys of a kind of search or of a plan exist only for the searches and
/// plans the product has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    /// `api_limits`: search-API calls (steps) one search of this kind may make.
    MaxApiCalls(SearchKind),
    /// `search_defaults`: creators a search of this kind looks for unless told.
    TargetResults(SearchKind),
    /// `timing`.
    Timing(Timing),
    /// `retention`: how long finished searches are kept.
    Retention(Retention),
    /// `enrichment`.
    Enrichment(Enrichment),
    /// `email`: how long after its anchor an email is due.
    EmailDelay(EmailKind),
    /// `email`: provider calls one email may take.
    EmailMaxAttempts,
    /// `limits`: one of a plan's limits.
    Limit(Plan, Limit),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timing {
    ContinuationDelay,
    JobTimeout,
    StalledAfter,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Retention {
    Completed,
    Failed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Enrichment {
    ProfileConcurrency,
    InstagramProfilesPerStep,
}

/// The limits each plan has (settings `limits.<limit>_<plan>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Limit {
    MaxRunningSearches,
    PeriodCredits,
    CreditsPerSearch,
}

impl Key {
    /// Every key, in the order the admin API lists them. A test checks that each key's
    /// definition is found again under its own name, so none is listed twice or left out of
    /// the seed.
    pub const ALL: [Key; 32] = [
        Key::MaxApiCalls(SearchKind::TikTokKeyword),
        Key::MaxApiCalls(SearchKind::YouTubeKeyword),
        Key::MaxApiCalls(SearchKind::TikTokSimilar),
        Key::MaxApiCalls(SearchKind::InstagramSimilar),
        Key::MaxApiCalls(SearchKind::YouTubeSimilar),
        Key::TargetResults(SearchKind::TikTokKeyword),
        Key::TargetResults(SearchKind::YouTubeKeyword),
        Key::TargetResults(SearchKind::TikTokSimilar),
        Key::TargetResults(SearchKind::InstagramSimilar),
        Key::TargetResults(SearchKind::YouTubeSimilar),
        Key::Timing(Timing::ContinuationDelay),
        Key::Timing(Timing::JobTimeout),
        Key::Timing(Timing::StalledAfter),
        Key::Retention(Retention::Completed),
        Key::Retention(Retention::Failed),
        Key::Enrichment(Enrichment::ProfileConcurrency),
        Key::Enrichment(Enrichment::InstagramProfilesPerStep),
        Key::EmailDelay(EmailKind::Welcome),
        Key::EmailDelay(EmailKind::AbandonmentReminder),
        Key::EmailDelay(EmailKind::TrialDay2),
        Key::EmailDelay(EmailKind::TrialDay5),
        Key::EmailDelay(EmailKind::TrialExpiry),
        Key::EmailMaxAttempts,
        Key::Limit(Plan::Trial, Limit::MaxRunningSearches),
        Key::Limit(Plan::Starter, Limit::MaxRunningSearches),
        Key::Limit(Plan::Pro, Limit::MaxRunningSearches),
        Key::Limit(Plan::Trial, Limit::PeriodCredits),
        Key::Limit(Plan::Starter, Limit::PeriodCredits),
        Key::Limit(Plan::Pro, Limit::PeriodCredits),
        Key::Limit(Plan::Trial, Limit::CreditsPerSearch),
        Key::Limit(Plan::Starter, Limit::CreditsPerSearch),
        Key::Limit(Plan::Pro, Limit::CreditsPerSearch),
    ];

    /// The key's definition: its stored name, type, range, default and description.
    pub const fn definition(self) -> Definition {
        match self {
            Key::MaxApiCalls(kind) => max_api_calls(kind),
            Key::TargetResults(kind) => target_results(kind),
            Key::Timing(key) => timing(key),
            Key::Retention(key) => retention(key),
            Key::Enrichment(key) => enrichment(key),
            Key::EmailDelay(kind) => email_delay(kind),
            Key::EmailMaxAttempts => number( "email", "max_attempts", "5", (1, 20), "Provider calls one email may take (throttling and server errors are retried with backoff) before it is failed", ),
            Key::Limit(plan, Limit::MaxRunningSearches) => max_running_searches(plan),
            Key::Limit(plan, Limit::PeriodCredits) => period_credits(plan),
            Key::Limit(plan, Limit::CreditsPerSearch) => credits_per_search(plan),
        }
    }
}

/// `api_limits.max_api_calls_<kind>`.
const fn max_api_calls(kind: SearchKind) -> Definition {
    match kind {
        SearchKind::TikTokKeyword => number(
            "api_limits",
            "max_api_calls_tiktok_keyword",
            "50",
            (1, 10_000),
            "Search pages one TikTok keyword search may request",
        ),
        SearchKind::YouTubeKeyword => number(
            "api_limits",
            "max_api_calls_youtube_keyword",
            "50",
            (1, 10_000),
            "Search pages one YouTube keyword search may request",
        ),
        SearchKind::TikTokSimilar => number(
            "api_limits",
            "max_api_calls_tiktok_similar",
            "20",
            (1, 10_000),
            "User searches one TikTok similar search may request",
        ),
        SearchKind::InstagramSimilar => number(
            "api_limits",
            "max_api_calls_instagram_similar",
            "20",
            (1, 10_000),
            "Steps one Instagram similar search may run",
        ),
        SearchKind::YouTubeSimilar => number(
            "api_limits",
            "max_api_calls_youtube_similar",
            "20",
            (1, 10_000),
            "Search pages one YouTube similar search may request",
        ),
    }
}
/// `search_defaults.target_results_<kind>`.
const fn target_results(kind: SearchKind) -> Definition {
    match kind {
        SearchKind::TikTokKeyword => number(
            "search_defaults",
            "target_results_tiktok_keyword",
            "100",
            (1, 1_000),
            "Creators a TikTok keyword search looks for unless told",
        ),
        SearchKind::YouTubeKeyword => number(
            "search_defaults",
            "target_results_youtube_keyword",
            "100",
            (1, 1_000),
            "Creators a YouTube keyword search looks for unless told",
        ),
        SearchKind::TikTokSimilar => number(
            "search_defaults",
            "target_results_tiktok_similar",
            "50",
            (1, 1_000),
            "Creators a TikTok similar search looks for unless told",
        ),
        SearchKind::InstagramSimilar => number(
            "search_defaults",
            "target_results_instagram_similar",
            "50",
            (1, 1_000),
            "Creators an Instagram similar search looks for unless told",
        ),
        SearchKind::YouTubeSimilar => number(
            "search_defaults",
            "target_results_youtube_similar",
            "50",
            (1, 1_000),
            "Creators a YouTube similar search looks for unless told",
        ),
    }
}
/// `timing.*`.
const fn timing(key: Timing) -> Definition {
    match key {
        Timing::ContinuationDelay => duration( "timing", "continuation_delay", "2s", (0, 15 * MINUTE), "Delay between two steps of a search (SQS DelaySeconds: whole seconds, at most 15 minutes)", ),
        Timing::JobTimeout => duration( "timing", "job_timeout", "60m", (MINUTE, 7 * DAY), "A search still running this long after it started ends as timeout", ),
        Timing::StalledAfter => duration( "timing", "stalled_after", "300s", (30 * SECOND, DAY), "A running search with no progress for this long is re-enqueued by the sweeper", ),
    }
}
/// `retention.*`.
const fn retention(key: Retention) -> Definition {
    match key {
        Retention::Completed => duration( "retention", "completed_jobs", "30d", (DAY, 3_650 * DAY), "Completed, cancelled and timed-out searches and their creators are deleted this long after they ended", ),
        Retention::Failed => duration( "retention", "failed_jobs", "7d", (DAY, 3_650 * DAY), "Searches that ended in error are deleted this long after they ended", ),
    }
}
/// `enrichment.*`.
const fn enrichment(key: Enrichment) -> Definition {
    match key {
        Enrichment::ProfileConcurrency => number(
            "enrichment",
            "profile_concurrency",
            "5",
            (1, 20),
            "Creators one enrichment message looks up, all at once",
        ),
        Enrichment::InstagramProfilesPerStep => number(
            "enrichment",
            "instagram_profiles_per_step",
            "10",
            (1, 50),
            "Related Instagram profiles one step stores (each then looked up by enrichment)",
        ),
    }
}
/// `email.<email>_delay`.
const fn email_delay(kind: EmailKind) -> Definition {
    match kind {
        EmailKind::Welcome => duration( "email", "welcome_delay", "10m", (0, 7 * DAY), "The welcome email is sent this long after onboarding step 1 is first saved", ),
        EmailKind::AbandonmentReminder => duration( "email", "abandonment_delay", "2h", (MINUTE, 30 * DAY), "The onboarding reminder is sent this long after step 1, to users who have not completed onboarding", ),
        EmailKind::TrialDay2 => duration( "email", "trial_day_2_delay", "2d", (0, 30 * DAY), "The first trial reminder is sent this long after the trial starts, if still trialing", ),
        EmailKind::TrialDay5 => duration( "email", "trial_day_5_delay", "5d", (0, 30 * DAY), "The second trial reminder is sent this long after the trial starts, if still trialing", ),
        EmailKind::TrialExpiry => duration( "email", "trial_expiry_delay", "7d", (0, 30 * DAY), "The trial-expiry email is sent this long after the trial starts (the trial's length), unless the user subscribed", ),
    }
}
/// `limits.max_running_searches_<plan>`.
const fn max_running_searches(plan: Plan) -> Definition {
    match plan {
        Plan::Trial => number(
            "limits",
            "max_running_searches_trial",
            "3",
            (1, 100),
            "Searches a trial user may have running at once",
        ),
        Plan::Starter => number(
            "limits",
            "max_running_searches_starter",
            "3",
            (1, 100),
            "Searches a Starter user may have running at once",
        ),
        Plan::Pro => number(
            "limits",
            "max_running_searches_pro",
            "5",
            (1, 100),
            "Searches a Pro user may have running at once",
        ),
    }
}
/// `limits.period_credits_<plan>`.
const fn period_credits(plan: Plan) -> Definition {
    match plan {
        Plan::Trial => number(
            "limits",
            "period_credits_trial",
            "2000",
            (0, 100_000_000),
            "Creator-API credits a user may spend during the trial",
        ),
        Plan::Starter => number(
            "limits",
            "period_credits_starter",
            "10000",
            (0, 100_000_000),
            "Creator-API credits a Starter user may spend per calendar month",
        ),
        Plan::Pro => number(
            "limits",
            "period_credits_pro",
            "50000",
            (0, 100_000_000),
            "Creator-API credits a Pro user may spend per calendar month",
        ),
    }
}
/// `limits.credits_per_search_<plan>`.
const fn credits_per_search(plan: Plan) -> Definition {
    match plan {
        Plan::Trial => number("limits", "credits_per_search_trial", "1200", (1, 1_000_000), "Creator-API credits one search of a trial user may spend (1,000 creators, each looked up, need about 1,040)"),
        Plan::Starter => number("limits", "credits_per_search_starter", "1200", (1, 1_000_000), "Creator-API credits one search of a Starter user may spend"),
        Plan::Pro => number("limits", "credits_per_search_pro", "1200", (1, 1_000_000), "Creator-API credits one search of a Pro user may spend"),
    }
}
