//! A tracing subscriber that keeps every event and span field as text, to assert
//! what a run logged (and that no secret was among it).
//!
//! ```
//! use devflow_sync_testkit::capture::CapturedTracing;
//! let captured = CapturedTracing::default();
//! tracing::subscriber::with_default(captured.clone(), || {
//!     tracing::warn!(connection = "c1", "token refresh failed");
//! });
//! assert!(captured.text().contains("token refresh failed"));
//! ```

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

/// Every tracing event and span, formatted with its fields, while installed.
#[derive(Clone, Debug, Default)]
pub struct CapturedTracing(Arc<Mutex<String>>);

impl CapturedTracing {
    /// Everything captured so far.
    pub fn text(&self) -> String {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

struct Visitor<'a>(&'a mut String);

impl tracing::field::Visit for Visitor<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl tracing::Subscriber for CapturedTracing {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut out = self.0.lock().unwrap_or_else(|e| e.into_inner());
        span.record(&mut Visitor(&mut out));
        out.push('\n');
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let mut out = self.0.lock().unwrap_or_else(|e| e.into_inner());
        values.record(&mut Visitor(&mut out));
        out.push('\n');
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut out = self.0.lock().unwrap_or_else(|e| e.into_inner());
        event.record(&mut Visitor(&mut out));
        out.push('\n');
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}
