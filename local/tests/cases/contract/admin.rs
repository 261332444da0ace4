//! The admin routes: user_a is named by `ADMIN_USER_IDS`, user_b is no admin.

use super::case::{As::*, Case, Then::*};

const DELAY: &str = "/admin/config/timing/continuation_delay";
const USER_C: &str = "/admin/users/user_c/admin";

#[rustfmt::skip]
pub const CASES: &[Case] = &[
    Case::new("no admin cannot list admins", B, "GET", "/admin/users?admin=true", 403),
    Case::new("the admins are listed", A, "GET", "/admin/users?admin=true", 200),
    Case::new("no admin cannot make an admin", B, "PUT", USER_C, 403).body(r#"{"isAdmin": true}"#),
    Case::new("user_c is made an admin", A, "PUT", USER_C, 200).body(r#"{"isAdmin": true}"#),
    Case::new("no admin cannot list the settings", B, "GET", "/admin/config", 403),
    Case::new("the settings are listed", A, "GET", "/admin/config", 200),
    Case::new("no admin cannot read a setting", B, "GET", DELAY, 403),
    Case::new("a setting is read", A, "GET", DELAY, 200),
    Case::new("no admin cannot change a setting", B, "PUT", DELAY, 403).body(r#"{"value": "3s"}"#),
    Case::new("a setting is changed", A, "PUT", DELAY, 200).body(r#"{"value": "3s"}"#),
    Case::new("no admin cannot reset a setting", B, "DELETE", DELAY, 403),
    Case::new("a setting is reset", A, "DELETE", DELAY, 200),
    Case::new("no admin cannot read the changes", B, "GET", "/admin/config/changes", 403),
    Case::new("the changes are read", A, "GET", "/admin/config/changes", 200),
    Case::new("no admin cannot read the overview", B, "GET", "/admin/overview", 403),
    Case::new("the overview is read", A, "GET", "/admin/overview", 200),
    Case::new("a value out of range is refused", A, "PUT", DELAY, 400).body(r#"{"value": "16m"}"#),
    Case::new("an unknown setting is not found", A, "GET", "/admin/config/timing/nope", 404),
    Case::new("the change and the reset are recorded", A, "GET",
        "/admin/config/changes?limit=1", 200)
        .then(&[Equals("/pagination/total", "2")]),
    Case::new("user_c is listed first", A, "GET", "/admin/users", 200)
        .then(&[Equals("/users/0/userId", r#""user_c""#)]),
];
