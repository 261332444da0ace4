//! The CSV files people download: columns a person can read, per kind of search, one row per
//! creator, UTF-8 with a byte-order mark (spreadsheet programs then read the accents right),
//! RFC 4180 quoting and CRLF line ends. Every text cell that a spreadsheet would run as a formula
//! (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with `'`: names,
//! bios, emails and URLs are all written by strangers.

use chrono::{DateTime, Utc};

use domain::{
    creator::{CreatorRecord, FoundBy},
    search::{Platform, SearchKind},
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
    /// The columns of a search of this kind.
    pub fn of(kind: SearchKind) -> Self {
        match kind {
            SearchKind::TikTokKeyword => Self::TikTokKeyword,
            SearchKind::YouTubeKeyword => Self::YouTubeKeyword,
            SearchKind::TikTokSimilar => Self::Similar(Platform::TikTok),
            SearchKind::InstagramSimilar => Self::Similar(Platform::Instagram),
            SearchKind::YouTubeSimilar => Self::Similar(Platform::YouTube),
        }
    }

    pub fn header(self) -> &'static [&'static str] {
        self.columns().headings
    }

    /// The cells of one creator; `found_by` lists every search that found it (campaign exports),
    /// `lookup_skipped` says its profile look-up was given up (it is as the search found it).
    pub fn row(self, r: &CreatorRecord, found_by: &[FoundBy], lookup_skipped: bool) -> Vec<String> {
        self.columns()
            .cells
            .iter()
            .map(|cell| cell.of(r, found_by, lookup_skipped))
            .collect()
    }

    fn columns(self) -> Columns {
        match self {
            Self::TikTokKeyword => TIKTOK_KEYWORD,
            Self::YouTubeKeyword => YOUTUBE_KEYWORD,
            Self::Similar(Platform::YouTube) => YOUTUBE_SIMILAR,
            Self::Similar(_) => SIMILAR,
            Self::Campaign => CAMPAIGN,
        }
    }
}

/// A layout's columns: each heading is written beside the cell under it, so a header and its rows
/// cannot drift apart.
#[derive(Clone, Copy)]
struct Columns {
    headings: &'static [&'static str],
    cells: &'static [Cell],
}

/// `columns!["Heading" => Cell, ...]`: the [`Columns`] of a layout, followed by the creator facts
/// every layout ends with (engagement, region, language, links, business contact, other
/// handles, category).
macro_rules! columns {
    ($($heading:literal => $cell:ident),+ $(,)?) => {
        columns!(@all $($heading => $cell,)+
            "Engagement rate" => EngagementRate,
            "Region" => Region,
            "Language" => Language,
            "Links" => Links,
            "Business email" => BusinessEmail,
            "Business phone" => BusinessPhone,
            "Other handles" => OtherHandles,
            "Category" => Category,
        )
    };
    (@all $($heading:literal => $cell:ident,)+) => {
        Columns {
            headings: &[$($heading),+],
            cells: &[$(Cell::$cell),+],
        }
    };
}

const TIKTOK_KEYWORD: Columns = columns![
    "Username" => Handle,
    "Display name" => Name,
    "Followers" => Followers,
    "Bio" => Bio,
    "Emails" => Emails,
    "Profile URL" => ProfileUrl,
    "Video URL" => VideoUrl,
    "Video description" => Description,
    "Likes" => Likes,
    "Comments" => Comments,
    "Shares" => Shares,
    "Views" => Views,
    "Hashtags" => Hashtags,
    "Video date" => Date,
    "Keyword" => Keyword,
    "Profile look-up" => LookUp,
];

const YOUTUBE_KEYWORD: Columns = columns![
    "Channel" => Name,
    "Handle" => Handle,
    "Subscribers" => Followers,
    "Channel description" => Bio,
    "Emails" => Emails,
    "Channel URL" => ProfileUrl,
    "Video URL" => VideoUrl,
    "Video title" => Description,
    "Views" => Views,
    "Video date" => Date,
    "Keyword" => Keyword,
    "Profile look-up" => LookUp,
];

const YOUTUBE_SIMILAR: Columns = columns![
    "Channel" => Name,
    "Handle" => Handle,
    "Subscribers" => Followers,
    "Channel description" => Bio,
    "Emails" => Emails,
    "Channel URL" => ProfileUrl,
    "Verified" => Verified,
    "Similar to" => SimilarTo,
    "Relevance" => Relevance,
    "Profile look-up" => LookUp,
];

const SIMILAR: Columns = columns![
    "Username" => Handle,
    "Display name" => Name,
    "Followers" => Followers,
    "Bio" => Bio,
    "Emails" => Emails,
    "Profile URL" => ProfileUrl,
    "Verified" => Verified,
    "Similar to" => SimilarTo,
    "Relevance" => Relevance,
    "Profile look-up" => LookUp,
];

const CAMPAIGN: Columns = columns![
    "Platform" => Platform,
    "Username" => Handle,
    "Display name" => Name,
    "Followers" => Followers,
    "Bio" => Bio,
    "Emails" => Emails,
    "Profile URL" => ProfileUrl,
    "Verified" => Verified,
    "Video URL" => VideoUrl,
    "Video description" => Description,
    "Likes" => Likes,
    "Comments" => Comments,
    "Shares" => Shares,
    "Views" => Views,
    "Hashtags" => Hashtags,
    "Video date" => Date,
    "Relevance" => Relevance,
    "Profile look-up" => LookUp,
    "Found by" => Searches,
];

