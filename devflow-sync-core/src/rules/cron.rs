//! Five-field cron expressions (minute hour day-of-month month day-of-week), in UTC.

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};

use crate::error::{Error, Result};

/// A parsed cron expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cron {
    minutes: u64,
    hours: u32,
    days: u32,
    months: u16,
    weekdays: u8,
    any_day: bool,
    any_weekday: bool,
}

/// The values a field allows, as bits; `max` is inclusive.
fn parse_field(text: &str, min: u32, max: u32, name: &str) -> Result<u64> {
    let bad = |why: String| Error::InvalidInput {
        pointer: Some(format!("/interval/cron ({name})")),
        message: why,
    };
    let number = |t: &str| {
        t.parse::<u32>()
            .map_err(|_| bad(format!("{t:?} is not a number")))
    };
    let mut bits = 0u64;
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (
                r,
                number(s)
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| bad(format!("bad step in {part:?}")))?,
            ),
            None => (part, 1),
        };
        let (lo, hi) = match (range, range.split_once('-')) {
            ("*", _) => (min, max),
            (_, Some((a, b))) => (number(a)?, number(b)?),
            // `5/15` runs from 5 to the end.
            (v, None) if part.contains('/') => (number(v)?, max),
            (v, None) => (number(v)?, number(v)?),
        };
        if lo < min || hi > max || lo > hi {
            return Err(bad(format!("{part:?} is outside {min}-{max}")));
        }
        for v in (lo..=hi).step_by(step as usize) {
            bits |= 1 << v;
        }
    }
    Ok(bits)
}

impl Cron {
    /// Parses `minute hour day-of-month month day-of-week` with `*`, numbers, ranges,
    /// lists and steps.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use devflow_sync_core::rules::Cron;
    /// let every_quarter = Cron::parse("*/15 * * * *").unwrap();
    /// let t = Utc.with_ymd_and_hms(2026, 11, 22, 10, 7, 30).unwrap();
    /// assert_eq!(every_quarter.next_after(t).unwrap(), Utc.with_ymd_and_hms(2026, 11, 22, 10, 15, 0).unwrap());
    /// assert!(Cron::parse("61 * * * *").is_err());
    /// ```
    pub fn parse(expression: &str) -> Result<Self> {
        let parts: Vec<&str> = expression.split_whitespace().collect();
        let [m, h, dom, mon, dow] = parts.as_slice() else {
            return Err(Error::InvalidInput {
                pointer: Some("/interval/cron".into()),
                message: format!("{expression:?} does not have five fields"),
            });
        };
        Ok(Self {
            minutes: parse_field(m, 0, 59, "minute")?,
            hours: parse_field(h, 0, 23, "hour")? as u32,
            days: parse_field(dom, 1, 31, "day of month")? as u32,
            months: parse_field(mon, 1, 12, "month")? as u16,
            weekdays: {
                // Sunday is 0 or 7.
                let bits = parse_field(dow, 0, 7, "day of week")?;
                ((bits | (bits >> 7)) & 0x7f) as u8
            },
            any_day: *dom == "*",
            any_weekday: *dow == "*",
        })
    }

    fn day_matches(&self, t: DateTime<Utc>) -> bool {
        let dom = self.days & (1 << t.day()) != 0;
        let dow = self.weekdays & (1 << t.weekday().num_days_from_sunday()) != 0;
        // Standard cron: when both are restricted, either may match.
        match (self.any_day, self.any_weekday) {
            (true, true) => true,
            (true, false) => dow,
            (false, true) => dom,
            (false, false) => dom || dow,
        }
    }

    /// The first matching minute strictly after `after`, within four years.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // Near the end of representable time there is no next run (never a panic).
        let mut t = after
            .with_second(0)?
            .with_nanosecond(0)?
            .checked_add_signed(Duration::minutes(1))?;
        let limit = after
            .checked_add_signed(Duration::days(4 * 366))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        while t <= limit {
            if self.months & (1 << t.month()) == 0 || !self.day_matches(t) {
                t = t
                    .checked_add_signed(Duration::days(1))?
                    .with_hour(0)?
                    .with_minute(0)?;
                continue;
            }
            if self.hours & (1 << t.hour()) == 0 {
                t = t.checked_add_signed(Duration::hours(1))?.with_minute(0)?;
                continue;
            }
            if self.minutes & (1 << t.minute()) == 0 {
                t = t.checked_add_signed(Duration::minutes(1))?;
                continue;
            }
            return Some(t);
        }
        None
    }
}
