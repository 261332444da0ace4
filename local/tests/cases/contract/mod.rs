//! `template.yaml`, `openapi.yaml` and the local gateway describe the same routes, and every
//! route answers as `openapi.yaml` says: status codes documented, bodies valid against the schemas.
//!
//! The requests are data: each module's `CASES`, run in the order of [`ALL`] against one gateway
//! (later cases use what earlier ones created). Every case runs; the test then fails once,
//! listing each case that failed and why.

mod account;
mod admin;
mod campaigns;
mod case;
mod jobs;
mod onboarding;
mod routes;
mod schema;

use std::collections::BTreeSet;

use testkit::{Replay, TestDb, TestQueue};

use self::case::{Case, Vars};
use crate::common;

/// Every case, in the order they run.
const ALL: &[&[Case]] = &[
    onboarding::CASES,
    campaigns::CASES,
    jobs::CASES,
    account::CASES,
    campaigns::MANAGEMENT,
    admin::CASES,
];

fn all_cases() -> impl Iterator<Item = &'static Case> {
    ALL.iter().flat_map(|cases| cases.iter())
}

#[tokio::test]
async fn every_route_answers_as_described() {
    let db = TestDb::new().await;
    let (queue, replay) = (TestQueue::new(5).await, Replay::start().await);
    // user_a goes through onboarding in the cases; user_b only needs to be able to try a search.
    db.onboard(&[common::USER_B]).await;
    let api = common::serve(&db.url, db.pool.clone(), &queue, &replay).await;
    let spec = schema::yaml("openapi.yaml");
    let mut vars = Vars::new();
    let mut failures = Vec::new();
    for case in all_cases() {
        if let Err(why) = case.run(&api, &spec, &mut vars).await {
            failures.push(format!(
                "- {}: {} {}: {why}",
                case.name, case.method, case.path
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        all_cases().count(),
        failures.join("\n")
    );
}

#[test]
fn the_cases_reach_every_served_route_and_are_named_once() {
    let mut names = BTreeSet::new();
    let mut reached = BTreeSet::new();
    for case in all_cases() {
        assert!(names.insert(case.name), "two cases named {:?}", case.name);
        let path = Vars::placeholders().fill(case.path).unwrap();
        let path = path.split('?').next().unwrap();
        if let Some(route) = routes::served_route(case.method, path) {
            reached.insert((case.method, route));
        }
    }
    let unreached: Vec<String> = local::routes::ROUTES
        .iter()
        .filter(|(m, r, _)| !reached.contains(&(*m, *r)))
        .map(|(m, r, _)| format!("{m} {r}"))
        .collect();
    assert!(unreached.is_empty(), "no case for {unreached:?}");
}
