//! send-emails' one test binary (cargo builds each top-level `tests/*.rs` as its own).

mod cases {
    mod common;
    mod delivery;
    mod provider;
    mod schedule;
}
