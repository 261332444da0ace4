//! The emails' words: a subject, a text part and an HTML part per email, from the templates in
//! `shared/templates/email/` (compiled into the binary by askama; the HTML part is escaped, so a
//! name or business cannot inject markup).

use askama::Template;

use domain::email::EmailKind;

/// What an email says to one recipient.
#[derive(Debug, Clone)]
pub struct Content<'a> {
    pub kind: EmailKind,
    pub full_name: Option<&'a str>,
    pub business: Option<&'a str>,
    /// Whole days left in the trial (see [`domain::email::Recipient::trial_days_left`]).
    pub days_left: i64,
    pub plan: &'a str,
    /// The web application's address, for the call to action.
    pub app_url: &'a str,
    /// Reminders only.
    pub unsubscribe_url: Option<&'a str>,
}

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What both parts say.
struct Fields<'a> {
    kind: EmailKind,
    first_name: &'a str,
    business: Option<&'a str>,
    days_left: i64,
    days_word: &'a str,
    plan: &'a str,
    app_url: &'a str,
    unsubscribe_url: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "email/body.txt")]
struct Text<'a> {
    f: &'a Fields<'a>,
}

#[derive(Template)]
#[template(path = "email/body.html")]
struct Html<'a> {
    f: &'a Fields<'a>,
    subject: &'a str,
    button: &'a str,
}

const BUTTON: &str = "display:inline-block;padding:12px 20px;background:#5b3df5;color:#fff;\
                      border-radius:6px;text-decoration:none;font-weight:bold";

impl Content<'_> {
    /// The first word of the name, or "there" ("Hi there,").
    fn first_name(&self) -> &str {
        self.full_name
            .and_then(|n| n.split_whitespace().next())
            .unwrap_or("there")
    }

    fn subject(&self) -> String {
        let days = plural_days(self.days_left);
        match self.kind {
            EmailKind::Welcome => format!("Welcome to Gemz, {}", self.first_name()),
            EmailKind::AbandonmentReminder => match self.business {
                Some(b) => format!("Finish setting up Gemz for {b}"),
                None => "Finish setting up your Gemz account".to_owned(),
            },
            EmailKind::TrialDay2 | EmailKind::TrialDay5 => {
                format!("{} {days} left in your Gemz trial", self.days_left)
            }
            EmailKind::TrialExpiry if self.days_left > 0 => "Your Gemz trial ends today".to_owned(),
            EmailKind::TrialExpiry => "Your Gemz trial has ended".to_owned(),
        }
    }

    pub fn render(&self) -> Result<Rendered, askama::Error> {
        let subject = self.subject();
        let app_url = self.app_url.trim_end_matches('/');
        let f = Fields {
            kind: self.kind,
            first_name: self.first_name(),
            business: self.business,
            days_left: self.days_left,
            days_word: plural_days(self.days_left),
            plan: self.plan,
            app_url,
            unsubscribe_url: self.unsubscribe_url,
        };
        let text = Text { f: &f }.render()?;
        let html = Html {
            f: &f,
            subject: &subject,
            button: BUTTON,
        }
        .render()?;
        Ok(Rendered {
            subject,
            text,
            html,
        })
    }
}

fn plural_days(n: i64) -> &'static str {
    if n == 1 {
        "day"
    } else {
        "days"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(kind: EmailKind) -> Content<'static> {
        Content {
            kind,
            full_name: Some("Ada Lovelace"),
            business: Some("Engines <Ltd>"),
            days_left: 5,
            plan: "Trial",
            app_url: "https://app.example.com/",
            unsubscribe_url: kind
                .is_reminder()
                .then_some("https://api.example.com/email/unsubscribe?token=t"),
        }
    }

    #[test]
    fn every_email_renders_with_the_name_and_business_and_escapes_the_html_part() {
        for kind in EmailKind::ALL {
            let r = content(kind).render().unwrap();
            assert!(r.text.starts_with("Hi Ada,"), "{kind}: {}", r.text);
            assert!(r.html.contains("Hi Ada,"), "{kind}");
            assert!(!r.html.contains("<Ltd>"), "{kind}: unescaped business");
            assert!(!r.subject.is_empty());
            assert_eq!(
                r.text.contains("email/unsubscribe?token=t"),
                kind.is_reminder(),
                "{kind}"
            );
        }
        let welcome = content(EmailKind::Welcome).render().unwrap();
        assert!(welcome.text.contains("welcome Engines <Ltd>"));
        assert!(
            welcome.html.contains("Engines &#60;Ltd&#62;")
                || welcome.html.contains("Engines &lt;Ltd&gt;")
        );
        assert!(welcome.text.contains("https://app.example.com/campaigns"));
    }

    #[test]
    fn trial_reminders_state_the_days_left_and_the_plan() {
        let r = content(EmailKind::TrialDay5).render().unwrap();
        assert_eq!(r.subject, "5 days left in your Gemz trial");
        assert!(r.text.contains("Only 5 days left"), "{}", r.text);
        assert!(r.text.contains("(Trial plan)"), "{}", r.text);
        let one = Content {
            days_left: 1,
            ..content(EmailKind::TrialDay2)
        };
        assert_eq!(
            one.render().unwrap().subject,
            "1 day left in your Gemz trial"
        );
        let ended = Content {
            days_left: 0,
            ..content(EmailKind::TrialExpiry)
        };
        let r = ended.render().unwrap();
        assert_eq!(r.subject, "Your Gemz trial has ended");
        assert!(r.text.contains("has ended"));
    }

    #[test]
    fn a_user_without_a_name_is_greeted_as_there() {
        let r = Content {
            full_name: None,
            business: None,
            ..content(EmailKind::AbandonmentReminder)
        }
        .render()
        .unwrap();
        assert!(r.text.starts_with("Hi there,"));
        assert_eq!(r.subject, "Finish setting up your Gemz account");
    }
}
