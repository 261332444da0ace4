//! Instagram: no keyword search; similar searches walk the related profiles Instagram lists for
//! the target (`/v1/instagram/profile`), in Instagram's order, and each is enriched from its own
//! profile.

use futures::{future::BoxFuture, FutureExt as _};

use super::{
    answered, private, target_error, KeywordPage, PlatformSearch, RelatedProfile, TargetProfile,
};
use crate::{
    creator_api::ApiCallError, creator_api::CreatorApi, parse::InstagramProfile,
    parse::InstagramUser, platforms::PageToken, platforms::SearchError,
};
use db::settings::Settings;
use domain::{
    creator::engagement_rate, creator::non_empty, creator::unique, creator::CreatorFacts,
    creator::CreatorRecord, search::Platform,
};

pub struct Instagram;

impl PlatformSearch for Instagram {
    fn platform(&self) -> Platform {
        Platform::Instagram
    }

    fn profile_url(&self, handle: &str) -> String {
        format!("https://www.instagram.com/{handle}/")
    }

    /// The setting `instagram_profiles_per_step`.
    fn related_per_step(&self, settings: &Settings) -> usize {
        settings.instagram_profiles_per_step()
    }

    /// Instagram offers no keyword search (starts refuse it): an empty, final page.
    fn keyword_page<'a>(
        &'a self,
        _api: &'a CreatorApi,
        _keyword: &'a str,
        _from: Option<&'a PageToken>,
        _region: Option<&'a str>,
    ) -> BoxFuture<'a, Result<KeywordPage, SearchError>> {
        async { Ok(KeywordPage::default()) }.boxed()
    }

    fn similar_target<'a>(
        &'a self,
        api: &'a CreatorApi,
        handle: &'a str,
    ) -> BoxFuture<'a, Result<TargetProfile, SearchError>> {
        async move {
            let profile: InstagramProfile = api
                .get("/v1/instagram/profile", &[("handle", handle)])
                .await
                .map_err(|e| target_error(e, "Instagram", handle))?;
            let user = profile.data.and_then(|d| d.user).ok_or_else(|| {
                SearchError::Target(format!("The Instagram account @{handle} was not found."))
            })?;
            if user.is_private {
                return Err(private(handle, "Instagram"));
            }
            let related = user
                .edge_related_profiles
                .map(|e| e.edges)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|edge| edge.node)
                .filter(|n| !n.is_private)
                .filter_map(|n| {
                    Some(RelatedProfile {
                        username: n
                            .username
                            .filter(|u| !u.is_empty() && !u.eq_ignore_ascii_case(handle))?,
                        full_name: n.full_name,
                        verified: n.is_verified,
                        profile_pic_url: n.profile_pic_url,
                    })
                })
                .collect();
            Ok(TargetProfile {
                name: user.full_name,
                bio: user.biography,
                followers: user.edge_followed_by.and_then(|e| e.count),
                related: Some(related),
            })
        }
        .boxed()
    }

    /// Not used: Instagram names the similar accounts itself.
    fn word_search<'a>(
        &'a self,
        _api: &'a CreatorApi,
        _word: &'a str,
        _target: &'a str,
    ) -> BoxFuture<'a, Result<Vec<CreatorRecord>, SearchError>> {
        async { Ok(Vec::new()) }.boxed()
    }

    fn enrich<'a>(
        &'a self,
        api: &'a CreatorApi,
        record: &'a mut CreatorRecord,
    ) -> BoxFuture<'a, Result<(), ApiCallError>> {
        async move {
            let handle = record.creator.unique_id.clone();
            let Some(profile) = answered(
                api.get::<InstagramProfile>("/v1/instagram/profile", &[("handle", &handle)])
                    .await,
            )?
            else {
                return Ok(());
            };
            let Some(user) = profile.data.and_then(|d| d.user) else {
                return Ok(());
            };
            record.creator.facts.merge(profile_facts(&user));
            record.creator.followers = user
                .edge_followed_by
                .and_then(|e| e.count)
                .or(record.creator.followers);
            record.creator.verified |= user.is_verified;
            if let Some(pic) = user.profile_pic_url_hd.or(user.profile_pic_url) {
                record.creator.profile_pic_url = Some(pic);
            }
            let extra: Vec<String> = user.business_email.into_iter().collect();
            record.set_bio(user.biography, &extra);
            Ok(())
        }
        .boxed()
    }
}

