//! `local` — the product on a developer machine, and the one owner of the servers it needs.
//!
//! ```text
//! local serve                        everything, in the foreground, until Ctrl-C
//! local token USER_ID [--email A]    a bearer token for USER_ID (valid 24 h), with an email claim
//! local onboard URL USER_ID          completes USER_ID's onboarding on the API at URL
//! local mail                         the emails sent so far (by `local serve`), as JSON lines
//! local migrate                      apply migrations to DATABASE_URL
//! local rie FUNCTION [EVENT] [--arm64]  one invocation under AWS's Runtime Interface Emulator (scripts/invoke)
//! local invoke FUNCTION EVENT.json   run one HTTP function's handler with an event file
//! local up [--pgbouncer] [--drop-test-databases] [--] COMMAND [ARGS...]
//!                                    COMMAND with PostgreSQL, moto (and PgBouncer) brought up
//!                                    when missing and stopped after it (scripts/test)
//! local pgbouncer-packages           the packages whose tests also run through PgBouncer
//! local artifacts [--list]           every event through its arm64 artifact (scripts/check-artifacts);
//!                                    --list: only which function each event goes to
//! local contract-fuzz                schemathesis against `local serve` (scripts/contract-fuzz)
//! local bench                        the benchmarks, then the load against `local serve` (scripts/bench)
//! ```

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::{bail, Context};
use lambda_http::Body;
use local::{app::App, auth::Auth, services};
use pipeline::creator_api::CreatorApi;
use shared::config::Config;

/// Where `local` keeps its token key, logs and the records of the servers it started:
/// `GEMZ_STATE_DIR`, else `.local` in the folder it runs from.
fn state_dir() -> PathBuf {
    std::env::var_os("GEMZ_STATE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".local"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["serve"] => serve().await,
        ["token", user] => {
            println!("{}", Auth::from_env_or_file(&state_dir())?.mint(user, 24)?);
            Ok(())
        }
        ["token", user, "--email", email] => {
            let auth = Auth::from_env_or_file(&state_dir())?;
            println!("{}", auth.mint_with_email(user, Some(email), 24)?);
            Ok(())
        }
        ["rie", rest @ ..] => {
            let rest: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
            let root = std::env::current_dir()?;
            let code = local::invoke::run(&root, &state_dir(), &rest).await?;
            std::process::exit(code);
        }
        ["onboard", url, user] => {
            let token = Auth::from_env_or_file(&state_dir())?.mint(user, 24)?;
            local::served::onboard(url.trim_end_matches('/'), &token).await
        }
        ["up", rest @ ..] => {
            let rest: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
            std::process::exit(local::up::run(&state_dir(), &rest).await?);
        }
        ["pgbouncer-packages"] => {
            for name in local::packages::pgbouncer(&std::env::current_dir()?)? {
                println!("{name}");
            }
            Ok(())
        }
        ["artifacts"] => {
            let root = std::env::current_dir()?;
            std::process::exit(local::artifacts::run(&root, &state_dir()).await?);
        }
        ["artifacts", "--list"] => local::artifacts::list(&std::env::current_dir()?),
        ["contract-fuzz"] => {
            let root = std::env::current_dir()?;
            std::process::exit(local::contract_fuzz::run(&root, &state_dir()).await?);
        }
        ["bench"] => std::process::exit(local::benchmarks::run(&state_dir()).await?),
        ["mail"] => local::mail::print(&state_dir()).await,
        ["migrate"] => {
            let config = shared::runtime::init().await?;
            let pool = db::pool(&config.database)?;
            let mut client = pool.get().await.context("Failed to connect to DATABASE_URL")?;
            println!("migrations applied: {}", db::migrate(&mut client).await?);
            Ok(())
        }
        ["invoke", function, event] => {
            let config = shared::runtime::init().await?;
            let pool = db::pool(&config.database)?;
            let text = std::fs::read_to_string(event).with_context(|| format!("Failed to read {event}"))?;
            let request = lambda_http::request::from_str(&text).context("Not an API Gateway HTTP API event")?;
            let queue = queue::SqsQueue::from_env(config.jobs_queue_url.clone().unwrap_or_default()).await;
            let api = CreatorApi::new(&config.creator_api, config.creator_api.api_key.as_deref().unwrap_or_default())?;
            let app = App::new(&config, pool, queue, None, api);
            let response = app.invoke_http(function, request).await.with_context(|| format!("unknown function {function}"))?;
            print_response(response);
            Ok(())
        }
        _ => bail!(
            "usage: local serve | local token USER_ID [--email ADDRESS] | local onboard URL USER_ID | local mail \
             | local rie FUNCTION [EVENT] [--arm64] | local migrate | local invoke FUNCTION EVENT.json \
             | {} | local pgbouncer-packages | local artifacts [--list] | local contract-fuzz | local bench",
            local::up::USAGE
        ),
    }
}

