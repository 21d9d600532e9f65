//! The state shared by the handlers.

use crate::images::ImageVerification;
use crate::metrics::Metrics;
use crate::review::Evaluator;
use jiff::civil::Date;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Where "today" comes from, for exception expiry.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Today's date.
    fn today(&self) -> Date;
}

/// The system clock, in the system's time zone (as `palisade scan` does).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn today(&self) -> Date {
        jiff::tz::TimeZone::system()
            .to_datetime(jiff::Timestamp::now())
            .date()
    }
}

/// A clock set by hand (tests, previews).
#[derive(Debug)]
pub struct FixedClock(Mutex<Date>);

impl FixedClock {
    /// A clock stopped on `date`.
    pub fn new(date: Date) -> FixedClock {
        FixedClock(Mutex::new(date))
    }

    /// Moves the clock to `date`.
    pub fn set(&self, date: Date) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = date;
    }
}

impl Clock for FixedClock {
    fn today(&self) -> Date {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Request bounds.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest accepted request body (default 3 MiB; the API server's own limit).
    pub max_body_bytes: usize,
    /// Time allowed to wait for an evaluation slot and evaluate (default 8 s, under the
    /// installed webhook's 10 s `timeoutSeconds`).
    pub timeout: Duration,
    /// Evaluations running at once on blocking threads (default: the number of CPUs).
    pub max_concurrent: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 3 * 1024 * 1024,
            timeout: Duration::from_secs(8),
            max_concurrent: std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(2),
        }
    }
}

/// What the handlers share.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The evaluator (policy and rules).
    pub evaluator: Arc<Evaluator>,
    /// The source of "today".
    pub clock: Arc<dyn Clock>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Request bounds.
    pub limits: Limits,
    /// Bounds the evaluations in flight.
    pub semaphore: Arc<Semaphore>,
    /// Ready to serve (`/readyz`): set once listening, cleared on shutdown.
    pub ready: Arc<AtomicBool>,
    /// Image signature verification, when the policy has an `imageTrust` section.
    pub images: Option<Arc<ImageVerification>>,
}

impl AppState {
    /// State with the given evaluator, clock and limits.
    pub fn new(evaluator: Evaluator, clock: Arc<dyn Clock>, limits: Limits) -> AppState {
        AppState {
            evaluator: Arc::new(evaluator),
            clock,
            metrics: Arc::new(Metrics::new()),
            semaphore: Arc::new(Semaphore::new(limits.max_concurrent.max(1))),
            limits,
            ready: Arc::new(AtomicBool::new(true)),
            images: None,
        }
    }

    /// Verifies the images of reviewed workloads (IMG007) with `images`.
    pub fn with_image_verification(mut self, images: ImageVerification) -> AppState {
        self.images = Some(Arc::new(images));
        self
    }
}
