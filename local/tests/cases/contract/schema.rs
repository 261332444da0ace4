//! `openapi.yaml` and the small JSON Schema check the answers are held to.

use std::{collections::BTreeSet, path::Path};

use serde_json::{json, Value};

/// A YAML file at the workspace's root, as JSON.
pub fn yaml(name: &str) -> Value {
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

/// The errors of `value` against `schema`, none when it matches.
pub fn errors(spec: &Value, schema: &Value, value: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(spec, schema, value, "body", &mut errors);
    errors
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

pub fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => resolve(
            spec,
            spec.pointer(r.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("no {r}")),
        ),
        None => schema,
    }
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