async fn serve() -> anyhow::Result<()> {
    shared::telemetry::init();
    let dir = state_dir();
    std::fs::create_dir_all(&dir)?;
    // Servers are started after the signal handlers are installed, so a signal that arrives
    // while they start still stops them; a killed earlier run's leftovers are stopped first.
    let mut stop = Box::pin(local::signals::first()?);
    local::procs::reap_leftovers(&dir);
    let (postgres, sqs) = tokio::select! {
        started = start_services(&dir) => started?,
        _ = &mut stop => return Ok(()),
    };

    // The creator API: a given server, the real API, or the recorded responses replayed.
    let (base_url, key, _replay) = match (
        std::env::var("SCRAPECREATORS_BASE_URL"),
        std::env::var("SCRAPECREATORS_API_KEY"),
    ) {
        (Ok(url), key) => {
            eprintln!("creator API: {url}");
            (url, key.unwrap_or_else(|_| "local".into()), None)
        }
        (Err(_), Ok(key)) => {
            eprintln!("creator API: https://api.scrapecreators.com (real, paid calls)");
            ("https://api.scrapecreators.com".to_owned(), key, None)
        }
        (Err(_), Err(_)) => {
            let replay = testkit::Replay::start().await;
            eprintln!(
                "creator API: replay of the recorded responses on {}",
                replay.base_url()
            );
            (
                replay.base_url().to_owned(),
                "local".to_owned(),
                Some(replay),
            )
        }
    };
    let mut config = Config::from_lookup(|name| match name {
        "DATABASE_URL" => Some(postgres.url.clone()),
        "SCRAPECREATORS_BASE_URL" => Some(base_url.clone()),
        "SCRAPECREATORS_API_KEY" => Some(key.clone()),
        // Large exports go to a bucket of the S3 emulator (moto's server) unless told otherwise.
        "EXPORTS_BUCKET" => std::env::var(name)
            .ok()
            .or_else(|| (!sqs.endpoint.is_empty()).then(|| local::exports::BUCKET.to_owned())),
        "AWS_ENDPOINT_URL_S3" => std::env::var(name)
            .ok()
            .or_else(|| (!sqs.endpoint.is_empty()).then(|| sqs.endpoint.clone())),
        other => std::env::var(other).ok(),
    })?;
    // Only an emulator's bucket is created here; a real one comes from the template.
    if let (Some(bucket), Some(endpoint)) = (&config.exports_bucket, &config.exports_endpoint) {
        local::exports::ensure_bucket(bucket, endpoint).await?;
    }
    config.max_receive_count = services::MAX_RECEIVE_COUNT;
    let pool = db::pool(&config.database)?;
    {
        let mut client = pool
            .get()
            .await
            .context("Failed to connect to PostgreSQL")?;
        let applied = db::migrate(&mut client).await?;
        eprintln!("migrations: {applied} applied");
    }
    let api = CreatorApi::new(&config.creator_api, &key)?;
    let dead_letters = (!sqs.dlq_url.is_empty())
        .then(|| queue::SqsQueue::new(sqs.queue.client().clone(), sqs.dlq_url.clone()));
    let app = App::new(&config, pool, sqs.queue.clone(), dead_letters, api);
    let auth = Auth::from_env_or_file(&dir)?;

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let source =
        local::template::sqs_event_source(local::template::BUILT_WITH, "process-scraping")?;
    eprintln!(
        "worker: batches of {}, at most {} at once (template.yaml's event source)",
        source.batch_size, source.max_concurrency
    );
    let poller = tokio::spawn(local::poller::run_poller(
        app.clone(),
        source,
        stop_rx.clone(),
    ));
    let sweeper = tokio::spawn(local::poller::run_sweeper(
        app.clone(),
        Duration::from_secs(60),
        stop_rx.clone(),
    ));
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let sender = local::mail::sender(&config, &app, &sqs.endpoint, &dir, &port).await?;
    let mailer = tokio::spawn(local::poller::run_mailer(
        sender,
        Duration::from_secs(5),
        stop_rx.clone(),
    ));

    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}"))
        .await
        .with_context(|| format!("Failed to listen on 127.0.0.1:{port} (set PORT)"))?;
    eprintln!(
        "HTTP API: http://127.0.0.1:{port}   token: cargo run -q -p local -- token YOUR_USER_ID"
    );
    eprintln!("Ctrl-C, SIGTERM or SIGHUP stops everything this started.");
    let router = local::gateway::router(Arc::clone(&app), auth);
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            stop.await;
        })
        .await?;
    let _ = stop_tx.send(true);
    let _ = tokio::join!(poller, sweeper, mailer);
    app.pool.close();
    drop(sqs);
    drop(postgres);
    Ok(())
}

async fn start_services(
    dir: &std::path::Path,
) -> anyhow::Result<(services::Postgres, services::Sqs)> {
    let postgres = services::Postgres::start(dir).await?;
    let sqs = services::Sqs::start(dir).await?;
    Ok((postgres, sqs))
}

fn print_response(response: lambda_http::Response<Body>) {
    println!("{}", response.status());
    let body = match response.body() {
        Body::Text(t) => t.clone(),
        Body::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    };
    match serde_json::from_str::<serde_json::Value>(&body) {
        Ok(json) => println!("{}", serde_json::to_string_pretty(&json).unwrap_or(body)),
        Err(_) => println!("{body}"),
    }
}