/// What a cell shows of a creator; layouts name the same value differently ("Followers",
/// "Subscribers").
#[derive(Clone, Copy)]
enum Cell {
    Platform,
    Handle,
    Name,
    Followers,
    Bio,
    Emails,
    ProfileUrl,
    Verified,
    VideoUrl,
    Description,
    Likes,
    Comments,
    Shares,
    Views,
    Hashtags,
    Date,
    Keyword,
    SimilarTo,
    Relevance,
    /// Every search that found the creator (campaign exports).
    Searches,
    /// `skipped` when the creator's profile look-up was given up, else empty.
    LookUp,
    /// The facts of [`domain::creator::CreatorFacts`], after every other column so the older
    /// columns keep their places; empty where the platform gave none.
    EngagementRate,
    Region,
    Language,
    Links,
    BusinessEmail,
    BusinessPhone,
    OtherHandles,
    Category,
}

impl Cell {
    fn of(self, r: &CreatorRecord, found_by: &[FoundBy], lookup_skipped: bool) -> String {
        let c = &r.creator;
        let f = &c.facts;
        let video = r.video.as_ref();
        let stats = video.map(|v| &v.statistics);
        match self {
            Self::Platform => r.platform.as_str().to_owned(),
            Self::Handle => text(&c.unique_id),
            Self::Name => text(&c.name),
            Self::Followers => number(c.followers),
            Self::Bio => text(c.bio.as_deref().unwrap_or_default()),
            Self::Emails => text(&c.emails.join("; ")),
            Self::ProfileUrl => text(&c.profile_url),
            Self::Verified => if c.verified { "yes" } else { "no" }.to_owned(),
            Self::VideoUrl => text(video.and_then(|v| v.url.as_deref()).unwrap_or_default()),
            Self::Description => text(video.map(|v| v.description.as_str()).unwrap_or_default()),
            Self::Likes => number(stats.and_then(|s| s.likes)),
            Self::Comments => number(stats.and_then(|s| s.comments)),
            Self::Shares => number(stats.and_then(|s| s.shares)),
            Self::Views => number(stats.and_then(|s| s.views)),
            Self::Hashtags => text(&r.hashtags.join(" ")),
            Self::Date => r.published_at.map(date).unwrap_or_default(),
            Self::Keyword => match &r.found_by {
                FoundBy::Keyword(k) => text(k),
                FoundBy::SimilarTo(_) => String::new(),
            },
            Self::SimilarTo => text(&similar_to(&r.found_by)),
            Self::Relevance => r.relevance.map(|v| format!("{v:.1}")).unwrap_or_default(),
            Self::Searches => {
                let found: Vec<String> = found_by.iter().map(label).collect();
                text(&found.join("; "))
            }
            Self::LookUp => if lookup_skipped { "skipped" } else { "" }.to_owned(),
            Self::EngagementRate => f.engagement_rate.map(percent).unwrap_or_default(),
            Self::Region => text(f.region.as_deref().unwrap_or_default()),
            Self::Language => text(f.language.as_deref().unwrap_or_default()),
            Self::Links => text(&f.links.as_deref().unwrap_or_default().join(" ")),
            Self::BusinessEmail => text(f.business_email.as_deref().unwrap_or_default()),
            Self::BusinessPhone => text(f.business_phone.as_deref().unwrap_or_default()),
            Self::OtherHandles => {
                let handles: Vec<String> = f
                    .other_handles
                    .iter()
                    .flatten()
                    .map(|(platform, handle)| format!("{platform}: {handle}"))
                    .collect();
                text(&handles.join("; "))
            }
            Self::Category => text(f.category.as_deref().unwrap_or_default()),
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

/// `0.0819` as `8.19%`, which spreadsheets read as a percentage.
fn percent(rate: f64) -> String {
    format!("{:.2}%", rate * 100.0)
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
    use domain::creator::{Creator, CreatorFacts, Video, VideoStatistics};

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
                facts: CreatorFacts {
                    engagement_rate: Some(0.0819),
                    region: Some("US".into()),
                    links: Some(vec!["https://a.example".into(), "https://b.example".into()]),
                    business_phone: Some("+1 555".into()),
                    other_handles: Some([("instagram".to_owned(), "brookemonk".to_owned())].into()),
                    ..Default::default()
                },
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
        let row = Layout::TikTokKeyword.row(&record(), &[], true);
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
        assert_eq!(cell("Profile look-up"), "skipped");
    }

    #[test]
    fn the_facts_come_after_the_older_columns_and_are_empty_where_unknown() {
        for layout in [
            Layout::TikTokKeyword,
            Layout::YouTubeKeyword,
            Layout::Similar(Platform::TikTok),
            Layout::Similar(Platform::YouTube),
            Layout::Campaign,
        ] {
            let header = layout.header();
            let facts = &header[header.len() - 8..];
            assert_eq!(
                facts,
                [
                    "Engagement rate",
                    "Region",
                    "Language",
                    "Links",
                    "Business email",
                    "Business phone",
                    "Other handles",
                    "Category"
                ],
                "{layout:?}"
            );
            let row = layout.row(&record(), &[], false);
            let facts = &row[row.len() - 8..];
            assert_eq!(
                facts,
                [
                    "8.19%",
                    "US",
                    "",
                    "https://a.example https://b.example",
                    "",
                    "'+1 555",
                    "instagram: brookemonk",
                    ""
                ]
            );
        }
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
                layout.row(&record(), &[], false).len(),
                layout.header().len(),
                "{layout:?}"
            );
        }
        let found = [
            FoundBy::Keyword("nike".into()),
            FoundBy::SimilarTo("x".into()),
        ];
        let row = Layout::Campaign.row(&record(), &found, false);
        let header = Layout::Campaign.header();
        let searches = header.iter().position(|h| *h == "Found by").unwrap();
        assert_eq!(row[searches], "keyword \"nike\"; similar to @x");
    }
}
