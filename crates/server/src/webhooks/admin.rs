//! Webhooks in the admin (`Action::ManageSettings`): the registered URLs with their
//! events and secrets, a form to add one, a button to remove one, and the delivery
//! log (each attempt's status or error). Every change is in the audit log.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use broadsheet_domain::{
    Action, NewWebhook, Target, ValidationErrors, Webhook, WebhookDelivery, WebhookEvent,
    WebhookId, clock,
};
use chrono_tz::Tz;
use minijinja::context;
use serde::Serialize;

use crate::admin::{AdminRoute, field_errors, render, render_status};
use crate::app::AppState;
use crate::auth::SignedIn;
use crate::error::AppError;
use crate::signing::hex;

/// Deliveries in the log.
const LOG: u32 = 100;

pub fn routes() -> Vec<AdminRoute> {
    vec![
        AdminRoute::get("/admin/webhooks", list),
        AdminRoute::post("/admin/webhooks", create),
        AdminRoute::get("/admin/webhooks/{id}", show),
        AdminRoute::post("/admin/webhooks/{id}/delete", delete),
    ]
}

#[derive(Serialize)]
struct EventChoice {
    value: &'static str,
    label: &'static str,
    checked: bool,
}

fn choices(checked: &[String]) -> Vec<EventChoice> {
    WebhookEvent::ALL
        .iter()
        .map(|e| EventChoice {
            value: e.as_str(),
            label: e.label(),
            checked: checked.iter().any(|c| c == e.as_str()),
        })
        .collect()
}

#[derive(Serialize)]
struct HookView {
    id: i64,
    url: String,
    events: Vec<&'static str>,
    secret: String,
}

impl From<&Webhook> for HookView {
    fn from(hook: &Webhook) -> HookView {
        HookView {
            id: hook.id.0,
            url: hook.url.clone(),
            events: hook.events.iter().map(|e| e.as_str()).collect(),
            secret: hook.secret.clone(),
        }
    }
}

#[derive(Serialize)]
struct DeliveryView {
    id: i64,
    webhook_id: i64,
    event: &'static str,
    state: &'static str,
    attempts: u32,
    last_status: Option<u16>,
    last_error: Option<String>,
    created_at: String,
    updated_at: String,
}

impl DeliveryView {
    fn of(d: &WebhookDelivery, tz: Tz) -> DeliveryView {
        let local = |at: chrono::DateTime<chrono::Utc>| {
            at.with_timezone(&tz)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        };
        DeliveryView {
            id: d.id.0,
            webhook_id: d.webhook_id.0,
            event: d.event.as_str(),
            state: d.state.as_str(),
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error.clone(),
            created_at: local(d.created_at),
            updated_at: local(d.updated_at),
        }
    }
}

async fn page(
    state: &AppState,
    who: &SignedIn,
    status: StatusCode,
    form: minijinja::Value,
) -> Result<Response, AppError> {
    who.require(Action::ManageSettings, Target::Site)?;
    let tz = who.site.settings.tz();
    let hooks: Vec<HookView> = state
        .store
        .list_webhooks()
        .await?
        .iter()
        .map(HookView::from)
        .collect();
    let log: Vec<DeliveryView> = state
        .store
        .list_webhook_deliveries(None, LOG)
        .await?
        .iter()
        .map(|d| DeliveryView::of(d, tz))
        .collect();
    render_status(
        state,
        who,
        status,
        "admin/webhooks.html",
        context! { section => "webhooks", hooks, log, form },
    )
}

/// GET /admin/webhooks
async fn list(State(state): State<AppState>, who: SignedIn) -> Result<Response, AppError> {
    let form = context! { url => "", events => choices(&[]) };
    page(&state, &who, StatusCode::OK, form).await
}

/// POST /admin/webhooks: `url`, `event` once per chosen event.
async fn create(
    State(state): State<AppState>,
    who: SignedIn,
    body: Bytes,
) -> Result<Response, AppError> {
    who.require(Action::ManageSettings, Target::Site)?;
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|_| AppError::BadRequest("The form could not be read.".into()))?;
    let url = fields
        .iter()
        .find(|(name, _)| name == "url")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let events: Vec<String> = fields
        .iter()
        .filter(|(name, _)| name == "event")
        .map(|(_, v)| v.clone())
        .collect();
    let hook = match NewWebhook::check(&url, &events, new_secret()?) {
        Ok(hook) => hook,
        Err(errors) => return shown_again(&state, &who, &url, &events, &errors).await,
    };
    let hook = state.store.create_webhook(&hook, clock::now()).await?;
    crate::admin::audit::record(
        &state,
        &who.user,
        "webhook.create",
        &format!("webhook:{}", hook.id),
        &hook.url,
    )
    .await?;
    Ok(Redirect::to(&format!("/admin/webhooks/{}", hook.id)).into_response())
}

async fn shown_again(
    state: &AppState,
    who: &SignedIn,
    url: &str,
    events: &[String],
    errors: &ValidationErrors,
) -> Result<Response, AppError> {
    let form = context! { url, events => choices(events), errors => field_errors(errors) };
    page(state, who, StatusCode::UNPROCESSABLE_ENTITY, form).await
}

/// GET /admin/webhooks/{id}: one webhook, its secret, and its deliveries.
async fn show(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    who.require(Action::ManageSettings, Target::Site)?;
    let tz = who.site.settings.tz();
    let hook = state.store.webhook_by_id(WebhookId(id)).await?;
    let log: Vec<DeliveryView> = state
        .store
        .list_webhook_deliveries(Some(hook.id), LOG)
        .await?
        .iter()
        .map(|d| DeliveryView::of(d, tz))
        .collect();
    render(
        &state,
        &who,
        "admin/webhook.html",
        context! { section => "webhooks", hook => HookView::from(&hook), log },
    )
}

/// POST /admin/webhooks/{id}/delete
async fn delete(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    who.require(Action::ManageSettings, Target::Site)?;
    let hook = state.store.webhook_by_id(WebhookId(id)).await?;
    state.store.delete_webhook(hook.id).await?;
    crate::admin::audit::record(
        &state,
        &who.user,
        "webhook.delete",
        &format!("webhook:{}", hook.id),
        &hook.url,
    )
    .await?;
    Ok(Redirect::to("/admin/webhooks").into_response())
}

/// A new webhook's secret: 32 random bytes in hex.
fn new_secret() -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AppError::internal(e.to_string()))?;
    Ok(hex(&bytes))
}
