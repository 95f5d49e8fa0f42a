//! The provider side of anchor-webhooks: a local emulator of the webhook management API, a dispatcher
//! that signs and delivers events with the provider's retry schedule, and the delivery log.

#![forbid(unsafe_code)]

pub mod url_rules;
