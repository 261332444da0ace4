//! A slow, throttling or held-back provider, and a database that stops answering: each email is
//! still accepted by SES once, held-back sends spend no attempt, and no run hangs.

use std::time::Duration;

use testkit::{
    delay::{DelayProxy, Refusal},
    ses, FreezeProxy, TestApp,
};

use super::common::*;

/// 50 welcome emails due at once, through an SES that takes 5 s to answer each call, each
/// invocation given 60 s and stopped at its deadline as Lambda would, one invocation a minute
/// until every email is recorded: moto accepted each email exactly once.
#[tokio::test]
async fn fifty_emails_through_an_ses_answering_in_five_seconds_are_each_accepted_once_within_the_deadline(
) {
    let app = TestApp::builder().pool_size(4).build().await;
    let proxy = DelayProxy::start(&ses::endpoint(), Duration::from_secs(5)).await;
    let state = sender(&app, &proxy.base_url).await;
    let mut addresses = Vec::new();
    for i in 0..50 {
        let to = address();
        step(&app, &format!("user_{i:02}"), Some(&to), "step-1").await;
        addresses.push(to);
    }
    travel_all(&app, "11 minutes").await;

    let mut stopped = 0;
    for minute in 1.. {
        if invoke(&state, Duration::from_secs(60)).await.is_none() {
            stopped += 1;
        }
        let left = rows(&app, "welcome")
            .await
            .into_iter()
            .filter(|(status, ..)| status != "sent")
            .count();
        if left == 0 {
            break;
        }
        assert!(
            minute < 12,
            "{left} emails still unsent after {minute} minutes"
        );
        // The schedule's next minute.
        travel_all(&app, "1 minute").await;
    }

    let mut accepted = 0;
    let mut twice = Vec::new();
    for to in &addresses {
        let kinds = kinds_sent(to).await;
        accepted += kinds.len();
        if kinds != ["welcome"] {
            twice.push((to.clone(), kinds));
        }
    }
    assert_eq!(
        (accepted, twice.len()),
        (50, 0),
        "accepted by SES; not exactly once: {twice:?}; invocations stopped at their deadline: {stopped}"
    );
    assert_eq!(proxy.forwarded(), 50, "one call to SES per email");
}

/// With too little of the invocation left for a send and its record, nothing more is claimed:
/// each invocation ends by itself before its deadline, and the rest waits for the next minute.
#[tokio::test]
async fn a_run_claims_only_what_it_can_send_and_record_before_its_deadline() {
    let app = TestApp::builder().pool_size(4).build().await;
    let proxy = DelayProxy::start(&ses::endpoint(), Duration::from_secs(5)).await;
    let state = sender(&app, &proxy.base_url).await;
    let mut addresses = Vec::new();
    for i in 0..20 {
        let to = address();
        step(&app, &format!("user_{i:02}"), Some(&to), "step-1").await;
        addresses.push(to);
    }
    travel_all(&app, "11 minutes").await;

    // 27 s fit one round of sends (claim 6 s + send 10 s + record 6 s + 1 s), not two (the
    // first takes 5 s).
    let mut sent_per_run = Vec::new();
    while sent_per_run.iter().sum::<u64>() < 20 {
        let run = invoke(&state, Duration::from_secs(27))
            .await
            .expect("the run ended before its deadline");
        assert_eq!(
            (run.failed, run.retrying, run.lost_claims, run.released),
            (0, 0, 0, 0),
            "{run:?}"
        );
        sent_per_run.push(run.sent);
        assert!(sent_per_run.len() < 10, "{sent_per_run:?}");
        travel_all(&app, "1 minute").await;
    }
    assert_eq!(sent_per_run, [8, 8, 4], "one round of eight workers a run");
    for to in &addresses {
        assert_eq!(kinds_sent(to).await, ["welcome"], "{to}");
    }
}

/// SES's throttling, a spent daily quota and a paused account, answered by its HTTP edge before
/// moto takes the call: with one attempt allowed, the email is still sent, and its only counted
/// attempt is the one that went through.
#[tokio::test]
async fn throttling_a_spent_quota_and_a_paused_account_spend_no_attempts() {
    let app = TestApp::new().await;
    let proxy = DelayProxy::start(&ses::endpoint(), Duration::ZERO).await;
    proxy.refuse_next([
        Refusal::new(
            429,
            "TooManyRequestsException",
            "Maximum sending rate exceeded.",
        ),
        Refusal::new(
            400,
            "LimitExceededException",
            "Daily message quota exceeded.",
        ),
        Refusal::new(
            400,
            "SendingPausedException",
            "Sending is paused for this account.",
        ),
    ]);
    let state = sender(&app, &proxy.base_url).await;
    app.db.set_setting("max_attempts", "1").await;
    let to = address();
    step(&app, "user_a", Some(&to), "step-1").await;
    travel(&app, "user_a", "11 minutes").await;

    let mut reasons = Vec::new();
    // Each deferral's wait: 30 s after throttling, then 30 min and 1 h (15 min, doubling).
    for wait in ["31 seconds", "31 minutes", "61 minutes"] {
        let run = invoke(&state, Duration::from_secs(60))
            .await
            .expect("a run");
        assert_eq!(run.deferred, 1, "{run:?}");
        let (status, attempts, _, reason) = rows(&app, "welcome").await.remove(0);
        assert_eq!((status.as_str(), attempts), ("scheduled", 0));
        reasons.push(reason.unwrap_or_default());
        let welcome = &schedule(&app, "user_a").await["welcome"];
        assert!(welcome["nextAttemptAt"].is_string(), "{welcome}");
        assert_eq!(
            invoke(&state, Duration::from_secs(60)).await,
            Some(send_emails::Run::default()),
            "held back until its deferral has passed"
        );
        travel(&app, "user_a", wait).await;
    }
    assert_eq!(
        reasons,
        [
            "provider_throttled",
            "provider_quota_exceeded",
            "provider_paused"
        ]
    );
    let run = invoke(&state, Duration::from_secs(60))
        .await
        .expect("a run");
    assert_eq!(run.sent, 1, "{run:?}");
    assert_eq!(
        rows(&app, "welcome").await,
        [("sent".to_owned(), 1, 3, None)]
    );
    assert_eq!(kinds_sent(&to).await, ["welcome"]);
    assert_eq!((proxy.refused(), proxy.forwarded()), (3, 1));
}

/// A database that stops answering while sends are in flight (frozen: the connection stays
/// open, no byte moves) ends the run with an error instead of holding it until Lambda kills it.
#[tokio::test]
async fn a_database_that_stops_answering_mid_run_ends_the_run_with_an_error() {
    let app = TestApp::new().await;
    let frozen = FreezeProxy::start(app.db.server_addr()).await;
    let proxy = DelayProxy::start(&ses::endpoint(), Duration::from_secs(2)).await;
    let mut state = sender(&app, &proxy.base_url).await;
    state.pool = app.db.pool_via(frozen.addr());
    for i in 0..3 {
        step(&app, &format!("user_{i}"), Some(&address()), "step-1").await;
    }
    travel_all(&app, "11 minutes").await;

    let run = tokio::spawn(async move {
        // No deadline: only the sender's own bounds can end it.
        send_emails::send_due(&state, None).await
    });
    while proxy.forwarded() == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    frozen.freeze();
    // A guard against a hang, far above the sender's own bounds.
    let ended = tokio::time::timeout(Duration::from_secs(120), run).await;
    let result = ended.expect("the run ended by itself").expect("no panic");
    let error = result.expect_err("the run reports the database");
    assert!(format!("{error:#}").contains("did not answer"), "{error:#}");
}
