//! What `template.yaml` gives a function: its binary and its environment, with the values the
//! template takes from AWS (secrets, queue URLs, parameters) replaced by local ones.

use std::{collections::BTreeMap, path::Path};

use anyhow::{bail, Context};
use serde_yaml_ng::Value;

/// A function of the template.
#[derive(Debug, Clone)]
pub struct Function {
    /// The resource's logical id (`CreateCampaignFunction`), which names `sam build`'s folder.
    pub logical_id: String,
    /// The cargo binary (`create-campaign`).
    pub binary: String,
    /// Globals' variables overlaid with the function's own, as the template writes them: a plain
    /// value, or `None` for one CloudFormation resolves (`!Ref`, `!GetAtt`, ...), with its source.
    pub environment: BTreeMap<String, TemplateValue>,
    pub timeout_secs: u64,
    pub memory_mb: u64,
    /// The route keys of its HTTP API events (`GET /jobs/{jobId}`), as API Gateway writes them
    /// into an event's `routeKey`.
    pub routes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateValue {
    Plain(String),
    /// `!Ref Name` or another intrinsic: what it refers to.
    Resolved(String),
}

fn parse(value: &Value) -> TemplateValue {
    match value {
        Value::String(s) => TemplateValue::Plain(s.clone()),
        Value::Number(n) => TemplateValue::Plain(n.to_string()),
        Value::Bool(b) => TemplateValue::Plain(b.to_string()),
        Value::Tagged(t) => TemplateValue::Resolved(match &t.value {
            Value::String(s) => s.clone(),
            other => format!("{other:?}"),
        }),
        other => TemplateValue::Resolved(format!("{other:?}")),
    }
}

fn variables(node: &Value) -> BTreeMap<String, TemplateValue> {
    node.get("Environment")
        .and_then(|e| e.get("Variables"))
        .and_then(Value::as_mapping)
        .map(|vars| {
            vars.iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), parse(v))))
                .collect()
        })
        .unwrap_or_default()
}

/// The route keys of a function's `HttpApi` events.
fn routes(props: &Value) -> Vec<String> {
    props["Events"]
        .as_mapping()
        .into_iter()
        .flat_map(|events| events.values())
        .filter(|event| event["Type"].as_str() == Some("HttpApi"))
        .filter_map(|event| {
            let props = &event["Properties"];
            Some(format!(
                "{} {}",
                props["Method"].as_str()?.to_uppercase(),
                props["Path"].as_str()?
            ))
        })
        .collect()
}

/// Every function of the template at `path`.
pub fn functions(path: &Path) -> anyhow::Result<Vec<Function>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("Failed to read {}", path.display()))?;
    functions_in(&text)
}

