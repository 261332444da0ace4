//! Who gets which email, when: each row of the schedule, sent or skipped and why.

use testkit::{ses, TestApp};

use super::common::*;

#[tokio::test]
async fn the_welcome_email_goes_out_ten_minutes_after_step_one_and_not_before() {
    let app = TestApp::new().await;
    let to = address();
    let view = step(&app, "user_a", Some(&to), "step-1").await;
    assert_eq!(view["profile"]["email"], to.as_str());
    assert_eq!(view["emailSchedule"]["welcome"]["status"], "scheduled");
    assert_eq!(
        view["emailSchedule"]["abandonment_reminder"]["status"],
        "scheduled"
    );
    assert!(
        view["emailSchedule"].get("trial_day_2").is_none(),
        "no trial yet"
    );

    travel(&app, "user_a", "9 minutes").await;
    assert_eq!(app.send_emails().await.sent, 0);
    assert!(kinds_sent(&to).await.is_empty());

    travel(&app, "user_a", "2 minutes").await;
    assert_eq!(app.send_emails().await.sent, 1);
    let sent = ses::sent_to(&to).await;
    assert_eq!(sent.len(), 1);
    let welcome = &sent[0];
    assert_eq!(welcome.kind, "welcome");
    assert_eq!(welcome.subject, "Welcome to Gemz, Ada");
    assert!(
        welcome.text.contains("welcome Engines Ltd"),
        "{}",
        welcome.text
    );
    assert!(welcome.html.contains("Engines Ltd"));
    assert_eq!(
        welcome.list_unsubscribe, None,
        "the welcome email is transactional"
    );
    let status = schedule(&app, "user_a").await;
    assert_eq!(status["welcome"]["status"], "sent");
    assert_eq!(status["welcome"]["messageId"], welcome.message_id.as_str());
    assert!(status["welcome"]["timestamp"].is_string());

    // Later runs send nothing again.
    assert_eq!(app.send_emails().await, send_emails::Run::default());
    assert_eq!(ses::sent_to(&to).await.len(), 1);
}

