//! `anchor_webhooks._native`: the Python binding of the anchor-webhooks core.
//!
//! Conversion only (STYLE.md): every rule (header parsing, signatures, tolerance, envelope, dedupe) is the
//! core's. This crate turns Python values into core inputs (`input`), core results into Python objects
//! (`event`, `json`), core errors into exceptions (`errors`, the one mapping place), and supplies the
//! host clock.

mod errors;
mod event;
mod input;
mod json;
mod receiver;
mod repr;
mod verifier;

use pyo3::prelude::*;

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    module.add("IN_PROGRESS_RETRY_AFTER_SECONDS", anchor_webhooks::IN_PROGRESS_RETRY_AFTER_SECONDS)?;
    module.add("DEFAULT_MAX_BODY_BYTES", anchor_webhooks::DEFAULT_MAX_BODY_BYTES)?;
    errors::register(module)?;
    module.add_class::<verifier::PyVerifier>()?;
    module.add_class::<verifier::PyVerifiedSignature>()?;
    module.add_class::<event::PyEvent>()?;
    module.add_class::<event::PyArtifact>()?;
    module.add_class::<event::TaskView>()?;
    module.add_class::<event::SessionView>()?;
    module.add_class::<receiver::PyMemoryStore>()?;
    module.add_class::<receiver::PyRedisStore>()?;
    module.add_class::<receiver::PyReceiver>()?;
    module.add_class::<receiver::PyReception>()?;
    module.add_function(wrap_pyfunction!(verifier::sign, module)?)?;
    module.add_function(wrap_pyfunction!(verifier::event_types, module)?)?;
    module.add_function(wrap_pyfunction!(verifier::error_codes, module)?)?;
    module.add_function(wrap_pyfunction!(verifier::task_error_types, module)?)?;
    module.add_function(wrap_pyfunction!(verifier::sender_retries, module)?)?;
    Ok(())
}
