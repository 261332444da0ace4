//! Parsers of the creator API's responses. They read only the fields the product uses (a TikTok
//! keyword page is ~2 MB, most of which is ignored), accept numbers sent as strings, and never
//! panic: any input is either parsed or reported as malformed.

use serde::{Deserialize, Deserializer};

/// A number the API sends as a JSON number or a numeric string; anything else reads as absent.
fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        U(u64),
        I(i64),
        F(f64),
        S(String),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::U(n) => Some(n),
        Raw::I(n) => u64::try_from(n).ok(),
        Raw::F(f) if f.is_finite() && f >= 0.0 => Some(f as u64),
        Raw::S(s) => s.trim().replace(',', "").parse().ok(),
        _ => None,
    })
}

/// A boolean the API sends as `true`/`false` or `0`/`1`.
fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        B(bool),
        N(i64),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::B(b) => b,
        Raw::N(n) => n > 0,
        Raw::Other(_) => false,
    })
}

/// A string, or absent for anything else (null, numbers, objects).
fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        S(String),
        N(i64),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::S(s) => Some(s),
        Raw::N(n) => Some(n.to_string()),
        Raw::Other(_) => None,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct UrlList {
    #[serde(default)]
    pub url_list: Vec<String>,
}

impl UrlList {
    pub fn first(&self) -> Option<String> {
        self.url_list.first().cloned()
    }
}

// ---------------------------------------------------------------- TikTok keyword search

