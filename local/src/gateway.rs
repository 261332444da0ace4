//! The HTTP API on loopback, as API Gateway runs it: exactly the template's routes, the JWT
//! authorizer in front, and each request handed to its function as an HTTP API v2 event.

use std::{collections::HashMap, sync::Arc};

use axum::{
    extract::{MatchedPath, Path, State},
    http::{HeaderMap, Method, StatusCode, Uri},
    response::IntoResponse,
    routing::{on, MethodFilter, MethodRouter},
    Router,
};
use base64::Engine as _;
use bytes::Bytes;
use lambda_http::Body;
use serde_json::{json, Map, Value};

use crate::{app::App, auth::Auth, routes::ROUTES};

#[derive(Clone)]
struct Gateway {
    app: Arc<App>,
    auth: Auth,
}

/// The router of every route in [`ROUTES`].
pub fn router(app: Arc<App>, auth: Auth) -> Router {
    let gateway = Gateway { app, auth };
    let mut by_path: HashMap<&str, MethodRouter<Gateway>> = HashMap::new();
    for &(method, path, function) in ROUTES {
        let filter = match method {
            "GET" => MethodFilter::GET,
            "POST" => MethodFilter::POST,
            "PATCH" => MethodFilter::PATCH,
            "PUT" => MethodFilter::PUT,
            "DELETE" => MethodFilter::DELETE,
            other => panic!("unsupported method {other}"),
        };
        let handler = move |state: State<Gateway>,
                            matched: MatchedPath,
                            params: Path<HashMap<String, String>>,
                            method: Method,
                            uri: Uri,
                            headers: HeaderMap,
                            body: Bytes| {
            call(state, function, matched, params, method, uri, headers, body)
        };
        let entry = by_path.remove(path).unwrap_or_default();
        by_path.insert(path, entry.merge(on(filter, handler)));
    }
    let mut router = Router::new();
    for (path, methods) in by_path {
        router = router.route(path, methods);
    }
    router
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                axum::Json(json!({"message": "Not Found"})),
            )
        })
        .with_state(gateway)
}

#[allow(clippy::too_many_arguments)]
async fn call(
    State(gateway): State<Gateway>,
    function: &'static str,
    matched: MatchedPath,
    Path(params): Path<HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
    let public = crate::routes::is_public(method.as_str(), matched.as_str());
    // API Gateway's JWT authorizer answers 401 itself; the function is never invoked. A public
    // route has no authorizer: its event carries no claims, whatever the request sends.
    let claims = if public {
        Some(HashMap::new())
    } else {
        gateway.auth.verify(authorization)
    };
    let Some(claims) = claims else {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"message": "Unauthorized"})),
        )
            .into_response();
    };
    let event = event(
        matched.as_str(),
        &params,
        &method,
        &uri,
        &headers,
        &body,
        &claims,
    );
    let request = match lambda_http::request::from_str(&event.to_string()) {
        Ok(r) => r,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("could not build the event: {e}"),
            )
                .into_response()
        }
    };
    match gateway.app.invoke_http(function, request).await {
        Some(response) => to_axum(response),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The API Gateway HTTP API (payload 2.0) event for a request.
#[allow(clippy::too_many_arguments)]
pub fn event(
    route: &str,
    params: &HashMap<String, String>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    claims: &HashMap<String, String>,
) -> Value {
    let mut header_map = Map::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        let entry = header_map
            .entry(name.as_str().to_owned())
            .or_insert_with(|| Value::String(String::new()));
        let joined = match entry.as_str() {
            Some("") | None => value,
            Some(prev) => format!("{prev},{value}"),
        };
        *entry = Value::String(joined);
    }
    let raw_query = uri.query().unwrap_or_default();
    let mut query = Map::new();
    for (k, v) in form_urlencoded::parse(raw_query.as_bytes()) {
        let joined = match query.get(k.as_ref()).and_then(Value::as_str) {
            Some(prev) => format!("{prev},{v}"),
            None => v.into_owned(),
        };
        query.insert(k.into_owned(), Value::String(joined));
    }
    let route_key = format!("{method} {route}");
    let now = chrono::Utc::now();
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": uri.path(),
        "rawQueryString": raw_query,
        "headers": header_map,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "local",
            "authorizer": {"jwt": {"claims": claims, "scopes": null}},
            "http": {"method": method.as_str(), "path": uri.path(), "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                     "userAgent": headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or_default()},
            "requestId": uuid::Uuid::new_v4().to_string(),
            "routeKey": route_key,
            "stage": "$default",
            "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
            "timeEpoch": now.timestamp_millis(),
        },
        "isBase64Encoded": false,
    });
    if claims.is_empty() {
        if let Some(context) = event["requestContext"].as_object_mut() {
            context.remove("authorizer");
        }
    }
    if !params.is_empty() {
        event["pathParameters"] = json!(params);
    }
    if !query.is_empty() {
        event["queryStringParameters"] = Value::Object(query);
    }
    if !body.is_empty() {
        match std::str::from_utf8(body) {
            Ok(text) => event["body"] = json!(text),
            Err(_) => {
                event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
                event["isBase64Encoded"] = json!(true);
            }
        }
    }
    event
}

fn to_axum(response: lambda_http::Response<Body>) -> axum::response::Response {
    let (parts, body) = response.into_parts();
    let bytes: Vec<u8> = match body {
        Body::Empty => Vec::new(),
        Body::Text(t) => t.into_bytes(),
        Body::Binary(b) => b,
        _ => Vec::new(),
    };
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}
