//! `fraud-svc`: scores a charge before payment-svc authorizes it. Always allows in the demo; the
//! score and the reasons are recorded on the span and logged.

use std::sync::Arc;
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use opentelemetry::logs::Severity;
use opentelemetry::trace::{SpanKind, TraceContextExt};
use opentelemetry::KeyValue;
use serde::Deserialize;
use serde_json::json;

use crate::telemetry::{Req, Telemetry};

/// Scoring takes a moment, as a model call would; it makes the waterfall readable.
const SCORING_TIME: Duration = Duration::from_millis(25);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Score {
    #[serde(default)]
    email: String,
    #[serde(default)]
    card_bin: String,
    amount_cents: i64,
}

pub(crate) fn router(telemetry: Arc<Telemetry>) -> Router {
    crate::telemetry::traced_by(Router::new().route("/score", post(score)), &telemetry)
        .layer(Extension(telemetry))
}

async fn score(
    Extension(t): Extension<Arc<Telemetry>>,
    Extension(req): Extension<Req>,
    body: Result<Json<Score>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(input)) = body else {
        return crate::fail(
            http::StatusCode::BAD_REQUEST,
            "bad_request",
            "expected {email, cardBin, amountCents}",
        );
    };
    let cx = t.span(&req.cx, "score transaction", SpanKind::Internal, vec![]);
    tokio::time::sleep(SCORING_TIME).await;
    // A stable score from the inputs: the same order scores the same way twice.
    let mut reasons = Vec::new();
    let mut score = (input.email.len() as i64 * 7 + input.amount_cents / 1000) % 40;
    if input.amount_cents > 50_000 {
        score += 30;
        reasons.push("amount over $500");
    }
    if input.email.ends_with("@example.com") {
        reasons.push("test domain");
    }
    let decision = if score >= 80 { "review" } else { "allow" };
    let span = cx.span();
    span.set_attribute(KeyValue::new("fraud.score", score));
    span.set_attribute(KeyValue::new("fraud.decision", decision));
    span.set_attribute(KeyValue::new("payment.card.bin", input.card_bin.clone()));
    span.end();
    let scored = Req { cx, ..req.clone() };
    t.log(
        &scored,
        Severity::Info,
        format!(
            "fraud score {score} for {} cents: {decision}",
            input.amount_cents
        ),
        vec![
            ("fraud.score", score.into()),
            ("fraud.reasons", reasons.join(", ").into()),
        ],
    );
    Json(json!({ "score": score, "decision": decision, "reasons": reasons })).into_response()
}
