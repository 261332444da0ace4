//! `template.yaml`, `openapi.yaml` and the local gateway describe the same routes, and every
//! route answers as `openapi.yaml` says: status codes documented, bodies valid against the schemas.

use std::{collections::BTreeSet, path::Path, sync::Arc, time::Duration};

use local::{app::App, auth::Auth, routes::ROUTES};
use pipeline::creator_api::CreatorApi;
use serde_json::{json, Value};
use shared::config::Config;
use testkit::{Replay, TestDb, TestQueue};

fn yaml(name: &str) -> Value {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name))
        .unwrap();
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    to_json(value)
}

/// YAML to JSON; CloudFormation's `!Ref`-style tags keep their value.
fn to_json(v: serde_yaml_ng::Value) -> Value {
    use serde_yaml_ng::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => json!(b),
        Y::Number(n) => serde_json::to_value(n).unwrap(),
        Y::String(s) => json!(s),
        Y::Sequence(s) => Value::Array(s.into_iter().map(to_json).collect()),
        Y::Mapping(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    (
                        k.as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| format!("{k:?}")),
                        to_json(v),
                    )
                })
                .collect(),
        ),
        Y::Tagged(t) => to_json(t.value),
    }
}

fn routes() -> BTreeSet<(String, String, String)> {
    ROUTES
        .iter()
        .map(|(m, p, f)| (m.to_string(), p.to_string(), f.to_string()))
        .collect()
}

#[test]
fn the_template_deploys_exactly_the_routes_the_local_gateway_serves() {
    let template = yaml("template.yaml");
    let mut found = BTreeSet::new();
    let mut binaries = BTreeSet::new();
    for resource in template["Resources"].as_object().unwrap().values() {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        assert_eq!(resource["Metadata"]["BuildMethod"], "rust-cargolambda");
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap()
            .to_owned();
        binaries.insert(binary.clone());
        for event in resource["Properties"]["Events"]
            .as_object()
            .into_iter()
            .flat_map(|e| e.values())
        {
            if event["Type"] == "HttpApi" {
                let p = &event["Properties"];
                let public = p["Auth"]["Authorizer"] == "NONE";
                assert_eq!(
                    public,
                    local::routes::is_public(
                        p["Method"].as_str().unwrap(),
                        p["Path"].as_str().unwrap()
                    ),
                    "{p}: public in the template exactly when public locally"
                );
                found.insert((
                    p["Method"].as_str().unwrap().to_owned(),
                    p["Path"].as_str().unwrap().to_owned(),
                    binary.clone(),
                ));
            }
        }
    }
    assert_eq!(found, routes());
    let crates: BTreeSet<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
    assert_eq!(
        binaries, crates,
        "every function crate is deployed, and nothing else"
    );
}

#[test]
fn the_described_setting_names_are_exactly_the_defined_ones() {
    let spec = yaml("openapi.yaml");
    let names = |schema: &str| -> BTreeSet<String> {
        spec["components"]["schemas"][schema]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let defs = domain::settings::DEFINITIONS;
    assert_eq!(
        names("SettingCategory"),
        defs.iter().map(|d| d.category.to_owned()).collect()
    );
    assert_eq!(
        names("SettingKey"),
        defs.iter().map(|d| d.key.to_owned()).collect()
    );
}

/// Whether the described `path` is an instance of the served `route` template (`{name}` stands
/// for one segment): `PATCH /onboarding/{step}` is described per step, and
/// `POST /scraping/{platform}` per platform, because each takes its own body.
fn instance_of(path: &str, route: &str) -> bool {
    let (p, r): (Vec<&str>, Vec<&str>) = (path.split('/').collect(), route.split('/').collect());
    p.len() == r.len()
        && p.iter()
            .zip(&r)
            .all(|(p, r)| p == r || (r.starts_with('{') && !p.starts_with('{') && !p.is_empty()))
}

/// The served route a described path belongs to: itself, else the template it instantiates.
fn served_route(method: &str, path: &str) -> Option<&'static str> {
    let same_method = || ROUTES.iter().filter(move |(m, _, _)| *m == method);
    same_method()
        .find(|(_, r, _)| *r == path)
        .or_else(|| same_method().find(|(_, r, _)| instance_of(path, r)))
        .map(|(_, r, _)| *r)
}

