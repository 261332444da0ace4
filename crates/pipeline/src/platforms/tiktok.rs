//! TikTok: keyword pages of videos (`/v1/tiktok/search/keyword`, an offset cursor), user search
//! for similar searches (`/v1/tiktok/search/users`), and profiles (`/v1/tiktok/profile`) for the
//! target and for authors without a bio.

use std::collections::BTreeMap;

use futures::{future::BoxFuture, FutureExt as _};

use super::{
    answered, or_empty, private, similar_record, target_error, KeywordPage, PlatformSearch,
    TargetProfile,
};
use crate::{
    creator_api::ApiCallError, creator_api::CreatorApi, parse::TikTokAuthor, parse::TikTokAweme,
    parse::TikTokKeywordPage, parse::TikTokProfile, parse::TikTokProfileUser,
    parse::TikTokStatistics, parse::TikTokUserSearch, parse::UrlList, platforms::PageToken,
    platforms::SearchError,
};
use domain::{
    creator::engagement_rate, creator::hashtags_in, creator::language_code, creator::non_empty,
    creator::region_code, creator::unique, creator::Creator, creator::CreatorFacts,
    creator::CreatorRecord, creator::FoundBy, creator::Video, creator::VideoStatistics,
    search::Platform,
};

pub struct TikTok;

/// TikTok's keyword pages are 30 videos; the next offset when the answer names none.
const PAGE: u64 = 30;

impl PlatformSearch for TikTok {
    fn platform(&self) -> Platform {
        Platform::TikTok
    }

    fn profile_url(&self, handle: &str) -> String {
        format!("https://www.tiktok.com/@{handle}")
    }

    fn keyword_page<'a>(
        &'a self,
        api: &'a CreatorApi,
        keyword: &'a str,
        from: Option<&'a PageToken>,
        region: Option<&'a str>,
    ) -> BoxFuture<'a, Result<KeywordPage, SearchError>> {
        async move {
            let offset = match from {
                Some(PageToken::Offset(n)) => *n,
                _ => 0,
            };
            let offset_text = offset.to_string();
            let mut query = vec![("query", keyword), ("cursor", offset_text.as_str())];
            if let Some(region) = region {
                query.push(("region", region));
            }
            let page: TikTokKeywordPage =
                or_empty(api.get("/v1/tiktok/search/keyword", &query).await)?;
            let items = page.search_item_list.unwrap_or_default();
            let ended = items.is_empty() || page.has_more == Some(0);
            let creators = items
                .into_iter()
                .filter_map(|item| item.aweme_info)
                .filter_map(|aweme| video_record(aweme, keyword))
                .collect();
            let next = (!ended).then(|| {
                PageToken::Offset(page.cursor.filter(|c| *c > offset).unwrap_or(offset + PAGE))
            });
            Ok(KeywordPage { creators, next })
        }
        .boxed()
    }

    fn similar_target<'a>(
        &'a self,
        api: &'a CreatorApi,
        handle: &'a str,
    ) -> BoxFuture<'a, Result<TargetProfile, SearchError>> {
        async move {
            let profile: TikTokProfile = api
                .get("/v1/tiktok/profile", &[("handle", handle)])
                .await
                .map_err(|e| target_error(e, "TikTok", handle))?;
            if profile.account_deactivated {
                return Err(SearchError::Target(format!(
                    "The TikTok account @{handle} is deactivated."
                )));
            }
            let Some(user) = profile.user else {
                if profile.account_private {
                    return Err(private(handle, "TikTok"));
                }
                return Err(SearchError::Target(format!(
                    "The TikTok account @{handle} was not found."
                )));
            };
            if profile.account_private || user.private_account {
                return Err(private(handle, "TikTok"));
            }
            Ok(TargetProfile {
                name: user.nickname,
                bio: user.signature,
                followers: profile.stats.and_then(|s| s.follower_count),
                related: None,
            })
        }
        .boxed()
    }

    fn word_search<'a>(
        &'a self,
        api: &'a CreatorApi,
        word: &'a str,
        target: &'a str,
    ) -> BoxFuture<'a, Result<Vec<CreatorRecord>, SearchError>> {
        async move {
            let found: TikTokUserSearch = or_empty(
                api.get(
                    "/v1/tiktok/search/users",
                    &[("query", word), ("cursor", "0")],
                )
                .await,
            )?;
            Ok(found
                .users
                .unwrap_or_default()
                .into_iter()
                .filter_map(|u| u.user_info)
                .filter(|u| !u.is_private_account)
                .filter_map(|u| creator(&u))
                .filter(|c| !c.unique_id.eq_ignore_ascii_case(target))
                .map(|c| {
                    let mut record = similar_record(Platform::TikTok, c, target);
                    record.set_bio(None, &[]);
                    record
                })
                .collect())
        }
        .boxed()
    }

    /// Keyword pages carry no bios; user searches sometimes do, and then need no look-up.
    fn needs_enrichment(&self, record: &CreatorRecord) -> bool {
        record.creator.bio.is_none()
    }

    fn enrich<'a>(
        &'a self,
        api: &'a CreatorApi,
        record: &'a mut CreatorRecord,
    ) -> BoxFuture<'a, Result<(), ApiCallError>> {
        async move {
            if !self.needs_enrichment(record) {
                return Ok(());
            }
            let handle = record.creator.unique_id.clone();
            let Some(profile) = answered(
                api.get::<TikTokProfile>("/v1/tiktok/profile", &[("handle", &handle)])
                    .await,
            )?
            else {
                return Ok(());
            };
            if profile.account_private || profile.account_deactivated {
                return Ok(());
            }
            let Some(user) = profile.user else {
                return Ok(());
            };
            record.creator.followers = profile
                .stats
                .and_then(|s| s.follower_count)
                .or(record.creator.followers);
            record.creator.facts.merge(profile_facts(&user));
            if record.creator.profile_pic_url.is_none() {
                record.creator.profile_pic_url = user.avatar_larger;
            }
            record.set_bio(user.signature, &[]);
            Ok(())
        }
        .boxed()
    }
}