/// `GET /v1/tiktok/search/keyword`.
#[derive(Debug, Default, Deserialize)]
pub struct TikTokKeywordPage {
    #[serde(default)]
    pub search_item_list: Option<Vec<TikTokSearchItem>>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub has_more: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub cursor: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct TikTokSearchItem {
    #[serde(default)]
    pub aweme_info: Option<TikTokAweme>,
}

#[derive(Debug, Default, Deserialize)]
pub struct TikTokAweme {
    #[serde(default, deserialize_with = "lenient_string")]
    pub aweme_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub desc: Option<String>,
    #[serde(default)]
    pub author: Option<TikTokAuthor>,
    #[serde(default)]
    pub statistics: Option<TikTokStatistics>,
    #[serde(default)]
    pub text_extra: Option<Vec<TikTokTextExtra>>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub url: Option<String>,
    /// Seconds since the epoch.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub create_time: Option<u64>,
    /// The country of the account that posted the video.
    #[serde(default, deserialize_with = "lenient_string")]
    pub region: Option<String>,
    /// The language of the caption (`un`: undetermined).
    #[serde(default, deserialize_with = "lenient_string")]
    pub desc_language: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct TikTokAuthor {
    #[serde(default, deserialize_with = "lenient_string")]
    pub uid: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub unique_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub nickname: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub signature: Option<String>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub follower_count: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub verification_type: Option<u64>,
    #[serde(default)]
    pub avatar_medium: Option<UrlList>,
    #[serde(default)]
    pub avatar_larger: Option<UrlList>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_private_account: bool,
    /// The author's Instagram handle (often empty).
    #[serde(default, deserialize_with = "lenient_string")]
    pub ins_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub youtube_channel_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub twitter_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub twitter_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct TikTokStatistics {
    #[serde(default, deserialize_with = "lenient_u64")]
    pub digg_count: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub comment_count: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub share_count: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub play_count: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct TikTokTextExtra {
    #[serde(default, deserialize_with = "lenient_string")]
    pub hashtag_name: Option<String>,
}

// ---------------------------------------------------------------- TikTok profile

/// `GET /v1/tiktok/profile`: a profile, or a flag saying the account is private or deactivated
/// (both answered with status 200).
#[derive(Debug, Default, Deserialize)]
pub struct TikTokProfile {
    #[serde(default)]
    pub user: Option<TikTokProfileUser>,
    #[serde(default)]
    pub stats: Option<TikTokProfileStats>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub account_private: bool,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub account_deactivated: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TikTokProfileUser {
    #[serde(default, deserialize_with = "lenient_string")]
    pub unique_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub nickname: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub signature: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub verified: bool,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub private_account: bool,
    #[serde(default, deserialize_with = "lenient_string")]
    pub avatar_larger: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub avatar_medium: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub region: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub language: Option<String>,
    #[serde(default)]
    pub bio_link: Option<TikTokBioLink>,
    #[serde(default)]
    pub commerce_user_info: Option<TikTokCommerceInfo>,
}

#[derive(Debug, Default, Deserialize)]
pub struct TikTokBioLink {
    #[serde(default, deserialize_with = "lenient_string")]
    pub link: Option<String>,
}

/// Business accounts name their category here.
#[derive(Debug, Default, Deserialize)]
pub struct TikTokCommerceInfo {
    #[serde(default, deserialize_with = "lenient_string")]
    pub category: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TikTokProfileStats {
    #[serde(default, deserialize_with = "lenient_u64")]
    pub follower_count: Option<u64>,
}

// ---------------------------------------------------------------- TikTok user search

/// `GET /v1/tiktok/search/users`.
#[derive(Debug, Default, Deserialize)]
pub struct TikTokUserSearch {
    #[serde(default)]
    pub users: Option<Vec<TikTokUserItem>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct TikTokUserItem {
    #[serde(default)]
    pub user_info: Option<TikTokAuthor>,
}

// ---------------------------------------------------------------- Instagram profile

/// `GET /v1/instagram/profile`.
#[derive(Debug, Default, Deserialize)]
pub struct InstagramProfile {
    #[serde(default)]
    pub data: Option<InstagramData>,
}

#[derive(Debug, Default, Deserialize)]
pub struct InstagramData {
    #[serde(default)]
    pub user: Option<InstagramUser>,
}

#[derive(Debug, Default, Deserialize)]
pub struct InstagramUser {
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub username: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub full_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub biography: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_private: bool,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_verified: bool,
    #[serde(default, deserialize_with = "lenient_string")]
    pub profile_pic_url: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub profile_pic_url_hd: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub business_email: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub business_phone_number: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub category_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub external_url: Option<String>,
    #[serde(default)]
    pub bio_links: Option<Vec<InstagramBioLink>>,
    #[serde(default)]
    pub edge_followed_by: Option<InstagramCount>,
    #[serde(default)]
    pub edge_related_profiles: Option<InstagramEdges>,
    /// The most recent posts (a dozen).
    #[serde(default)]
    pub edge_owner_to_timeline_media: Option<InstagramPosts>,
}

#[derive(Debug, Default, Deserialize)]
pub struct InstagramBioLink {
    #[serde(default, deserialize_with = "lenient_string")]
    pub url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct InstagramPosts {
    #[serde(default)]
    pub edges: Vec<InstagramPostEdge>,
}

#[derive(Debug, Default, Deserialize)]
pub struct InstagramPostEdge {
    #[serde(default)]
    pub node: Option<InstagramPost>,
}

#[derive(Debug, Default, Deserialize)]
pub struct InstagramPost {
    #[serde(default)]
    pub edge_liked_by: Option<InstagramCount>,
    #[serde(default)]
    pub edge_media_preview_like: Option<InstagramCount>,
    #[serde(default)]
    pub edge_media_to_comment: Option<InstagramCount>,
}

#[derive(Debug, Default, Deserialize)]
pub struct InstagramCount {
    #[serde(default, deserialize_with = "lenient_u64")]
    pub count: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct InstagramEdges {
    #[serde(default)]
    pub edges: Vec<InstagramEdge>,
}

#[derive(Debug, Default, Deserialize)]
pub struct InstagramEdge {
    #[serde(default)]
    pub node: Option<InstagramUser>,
}

// ---------------------------------------------------------------- YouTube

/// `GET /v1/youtube/search`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct YouTubeSearch {
    #[serde(default)]
    pub videos: Option<Vec<YouTubeVideo>>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub continuation_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct YouTubeVideo {
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub title: Option<String>,
    #[serde(default)]
    pub channel: Option<YouTubeChannelRef>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub view_count_int: Option<u64>,
    /// RFC 3339.
    #[serde(default, deserialize_with = "lenient_string")]
    pub published_time: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct YouTubeChannelRef {
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub handle: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub thumbnail: Option<String>,
}

/// `GET /v1/youtube/channel`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct YouTubeChannel {
    #[serde(default, deserialize_with = "lenient_string")]
    pub channel_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub handle: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub subscriber_count: Option<u64>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub email: Option<String>,
    #[serde(default)]
    pub links: Vec<serde_json::Value>,
    #[serde(default)]
    pub avatar: Option<serde_json::Value>,
}

impl YouTubeChannel {
    pub fn avatar_url(&self) -> Option<String> {
        self.avatar
            .as_ref()?
            .pointer("/image/sources/0/url")?
            .as_str()
            .map(str::to_owned)
    }

    /// The links' addresses: each link is a URL, or an object naming one (`url`, `link`).
    pub fn link_urls(&self) -> Vec<String> {
        self.links
            .iter()
            .filter_map(|l| match l {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Object(o) => ["url", "link", "href"]
                    .iter()
                    .find_map(|k| o.get(*k)?.as_str())
                    .map(str::to_owned),
                _ => None,
            })
            .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
            .collect()
    }

    /// Link texts and URLs, where emails sometimes hide.
    pub fn link_texts(&self) -> Vec<String> {
        self.links
            .iter()
            .map(|l| match l {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_strings_and_odd_types_are_tolerated() {
        let page: TikTokKeywordPage = serde_json::from_str(
            r#"{"has_more": "1", "cursor": 30.0, "search_item_list": [{"aweme_info": {"author": {"unique_id": 5, "follower_count": "1,200", "verification_type": null, "is_private_account": 1}}}]}"#,
        )
        .unwrap();
        assert_eq!(page.has_more, Some(1));
        assert_eq!(page.cursor, Some(30));
        let author = page
            .search_item_list
            .unwrap()
            .remove(0)
            .aweme_info
            .unwrap()
            .author
            .unwrap();
        assert_eq!(author.unique_id.as_deref(), Some("5"));
        assert_eq!(author.follower_count, Some(1200));
        assert!(author.is_private_account);
    }
}