#[tokio::test]
async fn the_abandonment_reminder_reaches_those_who_stopped_and_carries_a_one_click_unsubscribe() {
    let app = TestApp::new().await;
    let to = address();
    step(&app, "user_a", Some(&to), "step-1").await;
    step(&app, "user_a", Some(&to), "step-2").await;
    travel(&app, "user_a", "2 hours").await;
    assert_eq!(app.send_emails().await.sent, 2);
    assert_eq!(kinds_sent(&to).await, ["abandonment_reminder", "welcome"]);
    let reminder = sent(&to, "abandonment_reminder").await;
    assert_eq!(reminder.subject, "Finish setting up Gemz for Engines Ltd");
    let link = reminder.list_unsubscribe.as_deref().unwrap();
    assert!(
        link.starts_with("<https://api.example.com/email/unsubscribe?token="),
        "{link}"
    );
    assert_eq!(
        reminder.list_unsubscribe_post.as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    assert!(reminder
        .text
        .contains("https://api.example.com/email/unsubscribe?token="));
}

#[tokio::test]
async fn the_abandonment_reminder_is_skipped_for_a_user_who_completed_onboarding() {
    let app = TestApp::new().await;
    let to = address();
    app.complete_onboarding("user_a", Some(&to)).await;
    travel(&app, "user_a", "2 hours").await;
    let done = app.send_emails().await;
    assert_eq!((done.sent, done.skipped), (1, 1));
    assert_eq!(kinds_sent(&to).await, ["welcome"]);
    let status = schedule(&app, "user_a").await;
    assert_eq!(status["abandonment_reminder"]["status"], "skipped");
    assert_eq!(
        status["abandonment_reminder"]["reason"],
        "onboarding already completed"
    );
}

#[tokio::test]
async fn trial_reminders_go_out_on_days_two_and_five_with_the_days_left_and_the_expiry_on_day_seven(
) {
    let app = TestApp::new().await;
    let to = address();
    app.complete_onboarding("user_a", Some(&to)).await;
    let view = step(&app, "user_a", Some(&to), "complete").await;
    for kind in ["trial_day_2", "trial_day_5", "trial_expiry"] {
        assert_eq!(view["emailSchedule"][kind]["status"], "scheduled", "{kind}");
    }
    travel(&app, "user_a", "2 days").await;
    app.send_emails().await;
    assert_eq!(
        kinds_sent(&to).await,
        ["trial_day_2", "welcome"],
        "the abandonment reminder was skipped"
    );
    let day2 = sent(&to, "trial_day_2").await;
    assert_eq!(day2.subject, "5 days left in your Gemz trial");
    assert!(day2.text.contains("(Trial plan)"), "{}", day2.text);
    assert!(day2.list_unsubscribe.is_some());

    travel(&app, "user_a", "3 days").await;
    app.send_emails().await;
    let day5 = sent(&to, "trial_day_5").await;
    assert_eq!(day5.subject, "2 days left in your Gemz trial");

    travel(&app, "user_a", "2 days").await;
    app.send_emails().await;
    let expiry = sent(&to, "trial_expiry").await;
    assert_eq!(expiry.subject, "Your Gemz trial has ended");
    assert_eq!(ses::sent_to(&to).await.len(), 4);
}

#[tokio::test]
async fn a_user_who_subscribed_gets_no_trial_reminders_and_no_expiry_email() {
    let app = TestApp::new().await;
    let to = address();
    app.complete_onboarding("user_a", Some(&to)).await;
    app.db
        .batch_execute(
            "UPDATE user_profiles SET subscription_status = 'active', trial_status = 'converted', plan = 'pro'",
        )
        .await;
    travel(&app, "user_a", "8 days").await;
    app.send_emails().await;
    assert_eq!(kinds_sent(&to).await, ["welcome"]);
    let status = schedule(&app, "user_a").await;
    for kind in ["trial_day_2", "trial_day_5", "trial_expiry"] {
        assert_eq!(status[kind]["status"], "skipped", "{kind}");
        assert_eq!(status[kind]["reason"], "the user subscribed", "{kind}");
    }
}

#[tokio::test]
async fn trial_reminders_are_skipped_once_the_trial_is_no_longer_active() {
    let app = TestApp::new().await;
    let to = address();
    app.complete_onboarding("user_a", Some(&to)).await;
    app.db
        .batch_execute("UPDATE user_profiles SET trial_status = 'cancelled'")
        .await;
    travel(&app, "user_a", "5 days").await;
    app.send_emails().await;
    let status = schedule(&app, "user_a").await;
    assert_eq!(
        status["trial_day_2"]["reason"],
        "the trial is no longer active"
    );
    assert_eq!(
        status["trial_day_5"]["reason"],
        "the trial is no longer active"
    );
    assert_eq!(status["trial_expiry"]["status"], "scheduled", "not due yet");
}

#[tokio::test]
async fn without_an_address_nothing_is_sent_and_the_schedule_says_why() {
    let app = TestApp::new().await;
    app.complete_onboarding("user_a", None).await;
    travel(&app, "user_a", "2 days").await;
    let done = app.send_emails().await;
    assert_eq!((done.sent, done.skipped), (0, 3));
    let status = schedule(&app, "user_a").await;
    assert_eq!(status["welcome"]["status"], "skipped");
    assert_eq!(
        status["welcome"]["reason"],
        "no email address: the token carried no email claim"
    );
}

#[tokio::test]
async fn a_changed_address_in_the_token_is_stored_and_the_email_goes_to_it() {
    let app = TestApp::new().await;
    let (old, new) = (address(), address());
    step(&app, "user_a", Some(&old), "step-1").await;
    let view = step(&app, "user_a", Some(&new), "step-2").await;
    assert_eq!(view["profile"]["email"], new.as_str());
    travel(&app, "user_a", "11 minutes").await;
    assert_eq!(app.send_emails().await.sent, 1);
    assert!(kinds_sent(&old).await.is_empty());
    assert_eq!(kinds_sent(&new).await, ["welcome"]);
}

#[tokio::test]
async fn a_delay_changed_in_the_settings_applies_to_emails_scheduled_after_it() {
    let app = TestApp::new().await;
    app.db.set_setting("welcome_delay", "1h").await;
    let to = address();
    step(&app, "user_a", Some(&to), "step-1").await;
    let minutes: f64 = app
        .db
        .client()
        .await
        .query_one(
            "SELECT (extract(epoch FROM due_at - p.signup_timestamp) / 60)::float8 FROM scheduled_emails e
               JOIN user_profiles p USING (user_id) WHERE kind = 'welcome'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(minutes, 60.0);
}