fn creator(author: &TikTokAuthor) -> Option<Creator> {
    let handle = author.unique_id.clone().filter(|h| !h.is_empty())?;
    Some(Creator {
        name: author
            .nickname
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| handle.clone()),
        followers: author.follower_count,
        avatar_url: author.avatar_medium.as_ref().and_then(UrlList::first),
        profile_pic_url: author
            .avatar_larger
            .as_ref()
            .and_then(UrlList::first)
            .or_else(|| author.avatar_medium.as_ref().and_then(UrlList::first)),
        bio: author.signature.clone().filter(|s| !s.trim().is_empty()),
        emails: Vec::new(),
        verified: author.verification_type.unwrap_or(0) > 0,
        profile_url: format!("https://www.tiktok.com/@{handle}"),
        unique_id: handle,
        facts: CreatorFacts {
            other_handles: other_handles(author),
            ..Default::default()
        },
    })
}

/// The author's accounts elsewhere, where TikTok names them (empty fields are none).
fn other_handles(author: &TikTokAuthor) -> Option<BTreeMap<String, String>> {
    let handles: BTreeMap<String, String> = [
        ("instagram", &author.ins_id),
        ("youtubeChannelId", &author.youtube_channel_id),
        ("twitter", &author.twitter_name),
        ("twitterId", &author.twitter_id),
    ]
    .into_iter()
    .filter_map(|(platform, handle)| Some((platform.to_owned(), non_empty(handle.clone())?)))
    .collect();
    (!handles.is_empty()).then_some(handles)
}

/// A profile's facts: its country, language, bio link and business category. Profiles list no
/// recent videos, so they carry no engagement.
fn profile_facts(user: &TikTokProfileUser) -> CreatorFacts {
    CreatorFacts {
        region: region_code(user.region.as_deref()),
        language: language_code(user.language.as_deref()),
        links: unique(user.bio_link.as_ref().and_then(|l| l.link.clone())),
        category: non_empty(
            user.commerce_user_info
                .as_ref()
                .and_then(|c| c.category.clone()),
        ),
        ..Default::default()
    }
}

/// A video's engagement: (likes + comments + shares) / plays.
fn video_engagement(stats: &TikTokStatistics) -> Option<f64> {
    let interactions = stats.digg_count? + stats.comment_count? + stats.share_count?;
    engagement_rate(interactions, stats.play_count?)
}

