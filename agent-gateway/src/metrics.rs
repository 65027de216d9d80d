//! The gateway's own metrics (model calls), registered beside
//! the shared ones of [`todo_server::Metrics`].

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use todo_server::Metrics;
use todo_server::http::metrics::{HistogramFamily, register};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

/// Model calls from 50 ms to about 100 s.
fn slow_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.05, 2.0, 12))
}

/// Cheap to clone: the families share their values with the registry.
#[derive(Clone, Debug)]
pub struct GatewayMetrics {
    llm_calls: Family<OutcomeLabels, Counter>,
    llm_duration: HistogramFamily<OutcomeLabels>,
    llm_tokens: Family<KindLabels, Counter>,
}

impl GatewayMetrics {
    /// Register the gateway's families in `metrics`.
    pub fn register(metrics: &mut Metrics) -> Self {
        let r = metrics.registry_mut();
        Self {
            llm_calls: register(
                r,
                "llm_calls",
                "Model calls (retries included), by outcome: ok, error or timeout",
                Family::default(),
            ),
            llm_duration: register(
                r,
                "llm_call_duration_seconds",
                "Model call latency (retries included), by outcome",
                Family::new_with_constructor(slow_histogram),
            ),
            llm_tokens: register(
                r,
                "llm_tokens",
                "Tokens the provider reported, by kind: prompt or completion",
                Family::default(),
            ),
        }
    }

    /// One model call (retries included) and how it ended.
    pub fn llm_call(&self, outcome: &'static str, elapsed: Duration) {
        let labels = OutcomeLabels { outcome };
        self.llm_calls.get_or_create(&labels).inc();
        self.llm_duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Tokens a provider reported for one call.
    pub fn llm_tokens(&self, prompt: u64, completion: u64) {
        for (kind, tokens) in [("prompt", prompt), ("completion", completion)] {
            self.llm_tokens
                .get_or_create(&KindLabels { kind })
                .inc_by(tokens);
        }
    }
}
