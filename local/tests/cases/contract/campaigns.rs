//! Campaigns: creating one, what is refused, and (once its searches ran) changing and deleting it.

use super::case::{As::*, Case, Then::*};

const NEW: &str = r#"{"name": "x", "searchType": "keyword"}"#;

#[rustfmt::skip]
pub const CASES: &[Case] = &[
    Case::new("a campaign is created", A, "POST", "/campaigns", 201)
        .body(r#"{"name": "Contract", "searchType": "keyword"}"#)
        .then(&[Save("campaign", "/id")]),
    Case::new("an empty name is refused", A, "POST", "/campaigns", 400)
        .body(r#"{"name": ""}"#),
    Case::new("no token is unauthorized", Nobody, "POST", "/campaigns", 401)
        .body(NEW),
    Case::new("a token that is no JWT is unauthorized", Forged, "POST", "/campaigns", 401)
        .body(NEW),
    Case::new("a page over the limit is refused", A, "GET", "/campaigns?limit=500", 400),
    Case::new("another user's campaign is not found", B, "GET", "/campaigns/$campaign", 404),
    Case::new("a campaign id that is no UUID is refused", A, "GET", "/campaigns/not-a-uuid", 400),
];

const RENAMED: &str = r#"{"name": "Renamed", "status": "archived"}"#;

/// After the searches and the account cases: the campaign changed, then deleted.
#[rustfmt::skip]
pub const MANAGEMENT: &[Case] = &[
    Case::new("another user cannot change the campaign", B, "PATCH", "/campaigns/$campaign", 404)
        .body(RENAMED),
    Case::new("an empty change is refused", A, "PATCH", "/campaigns/$campaign", 400)
        .body("{}"),
    Case::new("the campaign is renamed and archived", A, "PATCH", "/campaigns/$campaign", 200)
        .body(RENAMED)
        .then(&[Equals("/status", r#""archived""#)]),
    Case::new("another user cannot delete the campaign", B, "DELETE", "/campaigns/$campaign", 404),
    Case::new("the campaign is deleted", A, "DELETE", "/campaigns/$campaign", 204),
    Case::new("a deleted campaign is not found", A, "GET", "/campaigns/$campaign", 404),
];
