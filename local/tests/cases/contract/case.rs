//! One request of the contract, what it must be answered, and the check of the answer against
//! `openapi.yaml`.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::common::{Api, Reply};

use super::{
    routes::{instance_of, served_route},
    schema::{errors, resolve},
};

/// Who sends a request.
#[derive(Clone, Copy, Debug)]
pub enum As {
    /// `user_a`, an admin, onboarded by the cases.
    A,
    /// `user_b`, onboarded, no admin.
    B,
    /// No token at all.
    Nobody,
    /// A token that is not a JWT.
    Forged,
}

/// What else a case checks of its answer, or keeps of it for later cases.
#[derive(Debug)]
pub enum Then {
    /// Keeps the string at this JSON pointer of the body as `$name`: `Save(name, pointer)`.
    Save(&'static str, &'static str),
    /// The body holds this JSON (`$name`s filled in) at this pointer: `Equals(pointer, json)`.
    Equals(&'static str, &'static str),
    /// The body, not JSON, starts with this text.
    StartsWith(&'static str),
}

/// One request and the status it must be answered with. Its body must then be as `openapi.yaml`
/// describes that answer, and as its `then` checks say.
#[derive(Debug)]
pub struct Case {
    pub name: &'static str,
    pub as_user: As,
    pub method: &'static str,
    /// The path and query; `$name` stands for a value an earlier case saved (`$random` is a
    /// UUID nothing has).
    pub path: &'static str,
    /// JSON text, sent as `application/json`, its `$name`s filled in.
    pub body: Option<&'static str>,
    pub status: u16,
    pub then: &'static [Then],
}

impl Case {
    pub const fn new(
        name: &'static str,
        as_user: As,
        method: &'static str,
        path: &'static str,
        status: u16,
    ) -> Self {
        Self {
            name,
            as_user,
            method,
            path,
            body: None,
            status,
            then: &[],
        }
    }

    pub const fn body(self, body: &'static str) -> Self {
        Self {
            body: Some(body),
            ..self
        }
    }

    pub const fn then(self, then: &'static [Then]) -> Self {
        Self { then, ..self }
    }

