//! The management API of SPEC §7 over HTTP, in the provider's response shapes, so an existing Anchor
//! client pointed at the emulator's base URL works unchanged.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::path::ErrorKind as PathErrorKind;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::clock::{parse_rfc3339, rfc3339};
use crate::service::{ApiError, NewWebhook, Sender, WebhookPatch};
use crate::store::{DeliveryFilter, DeliveryRow, DeliveryStatus, WebhookRow};

/// The header carrying the API key.
pub const API_KEY_HEADER: &str = "anchor-api-key";

/// The largest request body the API reads (axum's default, made explicit); a larger one is answered 413
/// in the error shape. An event is still refused (413) when its envelope is over the 64 KB cap once
/// `output.value` is truncated, so this only bounds what is read.
pub const MAX_REQUEST_BODY_BYTES: usize = 2 * 1024 * 1024;

#[derive(Clone, Debug)]
struct AppState {
    sender: Arc<Sender>,
    /// API key → project id.
    projects: Arc<HashMap<String, String>>,
}

/// The API's routes. Each key in `api_keys` is its own project.
pub fn router(sender: Arc<Sender>, api_keys: &[String]) -> Router {
    let projects = api_keys.iter().map(|key| (key.clone(), Sender::project_for_key(key))).collect();
    let state = AppState { sender, projects: Arc::new(projects) };
    Router::new()
        .route("/v1/webhooks", post(create).get(list))
        .route("/v1/webhooks/{id}", get(show).patch(update).delete(remove))
        .route("/v1/webhooks/{id}/rotate-secret", post(rotate))
        .route("/v1/webhooks/{id}/test", post(test))
        .route("/v1/webhooks/{id}/events", get(events))
        .route("/v1/events", post(publish))
        // After the routes: it applies to the routes registered so far. axum still sets `Allow`.
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(|| async { ApiError::not_found("route") })
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BODY_BYTES))
        .with_state(state)
}

/// 405 for a known route with a method it does not serve, in the error shape (axum adds `Allow`).
async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(405, format!("method {method} is not allowed on {}", uri.path()))
}

/// The raw request body, with axum's rejections (over [`MAX_REQUEST_BODY_BYTES`], a broken stream) in
/// the error shape.
struct Body(Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Body, ApiError> {
        Bytes::from_request(request, state).await.map(Body).map_err(|rejection: BytesRejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    413,
                    format!(
                        "the request body is over the API's limit of {} MiB ({MAX_REQUEST_BODY_BYTES} bytes)",
                        MAX_REQUEST_BODY_BYTES / (1024 * 1024)
                    ),
                )
            } else {
                ApiError::new(rejection.status().as_u16(), rejection.body_text())
            }
        })
    }
}

/// The `{id}` of a webhook route; a segment that is not valid percent-encoded UTF-8 is a 400 in the
/// error shape.
struct WebhookId(String);

impl<S: Send + Sync> FromRequestParts<S> for WebhookId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<WebhookId, ApiError> {
        Path::<String>::from_request_parts(parts, state).await.map(|Path(id)| WebhookId(id)).map_err(
            |rejection: PathRejection| {
                let message = match &rejection {
                    PathRejection::FailedToDeserializePathParams(error)
                        if matches!(error.kind(), PathErrorKind::InvalidUtf8InPathParam { .. }) =>
                    {
                        "invalid webhook id: the path segment is not UTF-8 once percent-decoded".to_owned()
                    }
                    _ => format!("invalid webhook id: {}", rejection.body_text()),
                };
                ApiError::new(rejection.status().as_u16(), message)
            },
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(json!({ "error": self.message, "code": self.status }))).into_response()
    }
}

type ApiResult = Result<Response, ApiError>;

fn project(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    let key = headers.get(API_KEY_HEADER).and_then(|value| value.to_str().ok());
    match key.and_then(|key| state.projects.get(key)) {
        Some(project) => Ok(project.clone()),
        None if key.is_none() => Err(ApiError::new(401, format!("missing `{API_KEY_HEADER}` header"))),
        None => Err(ApiError::new(401, "invalid API key")),
    }
}

fn json_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|error| ApiError::bad_request(format!("invalid JSON body: {error}")))
}

fn webhook_json(webhook: &WebhookRow, secret: Option<&str>) -> Value {
    let mut value = json!({
        "id": webhook.id,
        "project_id": webhook.project_id,
        "url": webhook.url,
        "description": webhook.description,
        "subscribed_events": webhook.subscribed_events,
        "enabled": webhook.enabled,
        "created_at": rfc3339(webhook.created_at_ms),
        "updated_at": rfc3339(webhook.updated_at_ms),
    });
    if let Some(secret) = secret {
        value["secret"] = json!(secret);
    }
    value
}

fn delivery_json(delivery: &DeliveryRow) -> Value {
    json!({
        "id": delivery.id,
        "external_event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "status": delivery.status.as_str(),
        "attempt": delivery.attempts_made.max(1),
        "response_status": delivery.response_status,
        "error_message": delivery.error_message,
        "scheduled_at": rfc3339(delivery.scheduled_at_ms),
        "completed_at": delivery.completed_at_ms.map(rfc3339),
    })
}

