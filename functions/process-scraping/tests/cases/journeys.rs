//! Whole searches through real SQS (the emulator) and PostgreSQL, per platform and search type.

use crate::common::{assert_completed, assert_status, tiktok_authors, Stack};
use serde_json::json;
use testkit::Replay;

#[tokio::test]
async fn a_tiktok_keyword_search_pages_until_the_target_and_reads_back_in_discovery_order() {
    let stack = Stack::new().await;
    let job = stack.keyword_search(&["airpods pro"], 45).await;
    let pending = stack.status(&job, 0, 10).await;
    assert_status(&pending, "pending");
    assert_eq!(pending["progress"], 0);

    let done = stack.finish_page(&job, 10).await;
    assert_completed(&done, "target_reached");
    assert_eq!(done["progress"], 100);
    assert_eq!(done["processedResults"], 45);
    assert_eq!(done["keywords"], json!(["airpods pro"]));
    assert_eq!(
        done["creators"].as_array().unwrap().len(),
        10,
        "one page, not the whole job"
    );
    assert_eq!(done["pagination"]["nextOffset"], 10);

    let expected: Vec<String> = tiktok_authors("airpods-pro", 1..=4)
        .into_iter()
        .take(45)
        .collect();
    let creators = stack.all_creators(&job).await;
    let handles: Vec<String> = creators
        .iter()
        .map(|c| c["creator"]["uniqueId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(handles, expected);
    let first = &creators[0];
    assert_eq!(first["platform"], "TikTok");
    assert_eq!(first["foundBy"], json!({"keyword": "airpods pro"}));
    assert!(first["video"]["url"]
        .as_str()
        .unwrap()
        .starts_with("https://www.tiktok.com/@"));
    assert!(first["creator"]["followers"].as_u64().is_some());
    // Every recorded keyword hit names its region and carries its video's statistics.
    assert!(creators.iter().all(|c| c["creator"]["region"]
        .as_str()
        .is_some_and(|r| r.len() == 2)
        && c["creator"]["engagementRate"].is_f64()));
    assert_eq!(stack.tiktok_pages(), 2, "two pages of ~30 reach 45");
    stack.assert_consistent(&job).await;

    let csv = stack.csv(&job).await;
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("\u{feff}Username,Display name,Followers,Bio,Emails,Profile URL,Video URL,Video description,Likes,Comments,Shares,Views,Hashtags,Video date,Keyword,Profile look-up,Engagement rate,Region,Language,Links,Business email,Business phone,Other handles,Category")
    );
    assert_eq!(csv.lines().count(), 46, "a header and one row per creator");
    let first_row = lines.next().unwrap();
    assert!(
        first_row.starts_with(&format!("{},", expected[0])),
        "{first_row}"
    );
    assert!(
        first_row.contains(",airpods pro,"),
        "the keyword that found it: {first_row}"
    );
    let dated = first_row
        .split(',')
        .any(|cell| chrono::NaiveDateTime::parse_from_str(cell, "%Y-%m-%d %H:%M:%S").is_ok());
    assert!(dated, "the video's date: {first_row}");
}

#[tokio::test]
async fn the_nike_search_stops_where_the_api_says_there_is_no_more() {
    let stack = Stack::new().await;
    let job = stack.keyword_search(&["nike"], 1000).await;
    let done = stack.finish_page(&job, 5).await;
    assert_completed(&done, "results_exhausted");
    assert_eq!(done["progress"], 100);
    // Page 3 says has_more = 0: pages 4 to 7 are never requested.
    assert_eq!(stack.tiktok_pages(), 3);
    let expected = tiktok_authors("nike", 1..=3);
    assert_eq!(done["processedResults"], expected.len());
    assert_eq!(done["processedRuns"], 3);
    stack.assert_consistent(&job).await;
}

#[tokio::test]
async fn a_page_without_items_ends_the_results() {
    use domain::{search::Platform, search::SearchTarget};
    use pipeline::{
        creator_api::CreatorApi, search::fetch_page, search::Cursor, search::PageToken,
        search::SearchSpec,
    };
    use shared::config::CreatorApiConfig;
    let replay = Replay::start().await;
    let api = CreatorApi::new(
        &CreatorApiConfig {
            base_url: replay.base_url().into(),
            api_key: None,
            timeout: std::time::Duration::from_secs(5),
        },
        "k",
    )
    .unwrap();
    let spec = SearchSpec {
        platform: Platform::TikTok,
        target: SearchTarget::Keywords(vec!["nike".into()]),
        region: None,
        batch_size: 10,
    };
    // nike page 7 (cursor 180) has no search_item_list.
    let page = fetch_page(
        &api,
        &spec,
        Some(Cursor::Keyword {
            keyword_index: 0,
            next: Some(PageToken::Offset(180)),
        }),
    )
    .await
    .unwrap();
    assert!(page.creators.is_empty());
    assert!(page.exhausted);
}

#[tokio::test]
async fn a_youtube_keyword_search_finds_channels_until_the_results_run_out() {
    let stack = Stack::new().await;
    let job = stack
        .keyword_search_on("youtube", &["airpods pro"], 100)
        .await;
    let done = stack.finish_page(&job, 100).await;
    assert_completed(&done, "results_exhausted");
    let creators = done["creators"].as_array().unwrap();
    assert!(creators.len() >= 5, "{}", creators.len());
    assert!(creators.iter().all(|c| c["platform"] == "YouTube"));
    assert!(creators.iter().all(|c| c["creator"]["profileUrl"]
        .as_str()
        .unwrap()
        .starts_with("https://www.youtube.com/")));
    assert!(creators[0]["video"]["statistics"]["views"]
        .as_u64()
        .is_some());
    stack.assert_consistent(&job).await;
}

#[tokio::test]
async fn a_tiktok_similar_search_ranks_users_found_by_the_targets_words_and_reads_their_bios() {
    let stack = Stack::new().await;
    let job = stack
        .similar_search("tiktok", "https://www.tiktok.com/@stoolpresidente", 40)
        .await;
    let done = stack.finish_page(&job, 100).await;
    assert_status(&done, "completed");
    assert_eq!(done["targetUsername"], "stoolpresidente");
    assert_eq!(done["processedResults"], 40);
    let creators = done["creators"].as_array().unwrap();
    assert!(creators
        .iter()
        .all(|c| c["creator"]["uniqueId"] != "stoolpresidente"));
    assert!(creators
        .iter()
        .all(|c| c["foundBy"] == json!({"similarTo": "stoolpresidente"})));
    // Best first: every creator carries its relevance, and the pages are in that order.
    let relevance: Vec<f64> = creators
        .iter()
        .map(|c| c["relevance"].as_f64().expect("a relevance"))
        .collect();
    let mut sorted = relevance.clone();
    sorted.sort_by(|a, b| b.total_cmp(a));
    assert_eq!(relevance, sorted);
    // The bio names the brand Barstool: its accounts rank above those that only share a common
    // word ("sports") with the target, however large their audience.
    let rank = |handle: &str| {
        creators
            .iter()
            .position(|c| c["creator"]["uniqueId"] == handle)
            .unwrap_or_else(|| panic!("{handle} was found"))
    };
    let top: Vec<String> = creators
        .iter()
        .take(10)
        .map(|c| format!("{} {}", c["creator"]["uniqueId"], c["creator"]["name"]).to_lowercase())
        .collect();
    assert!(top.iter().all(|h| h.contains("barstool")), "{top:?}");
    if let Some(espn) = creators
        .iter()
        .position(|c| c["creator"]["uniqueId"] == "espn")
    {
        assert!(rank("barstoolkate") < espn);
    }
    assert_eq!(done["pagination"]["order"], "relevance");
    assert_eq!(done["pagination"]["stable"], true, "the search has ended");
    let chicago_or_kate = creators
        .iter()
        .find(|c| c["creator"]["uniqueId"] == "barstoolkate")
        .expect("barstoolkate was found");
    assert!(
        chicago_or_kate["creator"]["bio"]
            .as_str()
            .unwrap()
            .contains("daily show"),
        "bio read from the profile"
    );
    stack.assert_consistent(&job).await;
}

#[tokio::test]
async fn an_instagram_similar_search_walks_the_related_profiles_in_batches() {
    let stack = Stack::new().await;
    let job = stack
        .similar_search("instagram", "@gainsbybrains", 25)
        .await;
    let done = stack.finish_page(&job, 100).await;
    assert_status(&done, "completed");
    assert_eq!(done["processedResults"], 25);
    assert_eq!(done["processedRuns"], 3, "10 related profiles per step");
    let creators = done["creators"].as_array().unwrap();
    assert_eq!(creators[0]["creator"]["uniqueId"], "analiscruzx");
    assert!(creators.iter().all(|c| c["creator"]["profileUrl"]
        .as_str()
        .unwrap()
        .starts_with("https://www.instagram.com/")));
    assert_eq!(
        stack.replay.calls("/v1/instagram/profile"),
        1 + 25,
        "the target once, then each related profile"
    );
    stack.assert_consistent(&job).await;
}

#[tokio::test]
async fn a_youtube_similar_search_of_an_unknown_channel_ends_in_a_clear_error() {
    let stack = Stack::new().await;
    let job = stack
        .search("youtube", json!({"username": "@nobody-recorded"}))
        .await;
    let done = stack.finish_page(&job, 10).await;
    assert_status(&done, "error");
    assert_eq!(
        done["error"],
        "The YouTube account @nobody-recorded was not found."
    );
    assert_eq!(stack.replay.calls("/v1/youtube/search"), 0);
}

#[tokio::test]
async fn a_youtube_similar_search_searches_the_channels_words_and_enriches_channels() {
    let stack = Stack::with(Replay::start_with_documented().await, "test-key").await;
    let job = stack.similar_search("youtube", "TechIRL00", 10).await;
    let done = stack.finish_page(&job, 10).await;
    assert_completed(&done, "results_exhausted");
    // The words of the channel's description and name, most specific first (names before plain
    // words, the business address left out); single words are not recorded, so each search finds
    // nothing and the job runs out of words.
    let searched: Vec<String> = stack
        .replay
        .log()
        .into_iter()
        .filter(|(path, _, _)| path == "/v1/youtube/search")
        .map(|(_, query, _)| query["query"].clone())
        .collect();
    assert_eq!(searched, ["airpods", "iphone", "apple", "irl", "tips"]);
    stack.assert_consistent(&job).await;
}

#[tokio::test]
async fn youtube_channels_found_by_keyword_are_enriched_from_their_channel_page() {
    let stack = Stack::with(Replay::start_with_documented().await, "test-key").await;
    let job = stack
        .keyword_search_on("youtube", &["airpods pro"], 50)
        .await;
    stack.run_until_idle().await;
    let creators = stack.all_creators(&job).await;
    let tech = creators
        .iter()
        .find(|c| c["creator"]["uniqueId"] == "TechIRL00")
        .expect("Tech IRL found");
    assert_eq!(tech["creator"]["followers"], 512000);
    assert_eq!(
        tech["creator"]["emails"],
        json!(["contact@techirl.example"])
    );
    assert_eq!(
        tech["creator"]["profilePicUrl"],
        "https://yt3.ggpht.com/techirl=s88"
    );
}