#[test]
fn the_api_description_has_exactly_the_served_routes() {
    let spec = yaml("openapi.yaml");
    let mut described = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let method = method.to_uppercase();
            assert!(op["operationId"].is_string(), "{method} {path}");
            let route = served_route(&method, path)
                .unwrap_or_else(|| panic!("{method} {path} is described but not served"));
            described.insert((method, route.to_owned()));
        }
    }
    let served: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(described, served);
}

/// A small JSON Schema check (the subset `openapi.yaml` uses): `$ref`, `allOf`, `oneOf`, `type`
/// (one or several), `enum`, `required`, `properties`, `items`; objects may hold no property the
/// schema does not declare.
fn check(spec: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(spec, schema);
    if let Some(all) = schema["allOf"].as_array() {
        for s in all {
            check_shallow(spec, s, value, at, errors);
        }
        check_undeclared(spec, schema, value, at, errors);
        return;
    }
    check_shallow(spec, schema, value, at, errors);
    check_undeclared(spec, schema, value, at, errors);
}

fn check_shallow(spec: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(spec, schema);
    if let Some(options) = schema["oneOf"].as_array() {
        let ok = options.iter().any(|o| {
            let mut e = Vec::new();
            check(spec, o, value, at, &mut e);
            e.is_empty()
        });
        if !ok {
            errors.push(format!("{at}: matches no oneOf option: {value}"));
        }
        return;
    }
    if let Some(all) = schema["allOf"].as_array() {
        for s in all {
            check_shallow(spec, s, value, at, errors);
        }
        return;
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !types.is_empty() && !types.iter().any(|t| type_matches(t, value)) {
        errors.push(format!("{at}: expected {types:?}, got {value}"));
        return;
    }
    if let Some(options) = schema["enum"].as_array() {
        if !options.contains(value) {
            errors.push(format!("{at}: {value} not in {options:?}"));
        }
    }
    if let Value::Object(map) = value {
        for r in schema["required"].as_array().into_iter().flatten() {
            if !map.contains_key(r.as_str().unwrap()) {
                errors.push(format!("{at}: missing {r}"));
            }
        }
        for (k, s) in schema["properties"].as_object().into_iter().flatten() {
            if let Some(v) = map.get(k) {
                check(spec, s, v, &format!("{at}.{k}"), errors);
            }
        }
        if let Some(extra) = schema.get("additionalProperties").filter(|a| a.is_object()) {
            for (k, v) in map {
                if schema["properties"].get(k).is_none() {
                    check(spec, extra, v, &format!("{at}.{k}"), errors);
                }
            }
        }
    }
    if let (Value::Array(items), Some(s)) = (value, schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            check(spec, s, v, &format!("{at}[{i}]"), errors);
        }
    }
}

fn declared(spec: &Value, schema: &Value, out: &mut BTreeSet<String>) -> bool {
    let schema = resolve(spec, schema);
    let mut any = false;
    if let Some(props) = schema["properties"].as_object() {
        out.extend(props.keys().cloned());
        any = true;
    }
    for s in schema["allOf"].as_array().into_iter().flatten() {
        any |= declared(spec, s, out);
    }
    any
}

fn check_undeclared(
    spec: &Value,
    schema: &Value,
    value: &Value,
    at: &str,
    errors: &mut Vec<String>,
) {
    let Value::Object(map) = value else { return };
    let mut names = BTreeSet::new();
    if declared(spec, schema, &mut names) {
        for k in map.keys() {
            if !names.contains(k) {
                errors.push(format!("{at}: undocumented property {k}"));
            }
        }
    }
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => false,
    }
}

fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => resolve(
            spec,
            spec.pointer(r.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("no {r}")),
        ),
        None => schema,
    }
}

struct Api {
    base: String,
    http: reqwest::Client,
    spec: Value,
    token_a: String,
    token_b: String,
    _env: (TestDb, TestQueue, Replay),
}

impl Api {
    async fn start() -> Self {
        let db = TestDb::new().await;
        let queue = TestQueue::new(5).await;
        let replay = Replay::start().await;
        let config = Config::from_lookup(|k| match k {
            "DATABASE_URL" => Some(db.url.clone()),
            "ADMIN_USER_IDS" => Some("user_a".into()),
            _ => None,
        })
        .unwrap();
        let api = CreatorApi::new(&config.creator_api, "k").unwrap();
        let app = App::new(&config, db.pool.clone(), queue.queue(), None, api);
        // user_a goes through onboarding here; user_b only needs to be able to try a search.
        db.onboard(&["user_b"]).await;
        let auth = Auth::new(b"contract-test");
        let (token_a, token_b) = (
            auth.mint("user_a", 1).unwrap(),
            auth.mint("user_b", 1).unwrap(),
        );
        let router = local::gateway::router(Arc::clone(&app), auth);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self {
            base,
            http: shared::tls::http_client().unwrap().build().unwrap(),
            spec: yaml("openapi.yaml"),
            token_a,
            token_b,
            _env: (db, queue, replay),
        }
    }

    /// Sends the request and checks the answer against the description of `(method, route)`.
    async fn call(
        &self,
        method: &str,
        route: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        expect: u16,
    ) -> Value {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .timeout(Duration::from_secs(10));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let content_type = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let text = res.text().await.unwrap();
        assert_eq!(status, expect, "{method} {path}: {text}");
        let op = &self.spec["paths"][route][method.to_lowercase()];
        if op.is_null() {
            // A path the template's route serves but the description leaves out (an unknown
            // step or platform): it must be a described error.
            assert!(
                served_route(method, route).is_some(),
                "{method} {route} is not served"
            );
            let value: Value = serde_json::from_str(&text).unwrap();
            let mut errors = Vec::new();
            let error_body = json!({"$ref": "#/components/schemas/ErrorBody"});
            check(&self.spec, &error_body, &value, "body", &mut errors);
            assert!(errors.is_empty(), "{method} {path}: {}", errors.join("\n"));
            return value;
        }
        let documented = resolve(&self.spec, &op["responses"][status.to_string()]);
        assert!(
            !documented.is_null(),
            "{method} {route} answered {status}, which is not documented"
        );
        if documented.get("content").is_none() {
            assert!(
                text.is_empty(),
                "{method} {route} {status}: a body where none is described"
            );
            return Value::Null;
        }
        let media = content_type.split(';').next().unwrap().trim().to_owned();
        let schema = &documented["content"][&media]["schema"];
        assert!(
            !schema.is_null(),
            "{method} {route} {status}: undocumented content type {media}"
        );
        if media != "application/json" {
            return Value::String(text);
        }
        let value: Value = serde_json::from_str(&text).unwrap();
        let mut errors = Vec::new();
        check(&self.spec, schema, &value, "body", &mut errors);
        assert!(
            errors.is_empty(),
            "{method} {path} {status} does not match openapi.yaml:\n{}\n{value}",
            errors.join("\n")
        );
        value
    }
}

