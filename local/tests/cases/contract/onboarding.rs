//! Onboarding: its steps in and out of order, and its status before and after.

use super::case::{As::*, Case};

/// A brand description long enough for step 2 (50 characters at least).
const BRAND: &str =
    r#"{"brandDescription": "We build small steam engines for makers, schools and museums."}"#;

#[rustfmt::skip]
pub const CASES: &[Case] = &[
    Case::new("step 2 before step 1 is a conflict", A, "PATCH", "/onboarding/step-2", 409)
        .body(BRAND),
    Case::new("no status before step 1", A, "GET", "/onboarding/status", 404),
    Case::new("step 1 takes the names", A, "PATCH", "/onboarding/step-1", 200)
        .body(r#"{"fullName": "Ada", "businessName": "Engines"}"#),
    Case::new("step 2 refuses a short description", A, "PATCH", "/onboarding/step-2", 400)
        .body(r#"{"brandDescription": "short"}"#),
    Case::new("step 2 takes the description", A, "PATCH", "/onboarding/step-2", 200)
        .body(BRAND),
    Case::new("onboarding completes", A, "PATCH", "/onboarding/complete", 200)
        .body("{}"),
    Case::new("an unknown step is not found", A, "PATCH", "/onboarding/step-9", 404)
        .body("{}"),
    Case::new("the status once completed", A, "GET", "/onboarding/status", 200),
];
