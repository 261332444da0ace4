//! Instagram: no keyword search; similar searches walk the related profiles Instagram lists for
//! the target (`/v1/instagram/profile`), in Instagram's order, and each is enriched from its own
//! profile.

use futures::{future::BoxFuture, FutureExt as _};

use super::{
    answered, private, target_error, KeywordPage, PlatformSearch, RelatedProfile, TargetProfile,
};
use crate::{
    creator_api::ApiCallError, creator_api::CreatorApi, parse::InstagramProfile,
    platforms::PageToken, platforms::SearchError,
};
use db::settings::Settings;
use domain::{creator::CreatorRecord, search::Platform};

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
