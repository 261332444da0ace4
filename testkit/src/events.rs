use lambda_http::{Body, Request, Response};
use serde_json::{json, Map, Value};

/// Builds an API Gateway HTTP API (payload 2.0) event, as API Gateway sends it to a function
/// behind the JWT authorizer, and parses it with `lambda_http` like the runtime does.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    method: String,
    route: String,
    path: String,
    path_params: Map<String, Value>,
    query: Vec<(String, String)>,
    headers: Map<String, Value>,
    body: Option<String>,
    user: Option<String>,
    claims: Map<String, Value>,
}

impl ApiRequest {
    /// `route` is the template (`/campaigns/{campaignId}`); the path starts equal to it.
    pub fn new(method: &str, route: &str) -> Self {
        Self {
            method: method.to_owned(),
            route: route.to_owned(),
            path: route.to_owned(),
            path_params: Map::new(),
            query: Vec::new(),
            headers: Map::new(),
            body: None,
            user: None,
            claims: Map::new(),
        }
    }

    /// The verified caller (`sub` claim).
    pub fn user(mut self, user_id: &str) -> Self {
        self.user = Some(user_id.to_owned());
        self
    }

    /// Another verified claim of the caller's token, such as `email`.
    pub fn claim(mut self, name: &str, value: &str) -> Self {
        self.claims
            .insert(name.to_owned(), Value::String(value.to_owned()));
        self
    }

    /// Fills a `{name}` path parameter.
    pub fn path_param(mut self, name: &str, value: &str) -> Self {
        self.path = self.path.replace(&format!("{{{name}}}"), value);
        self.path_params
            .insert(name.to_owned(), Value::String(value.to_owned()));
        self
    }

    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.query.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .insert(name.to_ascii_lowercase(), Value::String(value.to_owned()));
        self
    }

    /// A JSON body with `content-type: application/json`.
    pub fn json(self, body: Value) -> Self {
        self.raw_body(&body.to_string())
            .header("content-type", "application/json")
    }

    /// A body sent as is, with no content type.
    pub fn raw_body(mut self, body: &str) -> Self {
        self.body = Some(body.to_owned());
        self
    }

    /// The route's key as API Gateway names it: `POST /campaigns`.
    pub fn route_key(&self) -> String {
        format!("{} {}", self.method, self.route)
    }

    /// The event as API Gateway would send it.
    pub fn to_event(&self) -> Value {
        let raw_query = self
            .query
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let mut query_params = Map::new();
        for (k, v) in &self.query {
            query_params.insert(k.clone(), Value::String(v.clone()));
        }
        let authorizer = self.user.as_ref().map(|sub| {
            let mut claims = self.claims.clone();
            claims.insert("sub".into(), json!(sub));
            claims.insert("iss".into(), json!("https://clerk.example.com"));
            claims.insert("aud".into(), json!("gemz"));
            json!({"jwt": {"claims": claims, "scopes": null}})
        });
        let mut context = json!({
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": {"method": self.method, "path": self.path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "testkit"},
            "requestId": uuid::Uuid::new_v4().to_string(),
            "routeKey": self.route_key(),
            "stage": "$default",
            "time": "22/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1_795_000_000_000_i64
        });
        if let Some(a) = authorizer {
            context["authorizer"] = a;
        }
        let mut event = json!({
            "version": "2.0",
            "routeKey": self.route_key(),
            "rawPath": self.path,
            "rawQueryString": raw_query,
            "headers": self.headers,
            "requestContext": context,
            "isBase64Encoded": false
        });
        if !self.path_params.is_empty() {
            event["pathParameters"] = Value::Object(self.path_params.clone());
        }
        if !query_params.is_empty() {
            event["queryStringParameters"] = Value::Object(query_params);
        }
        if let Some(body) = &self.body {
            event["body"] = Value::String(body.clone());
        }
        event
    }

    /// The parsed request a handler receives.
    pub fn build(&self) -> Request {
        lambda_http::request::from_str(&self.to_event().to_string())
            .expect("a valid API Gateway event")
    }
}

/// The response body as JSON (panics with the body when it is not JSON).
pub fn body_json(response: &Response<Body>) -> Value {
    let bytes: &[u8] = match response.body() {
        Body::Empty => b"null",
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => b"null",
    };
    serde_json::from_slice(bytes).unwrap_or_else(|e| {
        panic!(
            "response is not JSON ({e}): {}",
            String::from_utf8_lossy(bytes)
        )
    })
}
