//! The CSV files people download: columns a person can read, per kind of search, one row per
//! creator, UTF-8 with a byte-order mark (spreadsheet programs then read the accents right),
//! RFC 4180 quoting and CRLF line ends. Every text cell that a spreadsheet would run as a formula
//! (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with `'`: names,
//! bios, emails and URLs are all written by strangers.

use chrono::{DateTime, Utc};

use domain::{
    creator::{CreatorRecord, FoundBy},
    search::Platform,
};

/// The byte-order mark every export starts with.
pub const BOM: &[u8] = "\u{feff}".as_bytes();

/// Which columns an export has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// A TikTok keyword search: the creator and the video that matched.
    TikTokKeyword,
    /// A YouTube keyword search: the channel and the video that matched.
    YouTubeKeyword,
    /// A similar search on `Platform`: the creator, the target and the relevance.
    Similar(Platform),
    /// Every search of a campaign: every column, and the searches that found each creator.
    Campaign,
}

impl Layout {
    pub fn header(self) -> &'static [&'static str] {
        match self {
            Self::TikTokKeyword => &[
                "Username",
                "Display name",
                "Followers",
                "Bio",
                "Emails",
                "Profile URL",
                "Video URL",
                "Video description",
                "Likes",
                "Comments",
                "Shares",
                "Views",
                "Hashtags",
                "Video date",
                "Keyword",
            ],
            Self::YouTubeKeyword => &[
                "Channel",
                "Handle",
                "Subscribers",
                "Channel description",
                "Emails",
                "Channel URL",
                "Video URL",
                "Video title",
                "Views",
                "Video date",
                "Keyword",
            ],
            Self::Similar(Platform::YouTube) => &[
                "Channel",
                "Handle",
                "Subscribers",
                "Channel description",
                "Emails",
                "Channel URL",
                "Verified",
                "Similar to",
                "Relevance",
            ],
            Self::Similar(_) => &[
                "Username",
                "Display name",
                "Followers",
                "Bio",
                "Emails",
                "Profile URL",
                "Verified",
                "Similar to",
                "Relevance",
            ],
            Self::Campaign => &[
                "Platform",
                "Username",
                "Display name",
                "Followers",
                "Bio",
                "Emails",
                "Profile URL",
                "Verified",
                "Video URL",
                "Video description",
                "Likes",
                "Comments",
                "Shares",
                "Views",
                "Hashtags",
                "Video date",
                "Relevance",
                "Found by",
            ],
        }
    }

    /// The cells of one creator; `found_by` lists every search that found it (campaign exports).
    pub fn row(self, r: &CreatorRecord, found_by: &[FoundBy]) -> Vec<String> {
        let c = &r.creator;
        let video = r.video.as_ref();
        let stats = video.map(|v| &v.statistics);
        let bio = text(c.bio.as_deref().unwrap_or_default());
        let emails = text(&c.emails.join("; "));
        let video_url = text(video.and_then(|v| v.url.as_deref()).unwrap_or_default());
        let description = text(video.map(|v| v.description.as_str()).unwrap_or_default());
        let hashtags = text(&r.hashtags.join(" "));
        let date = r.published_at.map(date).unwrap_or_default();
        let keyword = match &r.found_by {
            FoundBy::Keyword(k) => text(k),
            FoundBy::SimilarTo(_) => String::new(),
        };
        let relevance = r.relevance.map(|v| format!("{v:.1}")).unwrap_or_default();
        let verified = if c.verified { "yes" } else { "no" }.to_owned();
        let (handle, name, profile) = (text(&c.unique_id), text(&c.name), text(&c.profile_url));
        match self {
            Self::TikTokKeyword => vec![
                handle,
                name,
                number(c.followers),
                bio,
                emails,
                profile,
                video_url,
                description,
                number(stats.and_then(|s| s.likes)),
                number(stats.and_then(|s| s.comments)),
                number(stats.and_then(|s| s.shares)),
                number(stats.and_then(|s| s.views)),
                hashtags,
                date,
                keyword,
            ],
            Self::YouTubeKeyword => vec![
                name,
                handle,
                number(c.followers),
                bio,
                emails,
                profile,
                video_url,
                description,
                number(stats.and_then(|s| s.views)),
                date,
                keyword,
            ],
            Self::Similar(Platform::YouTube) => vec![
                name,
                handle,
                number(c.followers),
                bio,
                emails,
                profile,
                verified,
                text(&similar_to(&r.found_by)),
                relevance,
            ],
            Self::Similar(_) => vec![
                handle,
                name,
                number(c.followers),
                bio,
                emails,
                profile,
                verified,
                text(&similar_to(&r.found_by)),
                relevance,
            ],
            Self::Campaign => {
                let found: Vec<String> = found_by.iter().map(label).collect();
                vec![
                    r.platform.as_str().to_owned(),
                    handle,
                    name,
                    number(c.followers),
                    bio,
                    emails,
                    profile,
                    verified,
                    video_url,
                    description,
                    number(stats.and_then(|s| s.likes)),
                    number(stats.and_then(|s| s.comments)),
                    number(stats.and_then(|s| s.shares)),
                    number(stats.and_then(|s| s.views)),
                    hashtags,
                    date,
                    relevance,
                    text(&found.join("; ")),
                ]
            }
        }
    }
}

