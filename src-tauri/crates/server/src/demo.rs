//! The demo storefront next to the engine (`sightline demo`, the UI's "Try the demo"): at most
//! one per engine, started on request with the engine's own OTLP/HTTP address, stopped with the
//! engine.

use std::net::SocketAddr;

use sightline_demo::{Demo, DemoConfig, DemoError};
use tokio::sync::Mutex;

use crate::Result;

/// What the UI and the CLI are told about the demo.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DemoView {
    pub running: bool,
    /// The storefront's URL, when running.
    pub url: Option<String>,
    /// Each service and its address (storefront-api first), when running.
    pub services: Vec<DemoService>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DemoService {
    pub name: &'static str,
    /// `host:port`.
    #[schema(value_type = String)]
    pub addr: SocketAddr,
}

pub struct DemoRunner {
    config: DemoConfig,
    running: Mutex<Option<Demo>>,
}

fn view(demo: Option<&Demo>) -> DemoView {
    DemoView {
        running: demo.is_some(),
        url: demo.map(Demo::url),
        services: demo
            .map(|d| {
                d.services
                    .iter()
                    .map(|(name, addr)| DemoService { name, addr: *addr })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

impl DemoRunner {
    /// `config` with the engine's addresses filled in by the caller.
    pub fn new(config: DemoConfig) -> DemoRunner {
        DemoRunner {
            config,
            running: Mutex::new(None),
        }
    }

    pub async fn view(&self) -> DemoView {
        view(self.running.lock().await.as_ref())
    }

    /// Starts the demo unless it runs. With `any_port`, a storefront port in use (a developer's
    /// own app on :3000, most likely) is not an error: a free port is taken instead.
    pub async fn start(&self, any_port: bool) -> Result<DemoView> {
        let mut running = self.running.lock().await;
        if running.is_none() {
            let demo = match Demo::start(self.config.clone()).await {
                Err(DemoError::PortInUse { addr }) if any_port => {
                    tracing::info!(%addr, "the demo's port is in use; taking a free one");
                    let config = DemoConfig {
                        addr: SocketAddr::new(addr.ip(), 0),
                        ..self.config.clone()
                    };
                    Demo::start(config).await?
                }
                other => other?,
            };
            *running = Some(demo);
        }
        Ok(view(running.as_ref()))
    }

    pub async fn shutdown(&self) {
        if let Some(demo) = self.running.lock().await.take() {
            demo.shutdown().await;
        }
    }
}
