//! `payment-svc`: asks fraud-svc for a score, then authorizes the card. Bug 1 lives here: the
//! test card 4000 0000 0000 0002 is declined, a 402 with `card_declined` recorded on the span
//! (`error.type`) that storefront-api turns into a 400 and the page into a toast.

use std::sync::Arc;
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use http::StatusCode;
use opentelemetry::logs::Severity;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt};
use opentelemetry::KeyValue;
use serde::Deserialize;
use serde_json::json;

use crate::telemetry::{call, Req, Telemetry};

/// The card number the issuer declines (Stripe's test card for a decline).
pub const DECLINED_CARD: &str = "4000000000000002";
/// The issuer's round trip, as slow as a real one: long enough that a second click on "Place
/// order" lands while the first checkout is still in flight (bug 3).
const AUTHORIZATION_TIME: Duration = Duration::from_millis(400);

pub(crate) struct Payment {
    pub telemetry: Arc<Telemetry>,
    pub client: reqwest::Client,
    /// fraud-svc's base URL.
    pub fraud: String,
    /// `payments.authorizations` by `payment.result` (`approved`, `declined`).
    pub authorizations: opentelemetry::metrics::Counter<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Charge {
    amount_cents: i64,
    #[serde(default)]
    email: String,
    card: Card,
}

#[derive(Deserialize)]
struct Card {
    #[serde(default)]
    number: String,
}

pub(crate) fn router(payment: Arc<Payment>) -> Router {
    crate::telemetry::traced_by(
        Router::new().route("/charges", post(charge)),
        &payment.telemetry,
    )
    .layer(Extension(payment))
}

async fn charge(
    Extension(p): Extension<Arc<Payment>>,
    Extension(req): Extension<Req>,
    body: Result<Json<serde_json::Value>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let t = &p.telemetry;
    let Ok(Json(raw)) = body else {
        return crate::fail(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "expected a JSON charge",
        );
    };
    if req.incident() {
        t.log(
            &req,
            Severity::Debug,
            "charge request",
            vec![("payload", Req::payload(&raw))],
        );
    }
    let Ok(input) = serde_json::from_value::<Charge>(raw) else {
        return crate::fail(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "expected {amountCents, email, card: {number}}",
        );
    };
    let digits: String = input
        .card
        .number
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    if digits.len() < 12 {
        return crate::fail(
            StatusCode::BAD_REQUEST,
            "invalid_card",
            "the card number is too short",
        );
    }
    let bin = digits[..6].to_owned();
    let last4 = digits[digits.len() - 4..].to_owned();
    let scored = call(
        t,
        &req,
        &p.client,
        "fraud-svc",
        &format!("{}/score", p.fraud),
        &json!({ "email": input.email, "cardBin": bin, "amountCents": input.amount_cents }),
    )
    .await;
    let decision = match &scored {
        Ok((200, body)) => body["decision"].as_str().unwrap_or("allow").to_owned(),
        // Failing open, as many shops do: a fraud-svc outage must not stop sales.
        _ => {
            t.log(
                &req,
                Severity::Warn,
                "fraud-svc unavailable, charging without a score",
                vec![],
            );
            "allow".to_owned()
        }
    };

    let cx = t.span(
        &req.cx,
        "authorize card",
        SpanKind::Internal,
        vec![
            KeyValue::new("payment.amount_cents", input.amount_cents),
            KeyValue::new("payment.currency", "USD"),
            KeyValue::new("payment.card.last4", last4.clone()),
            KeyValue::new("fraud.decision", decision),
        ],
    );
    tokio::time::sleep(AUTHORIZATION_TIME).await;
    let authorizing = Req {
        cx: cx.clone(),
        ..req.clone()
    };
    let span = cx.span();
    let declined = digits == DECLINED_CARD;
    p.authorizations.add(
        1,
        &[KeyValue::new(
            "payment.result",
            if declined { "declined" } else { "approved" },
        )],
    );
    if declined {
        span.set_attribute(KeyValue::new("error.type", "card_declined"));
        span.set_attribute(KeyValue::new("payment.decline_code", "insufficient_funds"));
        span.set_status(Status::error(
            "card_declined: the issuer declined the card (insufficient_funds)",
        ));
        span.end();
        t.log(
            &authorizing,
            Severity::Warn,
            format!("card ending {last4} declined by the issuer: insufficient_funds"),
            vec![
                ("error.type", "card_declined".into()),
                ("payment.amount_cents", input.amount_cents.into()),
            ],
        );
        return crate::fail(
            StatusCode::PAYMENT_REQUIRED,
            "card_declined",
            "The card was declined (insufficient_funds).",
        );
    }
    let charge_id = format!("ch_{}", hex::encode(rand::random::<[u8; 6]>()));
    span.set_attribute(KeyValue::new("payment.charge_id", charge_id.clone()));
    span.end();
    t.log(
        &authorizing,
        Severity::Info,
        format!(
            "charge {charge_id} authorized: {} cents on card ending {last4}",
            input.amount_cents
        ),
        vec![("payment.charge_id", charge_id.clone().into())],
    );
    (
        StatusCode::CREATED,
        Json(json!({ "chargeId": charge_id, "amountCents": input.amount_cents })),
    )
        .into_response()
}
