//! The one HTTP client every provider talks through.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Semaphore;

use super::budget::RequestBudget;
use super::classify::{Disposition, RetryReason, classify};
use super::config::{HttpConfig, RateLimitConfig};
use super::failure::{Failure, too_large};
use super::origin::{Origin, check_same_origin};
use super::request::{HttpRequest, HttpResponse};
use super::retry::{Backoff, JitterSource, SeededJitter};
use crate::clock::{Clock, SystemClock, after};
use crate::error::{Error, Result};
use crate::model::{ConnectionId, ProviderKey};
use crate::provider::Headers;

/// The header carrying a request's id.
pub const REQUEST_ID_HEADER: &str = "X-Request-ID";

/// Waits; injectable so retry tests take no time.
#[async_trait]
pub trait Sleeper: Send + Sync + fmt::Debug {
    /// Waits for `duration`.
    async fn sleep(&self, duration: Duration);
}

/// Waits on the tokio timer.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioSleeper;

#[async_trait]
impl Sleeper for TokioSleeper {
    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// What the client reports as it works, for metrics.
pub trait HttpObserver: Send + Sync + fmt::Debug {
    /// A response arrived.
    fn status(&self, request: &HttpRequest, status: u16, attempt: u32) {
        let _ = (request, status, attempt);
    }
    /// A retry is about to wait `delay`.
    fn retry(&self, request: &HttpRequest, attempt: u32, delay: Duration, reason: &str) {
        let _ = (request, attempt, delay, reason);
    }
    /// The request budget made the request wait.
    fn budget_wait(&self, request: &HttpRequest, delay: Duration) {
        let _ = (request, delay);
    }
}

/// The shared client: timeouts, retries with jittered backoff within a deadline, the
/// providers' rate-limit headers, a request budget per provider, a concurrency cap per
/// connection, request ids and an observer. Cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    follow: reqwest::Client,
    no_follow: reqwest::Client,
    config: HttpConfig,
    clock: Arc<dyn Clock>,
    sleeper: Arc<dyn Sleeper>,
    jitter_seed: Mutex<Option<u64>>,
    budgets: Mutex<HashMap<ProviderKey, RequestBudget>>,
    /// The write windows per provider (a minute's, an hour's), where it has them.
    write_budgets: Mutex<HashMap<ProviderKey, Vec<RequestBudget>>>,
    caps: Mutex<HashMap<ConnectionId, Arc<Semaphore>>>,
    observer: Option<Arc<dyn HttpObserver>>,
    ids: AtomicU64,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// Builds an [`HttpClient`].
#[derive(Debug, Default)]
pub struct HttpClientBuilder {
    config: HttpConfig,
    clock: Option<Arc<dyn Clock>>,
    sleeper: Option<Arc<dyn Sleeper>>,
    jitter_seed: Option<u64>,
    observer: Option<Arc<dyn HttpObserver>>,
}

impl HttpClientBuilder {
    /// The settings.
    #[must_use]
    pub fn config(mut self, config: HttpConfig) -> Self {
        self.config = config;
        self
    }

    /// The clock (deadlines, budgets, `Retry-After` dates).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// How waits are taken.
    #[must_use]
    pub fn sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.sleeper = Some(sleeper);
        self
    }

    /// A fixed jitter seed, for reproducible retry delays.
    #[must_use]
    pub fn jitter_seed(mut self, seed: u64) -> Self {
        self.jitter_seed = Some(seed);
        self
    }

    /// The observer.
    #[must_use]
    pub fn observer(mut self, observer: Arc<dyn HttpObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The client.
    pub fn build(self) -> Result<HttpClient> {
        let base = || {
            reqwest::Client::builder()
                .connect_timeout(self.config.connect_timeout)
                .read_timeout(self.config.read_timeout)
                .user_agent(self.config.user_agent.clone())
        };
        let follow = base()
            .redirect(reqwest::redirect::Policy::custom(same_origin_redirects))
            .build()
            .map_err(|e| Error::InvalidConfig {
                pointer: "http".into(),
                message: e.to_string(),
            })?;
        let no_follow = base()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::InvalidConfig {
                pointer: "http".into(),
                message: e.to_string(),
            })?;
        Ok(HttpClient {
            inner: Arc::new(ClientInner {
                follow,
                no_follow,
                clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
                sleeper: self.sleeper.unwrap_or_else(|| Arc::new(TokioSleeper)),
                jitter_seed: Mutex::new(self.jitter_seed),
                budgets: Mutex::new(HashMap::new()),
                write_budgets: Mutex::new(HashMap::new()),
                caps: Mutex::new(HashMap::new()),
                observer: self.observer,
                ids: AtomicU64::new(0),
                config: self.config,
            }),
        })
    }
}