    /// Sends the request and checks the answer; what is wrong with it, if anything.
    pub async fn run(&self, api: &Api, spec: &Value, vars: &mut Vars) -> Result<(), String> {
        let path = vars.fill(self.path)?;
        let body = match self.body {
            Some(text) => {
                let text = vars.fill(text)?;
                let json: Value = serde_json::from_str(&text)
                    .map_err(|e| format!("the case's body is not JSON ({e}): {text}"))?;
                Some(json.to_string().into_bytes())
            }
            None => None,
        };
        let token = match self.as_user {
            As::A => Some(api.a.as_str()),
            As::B => Some(api.b.as_str()),
            As::Nobody => None,
            As::Forged => Some("not.a.token"),
        };
        let content_type = body.as_ref().map(|_| "application/json");
        let reply = api
            .request(self.method, &path, token, content_type, body)
            .await;
        if reply.status != self.status {
            return Err(format!(
                "answered {}, not {}: {}",
                reply.status, self.status, reply.text
            ));
        }
        let value = as_described(spec, self.method, &path, &reply)?;
        for then in self.then {
            vars.then(then, &value)?;
        }
        Ok(())
    }
}

/// The values cases saved for later ones, by name.
pub struct Vars(BTreeMap<&'static str, String>);

impl Vars {
    pub fn new() -> Self {
        Self(BTreeMap::from([(
            "random",
            uuid::Uuid::new_v4().to_string(),
        )]))
    }

    /// Every name the cases use, bound to a UUID: for reading the cases without running them.
    pub fn placeholders() -> Self {
        let uuid = uuid::Uuid::nil().to_string();
        Self(
            ["random", "campaign", "job"]
                .map(|n| (n, uuid.clone()))
                .into(),
        )
    }

    /// `text` with each `$name` replaced by its value.
    pub fn fill(&self, text: &str) -> Result<String, String> {
        let mut filled = text.to_owned();
        for (name, value) in &self.0 {
            filled = filled.replace(&format!("${name}"), value);
        }
        match filled.split_once('$') {
            None => Ok(filled),
            Some((_, rest)) => Err(format!(
                "needs ${}, which no earlier case saved",
                rest.split(|c: char| !c.is_ascii_alphanumeric())
                    .next()
                    .unwrap_or_default()
            )),
        }
    }

    fn then(&mut self, then: &Then, value: &Value) -> Result<(), String> {
        match *then {
            Then::Save(name, pointer) => {
                let saved = value.pointer(pointer).and_then(Value::as_str);
                let saved =
                    saved.ok_or_else(|| format!("no string at {pointer} to save: {value}"))?;
                self.0.insert(name, saved.to_owned());
            }
            Then::Equals(pointer, expected) => {
                let expected: Value = serde_json::from_str(&self.fill(expected)?)
                    .map_err(|e| format!("the case's {pointer} is not JSON: {e}"))?;
                let found = value.pointer(pointer);
                if found != Some(&expected) {
                    return Err(format!("{pointer} is {found:?}, not {expected}: {value}"));
                }
            }
            Then::StartsWith(prefix) => {
                let text = value.as_str().unwrap_or_default();
                if !text.starts_with(prefix) {
                    let start: String = text.chars().take(80).collect();
                    return Err(format!("the body starts {start:?}, not {prefix:?}"));
                }
            }
        }
        Ok(())
    }
}

/// The path of `openapi.yaml` that describes `method` on `path` (its query left out): itself,
/// else a described template it is an instance of, else `path` itself (which no one describes).
fn described_route(spec: &Value, method: &str, path: &str) -> String {
    let path = path.split('?').next().unwrap_or_default();
    let method = method.to_lowercase();
    let described = spec["paths"].as_object().into_iter().flatten();
    let mut with_method = described.filter(|(_, item)| item.get(&method).is_some());
    with_method
        .find(|(route, _)| *route == path || instance_of(path, route))
        .map_or(path, |(route, _)| route.as_str())
        .to_owned()
}

/// The answer's body, if it is as `openapi.yaml` describes `method` on `path` answering with its
/// status; else what differs.
fn as_described(spec: &Value, method: &str, path: &str, reply: &Reply) -> Result<Value, String> {
    let route = described_route(spec, method, path);
    let op = &spec["paths"][&route][method.to_lowercase()];
    if op.is_null() {
        // A path the template's route serves but the description leaves out (an unknown step or
        // platform): it must be a described error.
        served_route(method, &route).ok_or_else(|| format!("{method} {route} is not served"))?;
        return json_as(
            spec,
            &json!({"$ref": "#/components/schemas/ErrorBody"}),
            &reply.text,
        );
    }
    let status = reply.status;
    let documented = resolve(spec, &op["responses"][status.to_string()]);
    if documented.is_null() {
        return Err(format!(
            "{method} {route} answered {status}, which is not documented"
        ));
    }
    if documented.get("content").is_none() {
        if !reply.text.is_empty() {
            return Err(format!(
                "{method} {route} {status}: a body where none is described"
            ));
        }
        return Ok(Value::Null);
    }
    let media = &reply.media_type;
    let schema = &documented["content"][media]["schema"];
    if schema.is_null() {
        return Err(format!(
            "{method} {route} {status}: undocumented content type {media}"
        ));
    }
    if media != "application/json" {
        return Ok(Value::String(reply.text.clone()));
    }
    json_as(spec, schema, &reply.text)
        .map_err(|e| format!("{method} {route} {status} does not match openapi.yaml:\n{e}"))
}

/// `text` as JSON, if it is valid against `schema`; else what is wrong.
fn json_as(spec: &Value, schema: &Value, text: &str) -> Result<Value, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON ({e}): {text}"))?;
    let errors = errors(spec, schema, &value);
    if !errors.is_empty() {
        return Err(format!("{}\n{value}", errors.join("\n")));
    }
    Ok(value)
}