#[tokio::test]
async fn every_route_answers_as_described() {
    let api = Api::start().await;
    let (a, b) = (Some(api.token_a.as_str()), Some(api.token_b.as_str()));
    let uuid = uuid::Uuid::new_v4().to_string();

    api.call(
        "PATCH",
        "/onboarding/step-2",
        "/onboarding/step-2",
        a,
        Some(json!({"brandDescription": "x".repeat(60)})),
        409,
    )
    .await;
    api.call(
        "GET",
        "/onboarding/status",
        "/onboarding/status",
        a,
        None,
        404,
    )
    .await;
    api.call(
        "PATCH",
        "/onboarding/step-1",
        "/onboarding/step-1",
        a,
        Some(json!({"fullName": "Ada", "businessName": "Engines"})),
        200,
    )
    .await;
    api.call(
        "PATCH",
        "/onboarding/step-2",
        "/onboarding/step-2",
        a,
        Some(json!({"brandDescription": "short"})),
        400,
    )
    .await;
    api.call(
        "PATCH",
        "/onboarding/step-2",
        "/onboarding/step-2",
        a,
        Some(json!({"brandDescription": "x".repeat(60)})),
        200,
    )
    .await;
    api.call(
        "PATCH",
        "/onboarding/complete",
        "/onboarding/complete",
        a,
        Some(json!({})),
        200,
    )
    .await;
    api.call(
        "PATCH",
        "/onboarding/step-9",
        "/onboarding/step-9",
        a,
        Some(json!({})),
        404,
    )
    .await;
    api.call(
        "GET",
        "/onboarding/status",
        "/onboarding/status",
        a,
        None,
        200,
    )
    .await;

    let campaign = api
        .call(
            "POST",
            "/campaigns",
            "/campaigns",
            a,
            Some(json!({"name": "Contract", "searchType": "keyword"})),
            201,
        )
        .await;
    let id = campaign["id"].as_str().unwrap();
    api.call(
        "POST",
        "/campaigns",
        "/campaigns",
        a,
        Some(json!({"name": ""})),
        400,
    )
    .await;
    api.call(
        "POST",
        "/campaigns",
        "/campaigns",
        None,
        Some(json!({"name": "x", "searchType": "keyword"})),
        401,
    )
    .await;
    api.call(
        "POST",
        "/campaigns",
        "/campaigns",
        Some("not.a.token"),
        Some(json!({"name": "x", "searchType": "keyword"})),
        401,
    )
    .await;
    api.call("GET", "/campaigns", "/campaigns?limit=500", a, None, 400)
        .await;
    api.call(
        "GET",
        "/campaigns/{campaignId}",
        &format!("/campaigns/{id}"),
        b,
        None,
        404,
    )
    .await;
    api.call(
        "GET",
        "/campaigns/{campaignId}",
        "/campaigns/not-a-uuid",
        a,
        None,
        400,
    )
    .await;

    let started = api
        .call(
            "POST",
            "/scraping/tiktok",
            "/scraping/tiktok",
            a,
            Some(json!({"campaignId": id, "keywords": ["nike"], "targetResults": 10})),
            202,
        )
        .await;
    let job = started["jobId"].as_str().unwrap();
    api.call(
        "POST",
        "/scraping/tiktok",
        "/scraping/tiktok",
        a,
        Some(json!({"campaignId": id, "username": "nike"})),
        409,
    )
    .await;
    api.call(
        "POST",
        "/scraping/tiktok",
        "/scraping/tiktok",
        b,
        Some(json!({"campaignId": id, "keywords": ["nike"]})),
        404,
    )
    .await;
    api.call(
        "POST",
        "/scraping/myspace",
        "/scraping/myspace",
        a,
        Some(json!({"campaignId": id, "keywords": ["nike"]})),
        400,
    )
    .await;

    let list = api
        .call("GET", "/campaigns", "/campaigns", a, None, 200)
        .await;
    assert_eq!(list["campaigns"][0]["latestJob"]["id"], job);
    api.call(
        "GET",
        "/campaigns/{campaignId}",
        &format!("/campaigns/{id}"),
        a,
        None,
        200,
    )
    .await;

    api.call(
        "GET",
        "/jobs/{jobId}",
        &format!("/jobs/{job}"),
        a,
        None,
        200,
    )
    .await;
    api.call(
        "GET",
        "/jobs/{jobId}",
        &format!("/jobs/{job}?limit=0"),
        a,
        None,
        400,
    )
    .await;
    api.call(
        "GET",
        "/jobs/{jobId}",
        &format!("/jobs/{job}"),
        b,
        None,
        404,
    )
    .await;
    api.call(
        "GET",
        "/jobs/{jobId}",
        &format!("/jobs/{uuid}"),
        a,
        None,
        404,
    )
    .await;
    let csv = api
        .call(
            "GET",
            "/jobs/{jobId}/creators.csv",
            &format!("/jobs/{job}/creators.csv"),
            a,
            None,
            200,
        )
        .await;
    assert!(csv
        .as_str()
        .unwrap()
        .starts_with("\u{feff}Username,Display name"));
    let campaign_csv = api
        .call(
            "GET",
            "/campaigns/{campaignId}/creators.csv",
            &format!("/campaigns/{id}/creators.csv"),
            a,
            None,
            200,
        )
        .await;
    assert!(campaign_csv
        .as_str()
        .unwrap()
        .starts_with("\u{feff}Platform,Username"));
    api.call(
        "GET",
        "/campaigns/{campaignId}/creators.csv",
        &format!("/campaigns/{id}/creators.csv"),
        b,
        None,
        404,
    )
    .await;
    // The emails' unsubscribe link: public, and a token that does not verify changes nothing.
    api.call(
        "GET",
        "/email/unsubscribe",
        "/email/unsubscribe?token=dXNlcl9h.reminders.AAAA",
        None,
        None,
        400,
    )
    .await;
    api.call(
        "POST",
        "/email/unsubscribe",
        "/email/unsubscribe?token=forged",
        None,
        None,
        400,
    )
    .await;
    api.call(
        "GET",
        "/jobs/{jobId}/creators.csv",
        &format!("/jobs/{job}/creators.csv"),
        b,
        None,
        404,
    )
    .await;
    api.call(
        "DELETE",
        "/jobs/{jobId}",
        &format!("/jobs/{job}"),
        b,
        None,
        404,
    )
    .await;
    api.call(
        "DELETE",
        "/jobs/{jobId}",
        &format!("/jobs/{job}"),
        a,
        None,
        200,
    )
    .await;
    api.call(
        "DELETE",
        "/jobs/{jobId}",
        &format!("/jobs/{job}"),
        a,
        None,
        409,
    )
    .await;

    // Usage and the mock checkout.
    let usage = api.call("GET", "/usage", "/usage", a, None, 200).await;
    assert_eq!(usage["plan"], "trial");
    let subscribed = api
        .call(
            "POST",
            "/billing/subscribe",
            "/billing/subscribe",
            a,
            Some(json!({"plan": "starter"})),
            200,
        )
        .await;
    assert_eq!(subscribed["plan"], "starter");
    api.call(
        "POST",
        "/billing/subscribe",
        "/billing/subscribe",
        a,
        Some(json!({"plan": "gold"})),
        400,
    )
    .await;

    // Campaign management.
    let route = "/campaigns/{campaignId}";
    let path = format!("/campaigns/{id}");
    let renamed = json!({"name": "Renamed", "status": "archived"});
    api.call("PATCH", route, &path, b, Some(renamed.clone()), 404)
        .await;
    api.call("PATCH", route, &path, a, Some(json!({})), 400)
        .await;
    let patched = api.call("PATCH", route, &path, a, Some(renamed), 200).await;
    assert_eq!(patched["status"], "archived");
    api.call("DELETE", route, &path, b, None, 404).await;
    api.call("DELETE", route, &path, a, None, 204).await;
    api.call("GET", route, &path, a, None, 404).await;

    // Admin routes: user_a is named by ADMIN_USER_IDS, user_b is no admin.
    let setting = "/admin/config/{category}/{key}";
    let delay = "/admin/config/timing/continuation_delay";
    for (method, route, path, body) in [
        ("GET", "/admin/users", "/admin/users?admin=true", None),
        (
            "PUT",
            "/admin/users/{userId}/admin",
            "/admin/users/user_c/admin",
            Some(json!({"isAdmin": true})),
        ),
        ("GET", "/admin/config", "/admin/config", None),
        ("GET", setting, delay, None),
        ("PUT", setting, delay, Some(json!({"value": "3s"}))),
        ("DELETE", setting, delay, None),
        (
            "GET",
            "/admin/config/changes",
            "/admin/config/changes",
            None,
        ),
        ("GET", "/admin/overview", "/admin/overview", None),
    ] {
        api.call(method, route, path, b, body.clone(), 403).await;
        api.call(method, route, path, a, body, 200).await;
    }
    api.call("PUT", setting, delay, a, Some(json!({"value": "16m"})), 400)
        .await;
    api.call("GET", setting, "/admin/config/timing/nope", a, None, 404)
        .await;
    let changes = api
        .call(
            "GET",
            "/admin/config/changes",
            "/admin/config/changes?limit=1",
            a,
            None,
            200,
        )
        .await;
    assert_eq!(changes["pagination"]["total"], 2);
    let admins = api
        .call("GET", "/admin/users", "/admin/users", a, None, 200)
        .await;
    assert_eq!(admins["users"][0]["userId"], "user_c");
}

