//! The provider side of anchor-webhooks: a local emulator of the webhook management API (SPEC §7), a
//! dispatcher that signs and delivers events on the provider's retry schedule, and the delivery log.
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! use anchor_webhooks_sender::{Emulator, SenderConfig};
//! let emulator = Emulator::start("127.0.0.1:0".parse().unwrap(), &["my-key".into()], SenderConfig::default()).await?;
//! println!("POST {}/v1/webhooks with header anchor-api-key: my-key", emulator.base_url());
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

pub mod api;
pub mod clock;
pub mod dispatch;
pub mod envelope;
pub mod server;
pub mod service;
pub mod store;
pub mod url_rules;

pub use clock::{Clock, OffsetClock, SystemClock};
pub use dispatch::{DispatchConfig, MAX_TIME_SCALE, MIN_TIME_SCALE, RETRY_SCHEDULE_SECS};
pub use server::{Emulator, DEFAULT_API_KEY};
pub use service::{ApiError, Sender, SenderConfig};
pub use url_rules::UrlPolicy;
