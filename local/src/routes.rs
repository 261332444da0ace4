//! The HTTP API's routes: the same list as `template.yaml` and `openapi.yaml` (a test keeps the
//! three in step).

/// `(method, path, function)` for every route.
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("POST", "/campaigns", "create-campaign"),
    ("GET", "/campaigns", "list-campaigns"),
    ("GET", "/campaigns/{campaignId}", "get-campaign"),
    ("PATCH", "/campaigns/{campaignId}", "update-campaign"),
    ("DELETE", "/campaigns/{campaignId}", "delete-campaign"),
    ("PATCH", "/onboarding/{step}", "onboarding-step"),
    ("GET", "/onboarding/status", "onboarding-status"),
    ("POST", "/scraping/{platform}", "start-scraping"),
    ("GET", "/jobs/{jobId}", "job-status"),
    ("DELETE", "/jobs/{jobId}", "cancel-job"),
    ("GET", "/jobs/{jobId}/creators.csv", "export-creators"),
    (
        "GET",
        "/campaigns/{campaignId}/creators.csv",
        "export-campaign-creators",
    ),
    ("GET", "/usage", "get-usage"),
    ("POST", "/billing/subscribe", "billing-subscribe"),
    ("POST", "/billing/stripe/webhook", "stripe-webhook"),
    ("GET", "/admin/users", "admin-list-users"),
    ("PUT", "/admin/users/{userId}/admin", "admin-set-admin"),
    ("GET", "/admin/config", "admin-list-config"),
    ("GET", "/admin/config/changes", "admin-config-changes"),
    ("GET", "/admin/config/{category}/{key}", "admin-get-config"),
    (
        "PUT",
        "/admin/config/{category}/{key}",
        "admin-update-config",
    ),
    (
        "DELETE",
        "/admin/config/{category}/{key}",
        "admin-reset-config",
    ),
    ("GET", "/admin/overview", "admin-overview"),
    ("GET", "/email/unsubscribe", "email-unsubscribe"),
    ("POST", "/email/unsubscribe", "email-unsubscribe"),
];

/// The routes without the JWT authorizer (`Auth: {Authorizer: NONE}` in the template): the
/// unsubscribe link in emails, which proves itself with its signed token, and Stripe's webhook,
/// which proves itself with its `Stripe-Signature`.
pub const PUBLIC: &[(&str, &str)] = &[
    ("GET", "/email/unsubscribe"),
    ("POST", "/email/unsubscribe"),
    ("POST", "/billing/stripe/webhook"),
];

/// Whether `method path` is served without a verified user.
pub fn is_public(method: &str, path: &str) -> bool {
    PUBLIC.iter().any(|&(m, p)| m == method && p == path)
}
