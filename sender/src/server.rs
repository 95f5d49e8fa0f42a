//! Running the emulator: bind, serve the API, purge old history, shut down on request.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::api;
use crate::clock::{Clock, SystemClock};
use crate::service::{Sender, SenderConfig};

/// The API key used when none is given: fine on loopback, announced at start-up.
pub const DEFAULT_API_KEY: &str = "ak_local_test";

/// A running emulator. Dropping it does not stop it; call [`Emulator::shutdown`].
#[derive(Debug)]
pub struct Emulator {
    pub addr: SocketAddr,
    pub sender: Arc<Sender>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Emulator {
    /// Binds `addr` (port 0 picks a free one), resumes unfinished deliveries and serves the API.
    pub async fn start(
        addr: SocketAddr,
        api_keys: &[String],
        config: SenderConfig,
    ) -> std::io::Result<Emulator> {
        Emulator::start_with_clock(addr, api_keys, config, Arc::new(SystemClock)).await
    }

    /// [`Emulator::start`] with the clock the sender reads (tests move it).
    pub async fn start_with_clock(
        addr: SocketAddr,
        api_keys: &[String],
        config: SenderConfig,
        clock: Arc<dyn Clock>,
    ) -> std::io::Result<Emulator> {
        let listener = TcpListener::bind(addr).await?;
        Emulator::serve(listener, api_keys, config, clock)
    }

    /// Serves the API on a listener the caller bound: `TcpListener::bind((host, port))` accepts a host
    /// name, resolved when binding, as `anchor-webhooks serve --host localhost` needs. Resumes unfinished
    /// deliveries like [`Emulator::start`].
    pub async fn start_on(
        listener: TcpListener,
        api_keys: &[String],
        config: SenderConfig,
    ) -> std::io::Result<Emulator> {
        Emulator::serve(listener, api_keys, config, Arc::new(SystemClock))
    }

    /// Takes a listener already bound, so a port in use or an unknown host fails before the sender starts
    /// (and resumes deliveries that nothing would then stop).
    fn serve(
        listener: TcpListener,
        api_keys: &[String],
        config: SenderConfig,
        clock: Arc<dyn Clock>,
    ) -> std::io::Result<Emulator> {
        if config.dispatch.url_policy.allow_insecure_localhost {
            tracing::warn!(
                "INSECURE: --allow-insecure-localhost is on: webhooks may target loopback addresses \
                 (127.0.0.0/8, ::1, localhost), over plain HTTP too. Use this only for local testing."
            );
        }
        let addr = listener.local_addr()?;
        let sender = Sender::start_with_clock(config, clock).map_err(std::io::Error::other)?;
        let app = api::router(Arc::clone(&sender), api_keys);
        let (stop, stopped) = oneshot::channel::<()>();
        let purger = Arc::clone(&sender);
        let task = tokio::spawn(async move {
            let purge = tokio::spawn(async move {
                let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
                loop {
                    every_hour.tick().await;
                    if let Err(error) = purger.purge_history() {
                        tracing::error!(%error, "history purge failed");
                    }
                }
            });
            let served = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(error) = served.await {
                tracing::error!(%error, "the API server stopped");
            }
            purge.abort();
        });
        Ok(Emulator { addr, sender, stop: Some(stop), task })
    }

    /// The API's base URL, e.g. `http://127.0.0.1:4010`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting requests, stops every delivery task and waits for the server to finish.
    /// Deliveries not yet final are abandoned; they resume on the next start when the storage is a file.
    pub async fn shutdown(mut self) {
        self.sender.stop_deliveries();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}
