//! `storefront-api`: the shop's pages and the API they call — products, promo codes, checkout
//! (payment-svc, then order-svc). Serves the page shell, its stylesheet and its script bundle
//! (the page code with the OpenTelemetry web SDK), and loads Sightline's recorder from the
//! engine.
//!
//! Bug 3 lives here: a checkout is not idempotent (no idempotency key), so two clicks on
//! "Place order" charge twice and store two orders.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use http::StatusCode;
use opentelemetry::logs::Severity;
use opentelemetry::trace::TraceContextExt;
use opentelemetry::KeyValue;
use serde::Deserialize;
use serde_json::json;

use crate::telemetry::{call, Req, Telemetry};
use crate::Faults;

/// What the shop sells: id, name, blurb, price in cents, and the art the page draws.
pub const PRODUCTS: &[Product] = &[
    Product {
        id: "mug",
        name: "Stoneware Mug",
        blurb: "Hand-glazed, 350 ml, dishwasher safe.",
        price_cents: 2400,
        art: "mug",
        hue: 24,
    },
    Product {
        id: "tee",
        name: "Organic Cotton Tee",
        blurb: "Heavyweight jersey, relaxed fit.",
        price_cents: 3200,
        art: "tee",
        hue: 205,
    },
    Product {
        id: "tote",
        name: "Canvas Tote",
        blurb: "Waxed canvas, leather handles.",
        price_cents: 4500,
        art: "tote",
        hue: 140,
    },
    Product {
        id: "notebook",
        name: "Dot Grid Notebook",
        blurb: "A5, 192 pages, lay-flat binding.",
        price_cents: 1800,
        art: "notebook",
        hue: 265,
    },
    Product {
        id: "cap",
        name: "Six-Panel Cap",
        blurb: "Washed twill, brass buckle.",
        price_cents: 2800,
        art: "cap",
        hue: 350,
    },
    Product {
        id: "candle",
        name: "Cedar Candle",
        blurb: "Soy wax, 50-hour burn.",
        price_cents: 3600,
        art: "candle",
        hue: 45,
    },
];

/// Promo codes and their percentage off.
const PROMOS: &[(&str, i64)] = &[("WELCOME10", 10), ("FRIENDS20", 20)];
/// Largest quantity of one product in a cart: a shop has stock, and totals must not overflow.
const MAX_QUANTITY: i64 = 99;
/// Largest number of cart lines accepted in one checkout.
const MAX_LINES: usize = 50;

#[derive(serde::Serialize, Clone, Copy)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub id: &'static str,
    pub name: &'static str,
    pub blurb: &'static str,
    pub price_cents: i64,
    pub art: &'static str,
    pub hue: u16,
}

pub(crate) struct Storefront {
    pub telemetry: Arc<Telemetry>,
    pub client: reqwest::Client,
    pub payment: String,
    pub orders: String,
    pub faults: Arc<Faults>,
    /// The engine's OTLP/HTTP base URL: the recorder's source and the web SDK's endpoint.
    pub otlp_http: String,
    /// Sightline's UI, linked from the demo banner.
    pub sightline_ui: Option<String>,
}

pub(crate) fn router(shop: Arc<Storefront>) -> Router {
    let api = crate::telemetry::traced_by(
        Router::new()
            .route("/api/products", get(products))
            .route("/api/promo", post(promo))
            .route("/api/checkout", post(checkout))
            .route("/demo/faults", get(faults).post(set_faults)),
        &shop.telemetry,
    );
    Router::new()
        .route("/static/storefront.js", get(script))
        .route("/static/storefront.css", get(stylesheet))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .merge(api)
        .fallback(get(page))
        .layer(Extension(shop))
}

/// Every page is the same shell; the script routes by path.
async fn page(Extension(shop): Extension<Arc<Storefront>>) -> Response {
    let config = json!({
        "otlp": shop.otlp_http,
        "sightline": shop.sightline_ui,
        "declinedCard": crate::payment::DECLINED_CARD,
    });
    // `</` cannot appear in JSON produced here except inside strings; escaping it keeps the
    // script element closed where the page means it to be.
    let config = config.to_string().replace("</", "<\\/");
    let html = include_str!("../web/index.html")
        .replace(
            "{{RECORDER}}",
            &format!("{}/sightline.js", shop.otlp_http.trim_end_matches('/')),
        )
        .replace("{{CONFIG}}", &config);
    ([(header::CACHE_CONTROL, "no-cache")], Html(html)).into_response()
}

