//! The desktop app's settings (absent under `sightline serve`, which takes flags).

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;

use super::params::reply;
use super::{ApiError, ApiState};
use crate::error::ServerError;
use crate::settings::{self, Settings, SettingsStore};

fn settings_store(s: &ApiState) -> Result<&SettingsStore, ServerError> {
    s.settings.as_deref().ok_or_else(|| {
        ServerError::NotFound(
            "settings belong to the desktop app; `sightline serve` takes its settings as flags"
                .into(),
        )
    })
}

/// The settings, where they are kept, and the defaults of what is left unset.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettingsAnswer {
    pub settings: Settings,
    /// The settings file.
    #[schema(value_type = String)]
    pub file: std::path::PathBuf,
    #[schema(value_type = String)]
    pub default_data_dir: std::path::PathBuf,
    #[schema(value_type = String)]
    pub default_inbox_dir: std::path::PathBuf,
    /// The receivers are moving to new ports or data: the desktop app restarts the engine.
    pub restart: bool,
}

fn answer(store: &SettingsStore, restart: bool) -> SettingsAnswer {
    SettingsAnswer {
        settings: store.get(),
        file: store.path().to_owned(),
        default_data_dir: settings::default_data_dir(),
        default_inbox_dir: settings::default_inbox_dir(),
        restart,
    }
}

/// The desktop app's settings (404 under `sightline serve`, whose settings are flags).
#[utoipa::path(get, path = "/api/v1/settings", tag = "settings",
    responses((status = 200, body = SettingsAnswer), (status = 404, body = ApiError)))]
pub(super) async fn get_settings(State(s): State<ApiState>) -> Response {
    reply(settings_store(&s).map(|store| answer(store, false)))
}

/// Changes some settings (the body holds only those): checked (ports free and distinct, data
/// directory writable), saved, then applied by the desktop app.
#[utoipa::path(patch, path = "/api/v1/settings", tag = "settings", request_body = Settings,
    responses((status = 200, body = SettingsAnswer), (status = 400, body = ApiError),
        (status = 404, body = ApiError)))]
pub(super) async fn patch_settings(State(s): State<ApiState>, body: Bytes) -> Response {
    let result = async {
        let store = settings_store(&s)?;
        let now = store.get();
        let next = settings::merge(&now, &body)?;
        let e = &s.endpoints;
        let running = [e.otlp_grpc.port(), e.otlp_http.port(), e.ui.port()];
        let checked = next.clone();
        tokio::task::spawn_blocking(move || settings::check(&checked, &running))
            .await
            .map_err(|e| ServerError::Internal(format!("settings check failed: {e}")))??;
        let restart = now.needs_restart(&next);
        store.save(next)?;
        tracing::info!(restart, "settings saved");
        Ok(answer(store, restart))
    }
    .await;
    reply(result)
}