/// A profile's facts: its links, business contact and category, and the engagement of its recent
/// posts. Instagram's profile names no country or language.
fn profile_facts(user: &InstagramUser) -> CreatorFacts {
    let links = user.external_url.iter().cloned().chain(
        user.bio_links
            .iter()
            .flatten()
            .filter_map(|l| l.url.clone()),
    );
    CreatorFacts {
        engagement_rate: recent_posts_engagement(user),
        links: unique(links),
        business_email: non_empty(user.business_email.clone()).map(|e| e.to_lowercase()),
        business_phone: non_empty(user.business_phone_number.clone()),
        category: non_empty(user.category_name.clone()),
        ..Default::default()
    }
}

/// The recent posts' average (likes + comments), per follower; none without posts or followers.
fn recent_posts_engagement(user: &InstagramUser) -> Option<f64> {
    let followers = user.edge_followed_by.as_ref()?.count?;
    let per_post: Vec<u64> = user
        .edge_owner_to_timeline_media
        .as_ref()?
        .edges
        .iter()
        .filter_map(|e| e.node.as_ref())
        .filter_map(|post| {
            let likes = post
                .edge_liked_by
                .as_ref()
                .or(post.edge_media_preview_like.as_ref())?
                .count?;
            let comments = post.edge_media_to_comment.as_ref()?.count?;
            Some(likes + comments)
        })
        .collect();
    let posts = u64::try_from(per_post.len()).ok().filter(|n| *n > 0)?;
    engagement_rate(per_post.iter().sum::<u64>(), posts.checked_mul(followers)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(file: &str) -> InstagramProfile {
        testkit::replay::recorded_body(file)
    }

    #[test]
    fn a_profile_gives_links_category_and_the_engagement_of_its_recent_posts() {
        let profile = recorded("instagram-profile/gainsbybrains.json");
        let user = profile.data.unwrap().user.unwrap();
        let facts = profile_facts(&user);
        // "category_name": "Fitness Trainer"; "external_url" and "bio_links[0].url" are the same
        // App Store link; "business_email" and "business_phone_number" are null.
        assert_eq!(facts.category.as_deref(), Some("Fitness Trainer"));
        assert_eq!(
            facts.links.as_deref(),
            Some(
                &[
                    "https://apps.apple.com/nl/app/gainsbybrains-fitness-food/id6446317499?l=en-GB"
                        .to_owned()
                ][..]
            )
        );
        assert_eq!(facts.business_email, None);
        assert_eq!(facts.business_phone, None);
        // 12 recent posts with 276,856 likes and comments in all, 2,419,714 followers:
        // 276,856 / 12 / 2,419,714 = 0.0095.
        let posts = user.edge_owner_to_timeline_media.as_ref().unwrap();
        assert_eq!(posts.edges.len(), 12);
        assert_eq!(facts.engagement_rate, Some(0.0095));
        // Instagram names no country or language, and no other platform's handles.
        assert_eq!(facts.region, None);
        assert_eq!(facts.language, None);
        assert_eq!(facts.other_handles, None);
        eprintln!(
            "instagram @gainsbybrains category {:?} links {:?} engagement {:?} = 276856/12/2419714 business email {:?} phone {:?}",
            facts.category, facts.links, facts.engagement_rate, facts.business_email, facts.business_phone
        );
    }

    #[test]
    fn business_contact_is_read_where_the_profile_gives_it() {
        let user: InstagramUser = serde_json::from_value(serde_json::json!({
            "username": "shop", "business_email": "Hello@Shop.example",
            "business_phone_number": "+33 1 23 45 67 89", "edge_followed_by": {"count": 0},
            "edge_owner_to_timeline_media": {"edges": [{"node": {
                "edge_liked_by": {"count": 5}, "edge_media_to_comment": {"count": 1}}}]}
        }))
        .unwrap();
        let facts = profile_facts(&user);
        assert_eq!(facts.business_email.as_deref(), Some("hello@shop.example"));
        assert_eq!(facts.business_phone.as_deref(), Some("+33 1 23 45 67 89"));
        // No followers: no rate rather than a division by zero.
        assert_eq!(facts.engagement_rate, None);
        assert_eq!(facts.links, None);
    }
}