fn video_record(aweme: TikTokAweme, keyword: &str) -> Option<CreatorRecord> {
    let mut creator = creator(aweme.author.as_ref()?)?;
    // A video's region is its author's country; its caption's language, the author's.
    creator.facts.region = region_code(aweme.region.as_deref());
    creator.facts.language = language_code(aweme.desc_language.as_deref());
    let description = aweme.desc.unwrap_or_default();
    let mut hashtags: Vec<String> = aweme
        .text_extra
        .unwrap_or_default()
        .into_iter()
        .filter_map(|t| t.hashtag_name)
        .filter(|t| !t.is_empty())
        .map(|t| t.to_lowercase())
        .collect();
    // Without repeats, in order of appearance, as `hashtags_in` gives them.
    let mut seen = std::collections::HashSet::new();
    hashtags.retain(|t| seen.insert(t.clone()));
    if hashtags.is_empty() {
        hashtags = hashtags_in(&description);
    }
    let stats = aweme.statistics.unwrap_or_default();
    creator.facts.engagement_rate = video_engagement(&stats);
    let url = aweme.url.or_else(|| {
        aweme
            .aweme_id
            .as_ref()
            .map(|id| format!("{}/video/{id}", creator.profile_url))
    });
    let mut record = CreatorRecord {
        platform: Platform::TikTok,
        creator,
        video: Some(Video {
            description,
            url,
            statistics: VideoStatistics {
                likes: stats.digg_count,
                comments: stats.comment_count,
                shares: stats.share_count,
                views: stats.play_count,
            },
        }),
        hashtags,
        found_by: FoundBy::Keyword(keyword.to_owned()),
        relevance: None,
        published_at: aweme.create_time.and_then(|t| i64::try_from(t).ok()),
    };
    record.set_bio(None, &[]);
    Some(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A recorded answer's body, from the testkit's recordings.
    fn recorded<T: serde::de::DeserializeOwned>(file: &str) -> T {
        testkit::replay::recorded_body(file)
    }

    fn facts_of<'a>(records: &'a [CreatorRecord], handle: &str) -> &'a CreatorFacts {
        &records
            .iter()
            .find(|r| r.creator.unique_id == handle)
            .unwrap_or_else(|| panic!("@{handle} is on the page"))
            .creator
            .facts
    }

    #[test]
    fn a_keyword_page_gives_each_video_authors_region_language_engagement_and_handles() {
        let page: TikTokKeywordPage = recorded("tiktok-search-keyword/nike-page1.json");
        let records: Vec<CreatorRecord> = page
            .search_item_list
            .unwrap()
            .into_iter()
            .filter_map(|i| i.aweme_info)
            .filter_map(|a| video_record(a, "nike"))
            .collect();
        assert_eq!(records.len(), 27);

        // "region": "US", "desc_language": "en", "ins_id": "brookemonk", statistics
        // digg 1,374,270 + comment 4,717 + share 6,477 over play 16,922,159.
        let brooke = facts_of(&records, "brookemonk_");
        assert_eq!(brooke.region.as_deref(), Some("US"));
        assert_eq!(brooke.language.as_deref(), Some("en"));
        assert_eq!(brooke.engagement_rate, Some(0.0819));
        let handles = brooke.other_handles.as_ref().unwrap();
        assert_eq!(
            handles.get("instagram").map(String::as_str),
            Some("brookemonk")
        );
        assert_eq!(handles.len(), 1);
        // "region": "BR", "desc_language": "pt", "ins_id": "", (2,597 + 77 + 382) / 70,520.
        let nunes = facts_of(&records, "nuneszzr");
        assert_eq!(nunes.region.as_deref(), Some("BR"));
        assert_eq!(nunes.language.as_deref(), Some("pt"));
        assert_eq!(nunes.engagement_rate, Some(0.0433));
        assert_eq!(nunes.other_handles, None);
        // "desc_language": "un" (undetermined) is no language.
        assert_eq!(facts_of(&records, "teressbzvh9").language, None);
        // Keyword hits carry no links, business contact or category.
        assert!(records.iter().all(|r| r.creator.facts.links.is_none()
            && r.creator.facts.business_email.is_none()
            && r.creator.facts.category.is_none()));

        let count =
            |f: fn(&CreatorFacts) -> bool| records.iter().filter(|r| f(&r.creator.facts)).count();
        assert_eq!(count(|f| f.region.is_some()), 27);
        assert_eq!(count(|f| f.region.as_deref() == Some("US")), 10);
        assert_eq!(count(|f| f.language.is_some()), 17);
        assert_eq!(count(|f| f.engagement_rate.is_some()), 27);
        assert_eq!(count(|f| f.other_handles.is_some()), 7);
        for r in records.iter().take(6) {
            let (f, s) = (&r.creator.facts, &r.video.as_ref().unwrap().statistics);
            eprintln!(
                "tiktok keyword @{:<22} region {:?} language {:?} engagement {:?} = ({:?}+{:?}+{:?})/{:?} other {:?}",
                r.creator.unique_id, f.region, f.language, f.engagement_rate,
                s.likes, s.comments, s.shares, s.views, f.other_handles
            );
        }
    }

    #[test]
    fn a_profile_gives_region_language_bio_link_and_category() {
        // "region": "US", "language": "en", "bioLink": {"link": "https://ter.li/Everydollar"},
        // "commerceUserInfo": {"commerceUser": false} (no category).
        let dave: TikTokProfile = recorded("tiktok-profile/daveramsey.json");
        let facts = profile_facts(dave.user.as_ref().unwrap());
        assert_eq!(facts.region.as_deref(), Some("US"));
        assert_eq!(facts.language.as_deref(), Some("en"));
        assert_eq!(
            facts.links.as_deref(),
            Some(&["https://ter.li/Everydollar".to_owned()][..])
        );
        assert_eq!(facts.category, None);
        assert_eq!(facts.engagement_rate, None);
        // "region": "NG", "bioLink": {"link": ".../the-barstool-fund"},
        // "commerceUserInfo": {"category": "Public Administration"}.
        let portnoy: TikTokProfile = recorded("tiktok-profile/dave_portnoy.json");
        let facts = profile_facts(portnoy.user.as_ref().unwrap());
        assert_eq!(facts.region.as_deref(), Some("NG"));
        assert_eq!(facts.category.as_deref(), Some("Public Administration"));
        assert_eq!(
            facts.links.as_deref(),
            Some(&["https://www.barstoolsports.com/the-barstool-fund".to_owned()][..])
        );

        let dir = testkit::replay::fixtures_dir().join("tiktok-profile");
        let mut all = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let profile: TikTokProfile = recorded(&format!("tiktok-profile/{name}"));
            all.push(profile_facts(&profile.user.unwrap()));
        }
        assert_eq!(all.len(), 125);
        let count = |f: fn(&CreatorFacts) -> bool| all.iter().filter(|x| f(x)).count();
        assert_eq!(count(|f| f.region.is_some()), 98);
        // "es-419" and "pt-BR" count as "es" and "pt"; one profile's language is "".
        assert_eq!(count(|f| f.language.is_some()), 124);
        assert_eq!(count(|f| f.links.is_some()), 43);
        assert_eq!(count(|f| f.category.is_some()), 33);
        eprintln!("tiktok profiles: 125, region 98, language 124, bio link 43, category 33");
    }

    #[test]
    fn a_look_up_keeps_the_videos_region_where_the_profile_names_none() {
        let mut record = video_record(
            serde_json::from_value(serde_json::json!({
                "region": "CA", "desc_language": "fr",
                "author": {"unique_id": "x", "ins_id": "x_ig"},
                "statistics": {"digg_count": 8, "comment_count": 1, "share_count": 1, "play_count": 100}
            }))
            .unwrap(),
            "k",
        )
        .unwrap();
        let user: TikTokProfileUser = serde_json::from_value(serde_json::json!({
            "uniqueId": "x", "language": "en", "bioLink": {"link": "https://x.example"}
        }))
        .unwrap();
        record.creator.facts.merge(profile_facts(&user));
        let f = &record.creator.facts;
        assert_eq!(f.region.as_deref(), Some("CA"));
        assert_eq!(f.language.as_deref(), Some("en"));
        assert_eq!(f.engagement_rate, Some(0.1));
        assert_eq!(f.links.as_ref().unwrap(), &["https://x.example"]);
        assert_eq!(f.other_handles.as_ref().unwrap()["instagram"], "x_ig");
    }
}