#[test]
fn the_schema_check_rejects_what_the_description_does_not_allow() {
    let spec = yaml("openapi.yaml");
    let schema = json!({"$ref": "#/components/schemas/Campaign"});
    let good = json!({"id": "x", "name": "n", "description": null, "searchType": "keyword", "status": "draft",
                      "createdAt": "t", "updatedAt": "t"});
    let mut errors = Vec::new();
    check(&spec, &schema, &good, "body", &mut errors);
    assert!(errors.is_empty(), "{errors:?}");
    for bad in [
        json!({"extra": 1}),
        json!({"status": "paused"}),
        json!({"description": 5}),
    ] {
        let mut value = good.clone();
        value
            .as_object_mut()
            .unwrap()
            .extend(bad.as_object().unwrap().clone());
        let mut errors = Vec::new();
        check(&spec, &schema, &value, "body", &mut errors);
        assert!(!errors.is_empty(), "{bad} should be rejected");
    }
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("name");
    let mut errors = Vec::new();
    check(&spec, &schema, &missing, "body", &mut errors);
    assert_eq!(errors, ["body: missing \"name\""]);
}

#[tokio::test]
async fn a_search_with_creators_matches_the_described_job_page() {
    let db = TestDb::new().await;
    let job = db.seed_job("user_a", "completed", 3).await;
    let api_spec = yaml("openapi.yaml");
    let req = testkit::ApiRequest::new("GET", "/jobs/{jobId}")
        .user("user_a")
        .path_param("jobId", &job.to_string());
    let res = job_status_body(&db, req).await;
    let mut errors = Vec::new();
    check(
        &api_spec,
        &json!({"$ref": "#/components/schemas/JobPage"}),
        &res,
        "body",
        &mut errors,
    );
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    assert_eq!(res["creators"].as_array().unwrap().len(), 3);
}

async fn job_status_body(db: &TestDb, req: testkit::ApiRequest) -> Value {
    let config = Config::from_lookup(|k| (k == "DATABASE_URL").then(|| db.url.clone())).unwrap();
    let queue = queue::SqsQueue::new(testkit::sqs::client().await, "unused");
    let app = App::new(
        &config,
        db.pool.clone(),
        queue,
        None,
        CreatorApi::new(&config.creator_api, "k").unwrap(),
    );
    let res = app.invoke_http("job-status", req.build()).await.unwrap();
    testkit::body_json(&res)
}

#[test]
fn the_local_poller_feeds_the_worker_as_the_templates_event_source_does() {
    let text = local::template::BUILT_WITH;
    assert_eq!(
        text,
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml"))
            .unwrap()
    );
    let source = local::template::sqs_event_source(text, "process-scraping").unwrap();
    assert_eq!(
        source,
        local::template::EventSource {
            batch_size: 5,
            max_concurrency: 10
        }
    );
    assert!(local::template::sqs_event_source(text, "job-status").is_err());
}
