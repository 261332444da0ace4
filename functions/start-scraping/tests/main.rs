//! start-scraping's one test binary (cargo builds each top-level `tests/*.rs` as its own).

mod cases {
    mod limits;
    mod searches;
}