/// Every function of the template `text`.
pub fn functions_in(text: &str) -> anyhow::Result<Vec<Function>> {
    let template: Value = serde_yaml_ng::from_str(text).context("template.yaml is not YAML")?;
    let globals = &template["Globals"]["Function"];
    let number = |node: &Value, key: &str| node.get(key).and_then(Value::as_u64);
    let mut out = Vec::new();
    for (id, resource) in template["Resources"]
        .as_mapping()
        .context("the template has no Resources")?
    {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let props = &resource["Properties"];
        let mut environment = variables(globals);
        environment.extend(variables(props));
        out.push(Function {
            logical_id: id.as_str().unwrap_or_default().to_owned(),
            binary: resource["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .with_context(|| format!("{id:?} names no binary"))?
                .to_owned(),
            environment,
            timeout_secs: number(props, "Timeout")
                .or(number(globals, "Timeout"))
                .unwrap_or(3),
            memory_mb: number(props, "MemorySize")
                .or(number(globals, "MemorySize"))
                .unwrap_or(128),
            routes: routes(props),
        });
    }
    Ok(out)
}

/// The function whose binary is `binary`.
pub fn function(path: &Path, binary: &str) -> anyhow::Result<Function> {
    let all = functions(path)?;
    match all.iter().find(|f| f.binary == binary) {
        Some(f) => Ok(f.clone()),
        None => bail!(
            "template.yaml has no function {binary} (it has {})",
            all.iter()
                .map(|f| f.binary.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The function an event file is for: the one whose HTTP route is the event's `routeKey`; else
/// (SQS, schedule and custom-resource events) the one whose binary names the file (`sweeper.json`,
/// `start-scraping-tiktok.json`), the longest such name winning.
pub fn function_for_event<'a>(
    functions: &'a [Function],
    file_stem: &str,
    event: &serde_json::Value,
) -> Option<&'a Function> {
    let route = event["routeKey"].as_str();
    functions
        .iter()
        .find(|f| route.is_some_and(|r| f.routes.iter().any(|own| own == r)))
        .or_else(|| {
            functions
                .iter()
                .filter(|f| {
                    file_stem == f.binary
                        || file_stem
                            .strip_prefix(f.binary.as_str())
                            .is_some_and(|rest| rest.starts_with('-'))
                })
                .max_by_key(|f| f.binary.len())
        })
}

impl Function {
    /// The environment to run it with locally. Template values that AWS resolves are taken from
    /// `local` by the variable's name; a secret's ARN gives way to the secret itself (the
    /// function reads `DATABASE_URL` when `DATABASE_URL_SECRET_ARN` is absent); and the Amazon
    /// Linux CA bundle path gives way to this machine's. A resolved variable with no local value
    /// is an error naming it, so a new variable in the template cannot be forgotten here.
    pub fn local_environment(
        &self,
        local: &BTreeMap<String, String>,
    ) -> anyhow::Result<Vec<(String, String)>> {
        let mut env = Vec::new();
        for (name, value) in &self.environment {
            if let Some(secret) = name.strip_suffix("_SECRET_ARN") {
                let value = local.get(secret).with_context(|| {
                    format!("{name}: set {secret} locally (the secret's value)")
                })?;
                env.push((secret.to_owned(), value.clone()));
                continue;
            }
            let chosen = match (value, local.get(name)) {
                (_, Some(local)) => local.clone(),
                (TemplateValue::Plain(v), None) => v.clone(),
                (TemplateValue::Resolved(what), None) => {
                    bail!("{name} comes from {what} in template.yaml: give it a local value")
                }
            };
            env.push((name.clone(), chosen));
        }
        Ok(env)
    }
}

/// How the template's SQS event source feeds a function: records per batch, and batches at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventSource {
    pub batch_size: usize,
    pub max_concurrency: usize,
}

/// The template `local` was built with: `local serve` reads its settings from the binary, not
/// from a checkout it may not be allowed to read.
pub const BUILT_WITH: &str = include_str!("../../template.yaml");

/// The SQS event source of the function whose binary is `binary` in the template `text`
/// (Lambda's defaults, 10 records and no concurrency cap of its own, where it names none).
pub fn sqs_event_source(text: &str, binary: &str) -> anyhow::Result<EventSource> {
    let template: Value = serde_yaml_ng::from_str(text).context("template.yaml is not YAML")?;
    for resource in template["Resources"]
        .as_mapping()
        .context("the template has no Resources")?
        .values()
    {
        if resource["Metadata"]["BuildProperties"]["Binary"].as_str() != Some(binary) {
            continue;
        }
        for event in resource["Properties"]["Events"]
            .as_mapping()
            .into_iter()
            .flat_map(|e| e.values())
        {
            if event["Type"].as_str() == Some("SQS") {
                let props = &event["Properties"];
                let number = |v: &Value| v.as_u64().map(|n| n as usize);
                return Ok(EventSource {
                    batch_size: number(&props["BatchSize"]).unwrap_or(10),
                    max_concurrency: number(&props["ScalingConfig"]["MaximumConcurrency"])
                        .unwrap_or(1_000),
                });
            }
        }
    }
    bail!("template.yaml gives {binary} no SQS event source")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_route_of_the_template_is_read_and_events_find_their_function() {
        let functions = functions_in(BUILT_WITH).unwrap();
        let unsubscribe = functions
            .iter()
            .find(|f| f.binary == "email-unsubscribe")
            .unwrap();
        assert_eq!(
            unsubscribe.routes,
            ["GET /email/unsubscribe", "POST /email/unsubscribe"]
        );
        let find = |stem: &str, event: serde_json::Value| {
            function_for_event(&functions, stem, &event).map(|f| f.binary.as_str())
        };
        // By route: the file's name does not matter.
        let patch = json!({"routeKey": "PATCH /onboarding/{step}"});
        assert_eq!(find("onboarding-complete", patch), Some("onboarding-step"));
        let one_click = json!({"routeKey": "POST /email/unsubscribe"});
        assert_eq!(find("anything", one_click), Some("email-unsubscribe"));
        // By name: the whole name, or a prefix before a dash.
        assert_eq!(find("sweeper", json!({})), Some("sweeper"));
        let records = json!({"Records": []});
        assert_eq!(find("process-scraping", records), Some("process-scraping"));
        assert_eq!(
            find("start-scraping-tiktok", json!({})),
            Some("start-scraping")
        );
        assert_eq!(
            find("migrate", json!({"RequestType": "Create"})),
            Some("migrate")
        );
        assert_eq!(find("sweeperish", json!({})), None);
        assert_eq!(find("nothing", json!({"routeKey": "GET /nowhere"})), None);
    }
}
