//! Campaigns of 1,000 and 10,000 creators exported by the compiled `export-campaign-creators`
//! under the Runtime API emulator: the first invocation and the process's peak RSS. The larger
//! file goes to the S3 emulator (more than an inline answer may hold); memory should not grow
//! with the export.

use local::harness::{event, USER};
use serde_json::json;

use crate::{
    cold::cold_start,
    env::Env,
    report::{ms, percentile, section, table},
};

pub async fn exports(env: &Env, runs: usize) -> anyhow::Result<()> {
    section(&format!("Campaign exports ({runs} runs each)"));
    table(&[
        "creators",
        "stored JSON MB",
        "first invocation p50 ms",
        "peak RSS MB",
    ]);
    for total in [1_000i32, 10_000] {
        export_once(env, runs, total).await?;
    }
    Ok(())
}

/// `runs` cold exports of a campaign of `total` creators, and its row of the table.
async fn export_once(env: &Env, runs: usize, total: i32) -> anyhow::Result<()> {
    let campaign = seed_campaign(env, total).await?;
    let mut event = event("export-campaign-creators");
    let path = format!("/campaigns/{campaign}/creators.csv");
    event["rawPath"] = json!(path);
    event["requestContext"]["http"]["path"] = json!(path);
    event["pathParameters"]["campaignId"] = json!(campaign.to_string());
    let (mut firsts, mut rss) = (Vec::new(), 0u64);
    for _ in 0..runs {
        let start = cold_start(env, "export-campaign-creators", &event).await?;
        // Inline up to 4 MB, a link beyond: anything else is a failed export, not a figure.
        let expected = if total > 5_000 { 303 } else { 200 };
        anyhow::ensure!(
            start.answer["statusCode"] == expected,
            "the export answered {}, not {expected}",
            start.answer["statusCode"]
        );
        firsts.push(ms(start.first));
        rss = rss.max(start.peak_rss_kb);
    }
    let bytes: i64 = env
        .db
        .client()
        .await
        .query_one(
            "SELECT sum(octet_length(creators::text))::bigint FROM scraping_results r
               JOIN scraping_jobs j ON j.id = r.job_id WHERE j.campaign_id = $1",
            &[&campaign],
        )
        .await?
        .get(0);
    println!(
        "| {total} | {:.1} | {:.0} | {:.1} |",
        bytes as f64 / 1e6,
        percentile(&mut firsts, 0.5),
        rss as f64 / 1024.0
    );
    Ok(())
}

/// A campaign of two completed searches holding `total` creator-sized rows between them.
async fn seed_campaign(env: &Env, total: i32) -> anyhow::Result<uuid::Uuid> {
    let per_job = total / 2;
    let client = env.db.client().await;
    let campaign: uuid::Uuid = client
        .query_one(
            "INSERT INTO campaigns (user_id, name, search_type) VALUES ($1, 'Export bench', 'keyword') RETURNING id",
            &[&USER],
        )
        .await?
        .get(0);
    for search in 0..2 {
        let job: uuid::Uuid = client
            .query_one(
                "INSERT INTO scraping_jobs (user_id, campaign_id, platform, search_type, keywords, target_results,
                     status, processed_results, processed_runs, timeout_at, completed_at)
                 VALUES ($1, $2, 'TikTok', 'keyword', '[\"bench\"]', 1000, 'completed', $3, 1, now(), now())
                 RETURNING id",
                &[&USER, &campaign, &per_job],
            )
            .await?
            .get(0);
        // Creator-sized rows: a 300-character bio, a video with its caption and statistics.
        client
            .execute(
                "INSERT INTO scraping_results (job_id, step, position, creator_key, creators)
                 SELECT $1, 0, n, 'c' || ($2 * $3 + n), jsonb_build_object(
                     'platform', 'TikTok', 'hashtags', '[\"bench\", \"export\"]'::jsonb,
                     'foundBy', jsonb_build_object('keyword', 'bench'),
                     'creator', jsonb_build_object('name', 'Creator ' || n, 'uniqueId', 'c' || ($2 * $3 + n),
                         'followers', 1000 + n, 'avatarUrl', null, 'profilePicUrl', null,
                         'bio', repeat('Creator bio with words. ', 12) || n, 'emails', jsonb_build_array('c' || n || '@example.com'),
                         'verified', false, 'profileUrl', 'https://www.tiktok.com/@c' || n),
                     'video', jsonb_build_object('description', repeat('A caption #bench ', 6), 'url', 'https://www.tiktok.com/@c' || n || '/video/' || n,
                         'statistics', jsonb_build_object('likes', n, 'comments', 1, 'shares', 2, 'views', 10 * n)),
                     'publishedAt', 1751484088)
                 FROM generate_series(0, $3 - 1) AS n",
                &[&job, &search, &per_job],
            )
            .await?;
    }
    Ok(campaign)
}