/// Follows at most ten redirects, none to another origin: credentials never follow a
/// server elsewhere.
fn same_origin_redirects(attempt: reqwest::redirect::Attempt<'_>) -> reqwest::redirect::Action {
    let first = attempt.previous().first().and_then(Origin::of_url);
    let next = Origin::of_url(attempt.url());
    if attempt.previous().len() > 10 {
        attempt.error("too many redirects")
    } else if first.is_some() && first == next {
        attempt.follow()
    } else {
        let refused = next.map_or_else(|| "a URL without a host".to_owned(), |o| o.to_string());
        attempt.error(format!("refused a redirect to another origin ({refused})"))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl HttpClient {
    /// A builder with the default settings.
    pub fn builder() -> HttpClientBuilder {
        HttpClientBuilder::default()
    }

    fn limits(&self, provider: &ProviderKey) -> RateLimitConfig {
        self.inner
            .config
            .rate_limits
            .get(provider)
            .copied()
            .unwrap_or(self.inner.config.default_rate_limit)
    }

    fn jitter(&self) -> Box<dyn JitterSource> {
        let mut seed = lock(&self.inner.jitter_seed);
        match seed.as_mut() {
            Some(s) => {
                *s = s.wrapping_add(1);
                Box::new(SeededJitter::new(*s))
            }
            None => Box::new(SeededJitter::from_entropy()),
        }
    }

    fn semaphore(&self, request: &HttpRequest) -> Arc<Semaphore> {
        let cap = self
            .limits(&request.provider)
            .max_concurrent_per_connection
            .max(1);
        lock(&self.inner.caps)
            .entry(request.connection.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(cap)))
            .clone()
    }

    fn budget_wait(&self, request: &HttpRequest) -> Duration {
        let now = self.inner.clock.now();
        let limits = self.limits(&request.provider);
        let wait = lock(&self.inner.budgets)
            .entry(request.provider.clone())
            .or_insert_with(|| RequestBudget::new(limits.requests_per_minute, limits.burst, now))
            .take(now);
        let writes = matches!(
            request.method,
            reqwest::Method::POST
                | reqwest::Method::PUT
                | reqwest::Method::PATCH
                | reqwest::Method::DELETE
        );
        if !writes || (limits.writes_per_minute.is_none() && limits.writes_per_hour.is_none()) {
            return wait;
        }
        let mut budgets = lock(&self.inner.write_budgets);
        let windows = budgets.entry(request.provider.clone()).or_insert_with(|| {
            let mut w = Vec::new();
            if let Some(n) = limits.writes_per_minute {
                w.push(RequestBudget::per_window(n, Duration::from_secs(60), now));
            }
            if let Some(n) = limits.writes_per_hour {
                w.push(RequestBudget::per_window(n, Duration::from_secs(3600), now));
            }
            w
        });
        windows
            .iter_mut()
            .map(|b| b.take(now))
            .fold(wait, Duration::max)
    }

    fn exhaust(&self, provider: &ProviderKey, wait: Duration) {
        let now = self.inner.clock.now();
        let until = after(now, wait);
        if let Some(budget) = lock(&self.inner.budgets).get_mut(provider) {
            budget.exhaust_until(until, now);
        }
    }

    /// Sends a request with retries. Returns the response for a success (2xx, 3xx
    /// including 304) and a classified error otherwise. Every secret the request
    /// carries is scrubbed from the error's messages; a request bound to an origin
    /// ([`HttpRequest::bound_to`]) is refused for any other.
    pub async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let result = self.send_checked(&request).await;
        result.map_err(|e| request.known_secrets().scrub_error(e))
    }

    async fn send_checked(&self, request: &HttpRequest) -> Result<HttpResponse> {
        if let Some(origin) = &request.origin {
            check_same_origin(&request.url, origin)?;
        }
        let inner = &self.inner;
        let request_id = request.request_id.clone().unwrap_or_else(|| {
            format!(
                "dfs-{}-{}",
                inner.clock.now().timestamp_millis(),
                inner.ids.fetch_add(1, Ordering::Relaxed) + 1
            )
        });
        let semaphore = self.semaphore(request);
        let _permit = semaphore
            .acquire_owned()
            .await
            .map_err(|_| Error::transient("the connection's request slots were closed"))?;
        let retry = inner.config.retry;
        let started = inner.clock.now();
        let deadline = after(started, retry.retry_timeout);
        let mut backoff = Backoff::new(retry.backoff, self.jitter());
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let wait = self.budget_wait(request);
            if !wait.is_zero() {
                if after(inner.clock.now(), wait) > deadline {
                    return Err(Error::RateLimited {
                        retry_after: Some(wait),
                        message: format!(
                            "the request budget of {} is spent past the deadline",
                            request.provider
                        ),
                    });
                }
                if let Some(o) = &inner.observer {
                    o.budget_wait(request, wait);
                }
                inner.sleeper.sleep(wait).await;
            }
            let outcome = self.attempt(request, &request_id).await;
            let (error, delay, why) = match outcome {
                Ok(response) => {
                    if let Some(o) = &inner.observer {
                        o.status(request, response.status, attempt);
                    }
                    let disposition = classify(
                        response.status,
                        &response.headers,
                        &response.body,
                        inner.clock.now(),
                    );
                    if request.error_responses && matches!(disposition, Disposition::Fail(_)) {
                        // A 4xx the caller parses itself (an OAuth error body).
                        return Ok(HttpResponse {
                            attempts: attempt,
                            ..response
                        });
                    }
                    match disposition {
                        Disposition::Success => {
                            return Ok(HttpResponse {
                                attempts: attempt,
                                ..response
                            });
                        }
                        Disposition::Fail(e) => return Err(e),
                        Disposition::Retry {
                            reason,
                            wait,
                            error,
                        } => {
                            // A POST the server may have acted on is not sent again; a
                            // rate limit means it was not acted on.
                            if !request.idempotent && reason != RetryReason::RateLimited {
                                return Err(error);
                            }
                            if reason == RetryReason::RateLimited {
                                let scoped =
                                    inner.config.request_scoped_limits.iter().any(|(h, v)| {
                                        response
                                            .headers
                                            .get(h)
                                            .is_some_and(|got| got.trim().eq_ignore_ascii_case(v))
                                    });
                                if let (Some(w), false) = (wait, scoped) {
                                    self.exhaust(&request.provider, w);
                                }
                            }
                            let delay = wait
                                .map_or_else(|| backoff.next_delay(), |w| w.max(Duration::ZERO));
                            (
                                error,
                                delay,
                                format!("{reason:?} (HTTP {})", response.status),
                            )
                        }
                    }
                }
                Err(Failure::Connect(e)) => {
                    (e, backoff.next_delay(), "connection error".to_owned())
                }
                Err(Failure::Timeout(e)) => {
                    if !request.idempotent {
                        return Err(e);
                    }
                    (e, backoff.next_delay(), "timeout".to_owned())
                }
                Err(Failure::Other(e)) => return Err(e),
            };
            let resume = after(inner.clock.now(), delay);
            if attempt > retry.max_retries || resume > deadline {
                return Err(error);
            }
            tracing::debug!(request_id = %request_id, attempt, delay_ms = delay.as_millis() as u64, reason = %why, "retrying");
            if let Some(o) = &inner.observer {
                o.retry(request, attempt, delay, &why);
            }
            inner.sleeper.sleep(delay).await;
        }
    }

    async fn attempt(
        &self,
        request: &HttpRequest,
        request_id: &str,
    ) -> std::result::Result<HttpResponse, Failure> {
        let client = if request.no_redirects {
            &self.inner.no_follow
        } else {
            &self.inner.follow
        };
        let mut builder = client
            .request(request.method.clone(), &request.url)
            .header(REQUEST_ID_HEADER, request_id);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let response = builder.send().await.map_err(Failure::from_reqwest)?;
        let status = response.status().as_u16();
        let headers: Headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let limit = self.inner.config.max_response_bytes;
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(Failure::Other(too_large(limit)));
        }
        let mut response = response;
        // Sized once from the announced length (within the limit), not grown by doubling.
        let announced = response.content_length().map_or(0, |n| n.min(limit as u64));
        let mut body = Vec::with_capacity(usize::try_from(announced).unwrap_or(0));
        while let Some(chunk) = response.chunk().await.map_err(Failure::from_reqwest)? {
            if body.len() + chunk.len() > limit {
                return Err(Failure::Other(too_large(limit)));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse {
            status,
            headers,
            body,
            request_id: request_id.to_owned(),
            attempts: 0,
        })
    }
}