async fn create(State(state): State<AppState>, headers: HeaderMap, Body(body): Body) -> ApiResult {
    let project = project(&state, &headers)?;
    let (webhook, secret) = state.sender.create_webhook(&project, json_body::<NewWebhook>(&body)?)?;
    Ok((StatusCode::CREATED, Json(webhook_json(&webhook, Some(&secret)))).into_response())
}

async fn list(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    let project = project(&state, &headers)?;
    let webhooks: Vec<Value> =
        state.sender.list_webhooks(&project)?.iter().map(|webhook| webhook_json(webhook, None)).collect();
    Ok(Json(json!({ "webhooks": webhooks })).into_response())
}

async fn show(State(state): State<AppState>, headers: HeaderMap, WebhookId(id): WebhookId) -> ApiResult {
    let project = project(&state, &headers)?;
    Ok(Json(webhook_json(&state.sender.webhook(&project, &id)?, None)).into_response())
}

async fn update(
    State(state): State<AppState>,
    headers: HeaderMap,
    WebhookId(id): WebhookId,
    Body(body): Body,
) -> ApiResult {
    let project = project(&state, &headers)?;
    let webhook = state.sender.update_webhook(&project, &id, json_body::<WebhookPatch>(&body)?)?;
    Ok(Json(webhook_json(&webhook, None)).into_response())
}

async fn remove(State(state): State<AppState>, headers: HeaderMap, WebhookId(id): WebhookId) -> ApiResult {
    let project = project(&state, &headers)?;
    state.sender.delete_webhook(&project, &id)?;
    Ok(Json(json!({ "ok": true })).into_response())
}

async fn rotate(State(state): State<AppState>, headers: HeaderMap, WebhookId(id): WebhookId) -> ApiResult {
    let project = project(&state, &headers)?;
    let (webhook, secret) = state.sender.rotate_secret(&project, &id)?;
    Ok(Json(webhook_json(&webhook, Some(&secret))).into_response())
}

#[derive(serde::Deserialize)]
struct TestRequest {
    event_type: String,
}

async fn test(
    State(state): State<AppState>,
    headers: HeaderMap,
    WebhookId(id): WebhookId,
    Body(body): Body,
) -> ApiResult {
    let project = project(&state, &headers)?;
    let request: TestRequest = json_body(&body)?;
    let published = state.sender.send_test(&project, &id, &request.event_type)?;
    let answer = json!({ "external_event_id": published.event_id, "event_type": published.event_type });
    Ok((StatusCode::ACCEPTED, Json(answer)).into_response())
}

#[derive(serde::Deserialize)]
struct PublishRequest {
    #[serde(rename = "type")]
    event_type: String,
    #[serde(default = "empty_object")]
    data: Value,
}

fn empty_object() -> Value {
    json!({})
}

/// Emulator only (the provider creates events from its own activity): publishes an event of the
/// project to every enabled webhook subscribed to its type.
async fn publish(State(state): State<AppState>, headers: HeaderMap, Body(body): Body) -> ApiResult {
    let project = project(&state, &headers)?;
    let request: PublishRequest = json_body(&body)?;
    let published = state.sender.publish(&project, &request.event_type, request.data)?;
    let answer = json!({
        "external_event_id": published.event_id,
        "event_type": published.event_type,
        "deliveries": published.deliveries.len(),
    });
    Ok((StatusCode::ACCEPTED, Json(answer)).into_response())
}

#[derive(serde::Deserialize)]
struct EventsQuery {
    limit: Option<String>,
    offset: Option<String>,
    status: Option<String>,
    event_type: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

fn events_filter(query: EventsQuery) -> Result<DeliveryFilter, ApiError> {
    let number = |name: &str, value: Option<String>, default: u32, range: std::ops::RangeInclusive<u32>| {
        let Some(text) = value else { return Ok(default) };
        match text.parse::<u32>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(ApiError::bad_request(format!(
                "`{name}` must be an integer from {} to {}",
                range.start(),
                range.end()
            ))),
        }
    };
    let time = |name: &str, value: Option<String>| {
        value
            .map(|text| {
                parse_rfc3339(&text)
                    .ok_or_else(|| ApiError::bad_request(format!("`{name}` must be an RFC 3339 date-time")))
            })
            .transpose()
    };
    let status = query
        .status
        .map(|status| {
            DeliveryStatus::parse(&status).ok_or_else(|| {
                ApiError::bad_request("`status` must be one of pending, in_flight, succeeded, failed, dead")
            })
        })
        .transpose()?;
    Ok(DeliveryFilter {
        limit: number("limit", query.limit, 25, 1..=100)?,
        offset: number("offset", query.offset, 0, 0..=u32::MAX)?,
        status,
        event_type: query.event_type,
        since_ms: time("since", query.since)?,
        until_ms: time("until", query.until)?,
    })
}

async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    WebhookId(id): WebhookId,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let project = project(&state, &headers)?;
    let Query(query) = query.map_err(|error| ApiError::bad_request(format!("invalid query: {error}")))?;
    let filter = events_filter(query)?;
    let (rows, total) = state.sender.deliveries(&project, &id, &filter)?;
    let events: Vec<Value> = rows.iter().map(delivery_json).collect();
    Ok(Json(json!({
        "events": events,
        "pagination": { "limit": filter.limit, "offset": filter.offset, "total": total },
    }))
    .into_response())
}