async fn script() -> Response {
    match crate::bundle::STOREFRONT_JS {
        Some(js) => (
            [
                (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            js,
        )
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
            "document.body.textContent = 'This Sightline build has no demo storefront script: run `make ui` (npm ci && npm run build in ui/), then rebuild.';",
        )
            .into_response(),
    }
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../web/storefront.css"),
    )
        .into_response()
}

async fn products(
    Extension(shop): Extension<Arc<Storefront>>,
    Extension(req): Extension<Req>,
) -> Response {
    shop.telemetry.log(
        &req,
        Severity::Info,
        format!("listed {} products", PRODUCTS.len()),
        vec![],
    );
    Json(json!({ "products": PRODUCTS })).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromoRequest {
    code: String,
}

async fn promo(
    Extension(shop): Extension<Arc<Storefront>>,
    Extension(req): Extension<Req>,
    body: Result<Json<PromoRequest>, JsonRejection>,
) -> Response {
    let Ok(Json(input)) = body else {
        return crate::fail(StatusCode::BAD_REQUEST, "bad_request", "expected {code}");
    };
    let code = input.code.trim().to_uppercase();
    req.cx
        .span()
        .set_attribute(KeyValue::new("promo.code", code.clone()));
    match PROMOS.iter().find(|(c, _)| *c == code) {
        Some((code, percent)) => {
            shop.telemetry.log(
                &req,
                Severity::Info,
                format!("promo {code} applied: {percent}% off"),
                vec![("promo.code", code.to_string().into())],
            );
            Json(json!({ "code": code, "percentOff": percent })).into_response()
        }
        None => {
            shop.telemetry.log(
                &req,
                Severity::Info,
                format!("promo code {code:?} is not valid"),
                vec![("promo.code", code.clone().into())],
            );
            crate::fail(
                StatusCode::NOT_FOUND,
                "unknown_promo",
                "This promo code is not valid.",
            )
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Line {
    id: String,
    quantity: i64,
}

async fn checkout(
    Extension(shop): Extension<Arc<Storefront>>,
    Extension(req): Extension<Req>,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Response {
    let t = &shop.telemetry;
    let Ok(Json(raw)) = body else {
        return crate::fail(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "expected a JSON checkout",
        );
    };
    if req.incident() {
        t.log(
            &req,
            Severity::Debug,
            "checkout request",
            vec![("payload", Req::payload(&raw))],
        );
    }
    let lines: Vec<Line> = match serde_json::from_value(raw["items"].clone()) {
        Ok(lines) => lines,
        Err(_) => {
            return crate::fail(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "expected items: [{id, quantity}]",
            )
        }
    };
    if lines.is_empty() || lines.len() > MAX_LINES {
        return crate::fail(
            StatusCode::BAD_REQUEST,
            "bad_cart",
            "the cart is empty or too large",
        );
    }
    let mut subtotal = 0;
    for line in &lines {
        let Some(product) = PRODUCTS.iter().find(|p| p.id == line.id) else {
            return crate::fail(
                StatusCode::BAD_REQUEST,
                "unknown_product",
                &format!("no product {:?}", line.id),
            );
        };
        if !(1..=MAX_QUANTITY).contains(&line.quantity) {
            return crate::fail(
                StatusCode::BAD_REQUEST,
                "bad_quantity",
                "quantities are 1 to 99",
            );
        }
        subtotal += product.price_cents * line.quantity;
    }
    let percent = raw["promo"]
        .as_str()
        .and_then(|code| PROMOS.iter().find(|(c, _)| c.eq_ignore_ascii_case(code)))
        .map_or(0, |(_, p)| *p);
    let total = subtotal - subtotal * percent / 100;
    let email = raw["email"].as_str().unwrap_or_default().to_owned();
    let span = req.cx.span();
    span.set_attribute(KeyValue::new("checkout.total_cents", total));
    span.set_attribute(KeyValue::new("checkout.items", lines.len() as i64));
    t.log(
        &req,
        Severity::Info,
        format!("checkout started: {} items, {total} cents", lines.len()),
        vec![("checkout.total_cents", total.into())],
    );

    let charge = call(
        t,
        &req,
        &shop.client,
        "payment-svc",
        &format!("{}/charges", shop.payment),
        &json!({ "amountCents": total, "email": email, "card": raw["card"] }),
    )
    .await;
    let charge_id = match charge {
        Ok((201, body)) => body["chargeId"].as_str().unwrap_or_default().to_owned(),
        Ok((402, body)) => {
            let code = body["error"]["code"]
                .as_str()
                .unwrap_or("card_declined")
                .to_owned();
            span.set_attribute(KeyValue::new("error.type", code.clone()));
            t.log(
                &req,
                Severity::Warn,
                format!("payment declined: {code}"),
                vec![("error.type", code.clone().into())],
            );
            return crate::fail(
                StatusCode::BAD_REQUEST,
                &code,
                "Your card was declined. Try another card.",
            );
        }
        // The card the shopper typed is not one (too short, missing): theirs to fix.
        Ok((400, body)) => {
            let code = body["error"]["code"].as_str().unwrap_or("invalid_card");
            let message = body["error"]["message"]
                .as_str()
                .unwrap_or("Check the card number.");
            return crate::fail(StatusCode::BAD_REQUEST, code, message);
        }
        Ok((status, body)) => {
            t.log(
                &req,
                Severity::Error,
                format!("payment-svc answered {status}: {body}"),
                vec![],
            );
            return crate::fail(
                StatusCode::BAD_GATEWAY,
                "payment_failed",
                "The payment could not be taken.",
            );
        }
        Err(err) => {
            t.log(
                &req,
                Severity::Error,
                format!("payment-svc unreachable: {err}"),
                vec![],
            );
            return crate::fail(
                StatusCode::BAD_GATEWAY,
                "payment_unavailable",
                "The payment could not be taken.",
            );
        }
    };

    let order = call(
        t,
        &req,
        &shop.client,
        "order-svc",
        &format!("{}/orders", shop.orders),
        &json!({ "chargeId": charge_id, "email": email, "totalCents": total, "items": raw["items"] }),
    )
    .await;
    match order {
        Ok((201, body)) => {
            let order_id = body["orderId"].as_i64().unwrap_or_default();
            span.set_attribute(KeyValue::new("order.id", order_id));
            t.log(
                &req,
                Severity::Info,
                format!("order #{order_id} placed ({total} cents)"),
                vec![("order.id", order_id.into())],
            );
            (
                StatusCode::CREATED,
                Json(json!({ "orderId": order_id, "totalCents": total, "chargeId": charge_id })),
            )
                .into_response()
        }
        other => {
            let why = match other {
                Ok((status, body)) => format!(
                    "order-svc answered {status}: {}",
                    body["error"]["message"].as_str().unwrap_or("")
                ),
                Err(err) => err,
            };
            // The card was charged and no order exists: the costly half of this bug.
            t.log(
                &req,
                Severity::Error,
                format!("order not placed after charge {charge_id}: {why}"),
                vec![("payment.charge_id", charge_id.into())],
            );
            crate::fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "order_failed",
                "Something went wrong placing your order. Please try again.",
            )
        }
    }
}

async fn faults(Extension(shop): Extension<Arc<Storefront>>) -> Response {
    Json(shop.faults.view()).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SetFaults {
    slow_next_order: bool,
}

/// The demo's own control (the page's bug guide, tests): make the next order meet the lock.
async fn set_faults(
    Extension(shop): Extension<Arc<Storefront>>,
    body: Result<Json<SetFaults>, JsonRejection>,
) -> Response {
    let Ok(Json(input)) = body else {
        return crate::fail(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "expected {slowNextOrder: bool}",
        );
    };
    shop.faults.set_slow_next_order(input.slow_next_order);
    Json(shop.faults.view()).into_response()
}
