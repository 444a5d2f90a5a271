//! What the HTTP client test files share: a sleeper that records waits and moves a
//! manual clock, an observer that counts, and a client built on them.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use devflow_sync_core::clock::ManualClock;
use devflow_sync_core::http::{HttpClient, HttpConfig, HttpObserver, HttpRequest, Sleeper};
use reqwest::Method;

/// Records waits and moves the clock instead of sleeping.
#[derive(Debug)]
pub(crate) struct FakeSleeper {
    pub(crate) clock: ManualClock,
    pub(crate) waits: Mutex<Vec<Duration>>,
}

#[async_trait]
impl Sleeper for FakeSleeper {
    async fn sleep(&self, duration: Duration) {
        self.waits.lock().unwrap().push(duration);
        self.clock.advance(duration);
    }
}

#[derive(Debug, Default)]
pub(crate) struct Counter {
    pub(crate) retries: AtomicUsize,
    pub(crate) statuses: Mutex<Vec<u16>>,
}

impl HttpObserver for Counter {
    fn status(&self, _request: &HttpRequest, status: u16, _attempt: u32) {
        self.statuses.lock().unwrap().push(status);
    }
    fn retry(&self, _request: &HttpRequest, _attempt: u32, _delay: Duration, _reason: &str) {
        self.retries.fetch_add(1, Ordering::SeqCst);
    }
}

pub(crate) struct Setup {
    pub(crate) client: HttpClient,
    pub(crate) sleeper: Arc<FakeSleeper>,
    pub(crate) clock: ManualClock,
    pub(crate) observer: Arc<Counter>,
}

pub(crate) fn setup(config: HttpConfig) -> Setup {
    let clock = ManualClock::starting_at_epoch_secs(1_780_000_000);
    let sleeper = Arc::new(FakeSleeper {
        clock: clock.clone(),
        waits: Mutex::new(Vec::new()),
    });
    let observer = Arc::new(Counter::default());
    let client = HttpClient::builder()
        .config(config)
        .clock(Arc::new(clock.clone()))
        .sleeper(sleeper.clone())
        .jitter_seed(7)
        .observer(observer.clone())
        .build()
        .unwrap();
    Setup {
        client,
        sleeper,
        clock,
        observer,
    }
}

pub(crate) fn get(url: String) -> HttpRequest {
    HttpRequest::new(Method::GET, url, "github", "conn-1")
}

pub(crate) fn waits(s: &Setup) -> Vec<Duration> {
    s.sleeper.waits.lock().unwrap().clone()
}
