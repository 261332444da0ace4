//! The pipeline crate's one integration test binary.

mod cases {
    mod creator_api_logs;
    mod parsers_never_panic;
}
