//! process-scraping's one test binary (cargo builds each top-level `tests/*.rs` as its own): the
//! suites in `cases/`, each over a whole search stack ([`common::Stack`]).

mod common;

mod cases {
    mod admin;
    mod chaos;
    mod credits;
    mod enrichment;
    mod failures;
    mod journeys;
    mod refusals;
    mod time_budget;
}
