//! `template.yaml`, `openapi.yaml` and the local gateway describe the same routes and settings.

use std::{collections::BTreeSet, path::Path};

use local::routes::ROUTES;

use super::schema::yaml;

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
pub fn instance_of(path: &str, route: &str) -> bool {
    let (p, r): (Vec<&str>, Vec<&str>) = (path.split('/').collect(), route.split('/').collect());
    p.len() == r.len()
        && p.iter()
            .zip(&r)
            .all(|(p, r)| p == r || (r.starts_with('{') && !p.starts_with('{') && !p.is_empty()))
}

/// The served route a described path belongs to: itself, else the template it instantiates.
pub fn served_route(method: &str, path: &str) -> Option<&'static str> {
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
