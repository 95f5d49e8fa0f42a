//! The C ABI of anchor-webhooks: `libanchor_webhooks.a` / `.so`, declared by `include/anchor_webhooks.h`
//! (generated from this crate by cbindgen; see `bindings-c/README.md`).
//!
//! Conventions (rustls-ffi's): opaque handles with `_new` / `_free` (`_free(NULL)` is a no-op); every
//! fallible function returns an [`anchor_result`]; outputs go through trailing pointers and are written
//! only on success; every buffer is followed by its length; nothing assumes UTF-8 unless it says so; every
//! body runs inside `catch_unwind`, so a panic becomes `ANCHOR_RESULT_PANIC` instead of aborting the host.
//!
//! This crate holds ALL the `unsafe` code of the project (the core is `#![forbid(unsafe_code)]`): the raw
//! pointer conversions live in `ffi.rs`, and every other module calls them through a small set of helpers.

#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs)]
// The C names are the Rust names: `anchor_verifier`, `anchor_result`, ... (as rustls-ffi does).
#![allow(non_camel_case_types)]
// The pointer contract is the same for every function and is stated once, at the top of the header
// (cbindgen.toml's `header`) and in bindings-c/README.md, instead of a `# Safety` section per function.
#![allow(clippy::missing_safety_doc)]

mod catalogue;
mod event;
mod ffi;
mod last_error;
mod receiver;
mod redis;
mod result;
mod sign;
mod verifier;

pub use catalogue::*;
pub use event::*;
pub use ffi::{anchor_bytes, anchor_header};
pub use receiver::*;
pub use redis::*;
pub use result::anchor_result;
pub use sign::*;
pub use verifier::*;