fn similar_to(found_by: &FoundBy) -> String {
    match found_by {
        FoundBy::SimilarTo(t) => format!("@{t}"),
        FoundBy::Keyword(_) => String::new(),
    }
}

/// How a search that found a creator reads in the "Found by" column.
pub fn label(found_by: &FoundBy) -> String {
    match found_by {
        FoundBy::Keyword(k) => format!("keyword \"{k}\""),
        FoundBy::SimilarTo(t) => format!("similar to @{t}"),
    }
}

fn number(n: Option<u64>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

/// `2025-07-02 19:21:28` (UTC), which spreadsheets read as a date.
fn date(epoch_secs: i64) -> String {
    DateTime::<Utc>::from_timestamp(epoch_secs, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// A text cell a spreadsheet will show as text, never run as a formula.
pub fn text(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::creator::{Creator, Video, VideoStatistics};

    fn record() -> CreatorRecord {
        CreatorRecord {
            platform: Platform::TikTok,
            creator: Creator {
                name: "=HYPERLINK(\"http://evil\")".into(),
                unique_id: "a,b".into(),
                bio: Some("line one\nline \"two\"".into()),
                emails: vec!["+1@x.io".into()],
                profile_url: "@https://www.tiktok.com/@a".into(),
                followers: Some(12),
                ..Creator::default()
            },
            video: Some(Video {
                description: "\tcmd".into(),
                url: Some("-2+3".into()),
                statistics: VideoStatistics {
                    likes: Some(5),
                    views: Some(50),
                    ..Default::default()
                },
            }),
            hashtags: vec!["nike".into(), "run".into()],
            found_by: FoundBy::Keyword("\rnike".into()),
            relevance: None,
            published_at: Some(1_751_484_088),
        }
    }

    #[test]
    fn every_text_cell_that_starts_like_a_formula_is_guarded() {
        let row = Layout::TikTokKeyword.row(&record(), &[]);
        let header = Layout::TikTokKeyword.header();
        assert_eq!(row.len(), header.len());
        let cell = |name: &str| &row[header.iter().position(|h| *h == name).unwrap()];
        assert_eq!(cell("Display name"), "'=HYPERLINK(\"http://evil\")");
        assert_eq!(cell("Emails"), "'+1@x.io");
        assert_eq!(cell("Profile URL"), "'@https://www.tiktok.com/@a");
        assert_eq!(cell("Video URL"), "'-2+3");
        assert_eq!(cell("Video description"), "'\tcmd");
        assert_eq!(cell("Keyword"), "'\rnike");
        assert_eq!(cell("Username"), "a,b");
        assert_eq!(cell("Hashtags"), "nike run");
        assert_eq!(cell("Video date"), "2025-07-02 19:21:28");
        assert_eq!(cell("Likes"), "5");
    }

    #[test]
    fn every_layout_has_a_cell_for_each_column() {
        for layout in [
            Layout::TikTokKeyword,
            Layout::YouTubeKeyword,
            Layout::Similar(Platform::TikTok),
            Layout::Similar(Platform::YouTube),
            Layout::Campaign,
        ] {
            assert_eq!(
                layout.row(&record(), &[]).len(),
                layout.header().len(),
                "{layout:?}"
            );
        }
        let found = [
            FoundBy::Keyword("nike".into()),
            FoundBy::SimilarTo("x".into()),
        ];
        let row = Layout::Campaign.row(&record(), &found);
        assert_eq!(row.last().unwrap(), "keyword \"nike\"; similar to @x");
    }
}
