//! Any input is parsed or rejected, never a panic: the creator API's response parsers (fed any
//! JSON, and real pages cut short or corrupted) and the request parsers (fed any text).

use domain::{
    campaign::CreateCampaignBody, campaign::NewCampaign, search::normalize_username,
    search::sanitize_keyword, search::NewSearch, search::Platform, search::StartSearchBody,
};
use pipeline::parse::*;
use proptest::prelude::*;
use serde_json::Value;

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        ".{0,20}".prop_map(Value::String),
        // Keys the parsers look for, so generated objects reach the interesting branches.
        prop_oneof![
            Just("search_item_list"),
            Just("aweme_info"),
            Just("author"),
            Just("unique_id"),
            Just("has_more"),
            Just("cursor"),
            Just("user"),
            Just("stats"),
            Just("users"),
            Just("user_info"),
            Just("data"),
            Just("edge_related_profiles"),
            Just("edges"),
            Just("node"),
            Just("videos"),
            Just("channel"),
            Just("continuationToken"),
            Just("follower_count"),
            Just("signature"),
            Just("account_private")
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("search_item_list".to_owned()),
                        Just("aweme_info".to_owned()),
                        Just("author".to_owned()),
                        Just("unique_id".to_owned()),
                        Just("has_more".to_owned()),
                        Just("cursor".to_owned()),
                        Just("user".to_owned()),
                        Just("stats".to_owned()),
                        Just("users".to_owned()),
                        Just("user_info".to_owned()),
                        Just("data".to_owned()),
                        Just("edge_related_profiles".to_owned()),
                        Just("edges".to_owned()),
                        Just("node".to_owned()),
                        Just("videos".to_owned()),
                        Just("channel".to_owned()),
                        Just("statistics".to_owned()),
                        Just("text_extra".to_owned()),
                        Just("follower_count".to_owned()),
                        Just("avatar_medium".to_owned()),
                        Just("url_list".to_owned()),
                        "[a-z_]{1,12}"
                    ],
                    inner,
                ),
                0..6,
            )
            .prop_map(|kvs| Value::Object(kvs.into_iter().collect())),
        ]
    })
}

fn parse_all(bytes: &[u8]) {
    let _ = serde_json::from_slice::<TikTokKeywordPage>(bytes);
    let _ = serde_json::from_slice::<TikTokProfile>(bytes);
    let _ = serde_json::from_slice::<TikTokUserSearch>(bytes);
    let _ = serde_json::from_slice::<InstagramProfile>(bytes);
    let _ = serde_json::from_slice::<YouTubeSearch>(bytes);
    if let Ok(channel) = serde_json::from_slice::<YouTubeChannel>(bytes) {
        let _ = channel.avatar_url();
        let _ = channel.link_texts();
    }
}

fn fixture(name: &str) -> Vec<u8> {
    let path = testkit::replay::fixtures_dir().join(name);
    let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    serde_json::to_vec(&v["response"]["body"]).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_response_parsers_accept_or_reject_any_json(value in any_json()) {
        parse_all(&serde_json::to_vec(&value).unwrap());
    }

    #[test]
    fn the_response_parsers_accept_or_reject_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        parse_all(&bytes);
    }

    #[test]
    fn a_real_profile_cut_or_corrupted_never_panics(cut in 0usize..20_000, at in 0usize..20_000, byte in any::<u8>()) {
        let mut body = fixture("tiktok-profile/barstoolkate.json");
        let at = at % body.len();
        body[at] = byte;
        body.truncate(cut.min(body.len()));
        parse_all(&body);
    }

    #[test]
    fn request_parsers_accept_or_reject_any_text(text in "\\PC{0,120}", n in any::<i64>()) {
        let _ = normalize_username(&text);
        let _ = sanitize_keyword(&text);
        let _ = NewCampaign::try_from(CreateCampaignBody {
            name: text.clone(),
            description: Some(text.clone()),
            search_type: domain::campaign::SearchType::Keyword,
        });
        for platform in [Platform::TikTok, Platform::Instagram, Platform::YouTube] {
            let _ = NewSearch::parse(platform, StartSearchBody {
                campaign_id: uuid::Uuid::nil(),
                keywords: Some(vec![text.clone(), text.clone()]),
                username: None,
                target_results: Some(n),
                region: Some(text.clone()),
            });
            let _ = NewSearch::parse(platform, StartSearchBody {
                campaign_id: uuid::Uuid::nil(),
                keywords: None,
                username: Some(text.clone()),
                target_results: None,
                region: None,
            });
        }
    }

    #[test]
    fn request_bodies_of_any_bytes_get_an_answer_not_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let body = lambda_http::Body::Binary(bytes);
        let mut req = lambda_http::Request::new(body);
        req.headers_mut().insert("content-type", "application/json".parse().unwrap());
        let _ = api::json_body::<StartSearchBody>(&req);
        let _ = api::json_body::<CreateCampaignBody>(&req);
    }
}

#[test]
fn a_real_two_megabyte_page_parses_every_item() {
    let page: TikTokKeywordPage =
        serde_json::from_slice(&fixture("tiktok-search-keyword/nike-page1.json")).unwrap();
    let items = page.search_item_list.unwrap();
    assert_eq!(items.len(), 27);
    assert!(items.iter().all(|i| i
        .aweme_info
        .as_ref()
        .and_then(|a| a.author.as_ref())
        .is_some()));
    assert_eq!(page.has_more, Some(1));
}
