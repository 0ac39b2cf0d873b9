//! When schedules fire, in their own time zone, across daylight-saving changes.
//!
//! A wall-clock time that does not exist (09:30 on a spring-forward morning in a zone
//! that skips 09:00–10:00) fires at the first instant after the gap; one that exists
//! twice (autumn) fires once, at the earlier instant. Missed occurrences (the host was
//! down) collapse into one run: a digest sent three times late helps nobody.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};
use chrono_tz::Tz;

use super::compile::Schedule;
use crate::ir::Timing;

/// Whether zone conversion and a few weeks of date arithmetic around `t` stay inside
/// chrono's range: near its ends (an event dated year 262143, a clock that never
/// started) chrono panics instead of answering, and no schedule fires there anyway.
fn calculable(t: DateTime<Utc>) -> bool {
    let margin = Duration::days(120);
    DateTime::<Utc>::MIN_UTC
        .checked_add_signed(margin)
        .zip(DateTime::<Utc>::MAX_UTC.checked_sub_signed(margin))
        .is_some_and(|(low, high)| low < t && t < high)
}

/// The latest occurrence in `(after, until]`, if any.
pub fn latest(
    schedule: &Schedule,
    after: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if until <= after || !calculable(until) {
        return None;
    }
    let found = match &schedule.timing {
        Timing::Interval { seconds } => {
            let period = (*seconds).max(60);
            let t = until.timestamp().div_euclid(period) * period;
            DateTime::from_timestamp(t, 0)
        }
        Timing::Cron { .. } => schedule.cron.as_ref().and_then(|cron| {
            cron.find_previous_occurrence(&until.with_timezone(&schedule.zone), true)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        }),
        Timing::Daily {
            weekdays,
            hour,
            minute,
        } => {
            let time = NaiveTime::from_hms_opt(u32::from(*hour), u32::from(*minute), 0)?;
            let today = until.with_timezone(&schedule.zone).date_naive();
            // A week back always holds an occurrence for any non-empty day set.
            (0..=8)
                .filter_map(|back| today.checked_sub_signed(Duration::days(back)))
                .filter(|d| weekdays.contains(&(d.weekday().num_days_from_monday() as u8)))
                .map(|d| instant(schedule.zone, d.and_time(time)))
                .find(|t| *t <= until)
        }
        Timing::Monthly { day, hour, minute } => {
            let time = NaiveTime::from_hms_opt(u32::from(*hour), u32::from(*minute), 0)?;
            let local = until.with_timezone(&schedule.zone).date_naive();
            (0..3)
                .filter_map(|back| month_day(local, back, *day))
                .map(|d| instant(schedule.zone, d.and_time(time)))
                .find(|t| *t <= until)
        }
    }?;
    (found > after).then_some(found)
}

/// The earliest occurrence strictly after `after`.
pub fn next_after(schedule: &Schedule, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if !calculable(after) {
        return None;
    }
    match &schedule.timing {
        Timing::Interval { seconds } => {
            let period = (*seconds).max(60);
            let t = (after.timestamp().div_euclid(period) + 1) * period;
            DateTime::from_timestamp(t, 0)
        }
        Timing::Cron { .. } => schedule.cron.as_ref().and_then(|cron| {
            cron.find_next_occurrence(&after.with_timezone(&schedule.zone), false)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        }),
        Timing::Daily {
            weekdays,
            hour,
            minute,
        } => {
            let time = NaiveTime::from_hms_opt(u32::from(*hour), u32::from(*minute), 0)?;
            let today = after.with_timezone(&schedule.zone).date_naive();
            (0..=8)
                .filter_map(|ahead| today.checked_add_signed(Duration::days(ahead)))
                .filter(|d| weekdays.contains(&(d.weekday().num_days_from_monday() as u8)))
                .map(|d| instant(schedule.zone, d.and_time(time)))
                .find(|t| *t > after)
        }
        Timing::Monthly { day, hour, minute } => {
            let time = NaiveTime::from_hms_opt(u32::from(*hour), u32::from(*minute), 0)?;
            let local = after.with_timezone(&schedule.zone).date_naive();
            (-2..=0)
                .rev()
                .filter_map(|back| month_day(local, back, *day))
                .map(|d| instant(schedule.zone, d.and_time(time)))
                .find(|t| *t > after)
        }
    }
}

/// The `day` of the month `back` months before `from`'s, clamped to the month's end.
fn month_day(from: NaiveDate, back: i32, day: u8) -> Option<NaiveDate> {
    let months = from.year() * 12 + from.month0() as i32 - back;
    let (year, month0) = (months.div_euclid(12), months.rem_euclid(12) as u32);
    let first = NaiveDate::from_ymd_opt(year, month0 + 1, 1)?;
    let next = if month0 == 11 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month0 + 2, 1)?
    };
    let last = next.pred_opt()?.day();
    first.with_day(u32::from(day).min(last).max(1))
}

/// The instant a wall-clock time names in a zone (see the module docs for gaps).
pub(super) fn instant(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(early, _) => early.with_timezone(&Utc),
        LocalResult::None => {
            // Walk forward out of the gap a minute at a time (gaps are at most hours).
            let mut probe = local;
            for _ in 0..(24 * 60) {
                let Some(next) = probe.checked_add_signed(Duration::minutes(1)) else {
                    break;
                };
                probe = next;
                if let Some(t) = zone.from_local_datetime(&probe).earliest() {
                    return t.with_timezone(&Utc);
                }
            }
            local.and_utc()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn daily(hour: u8, minute: u8, zone: &str) -> Schedule {
        Schedule {
            timing: Timing::Daily {
                weekdays: (0..7).collect(),
                hour,
                minute,
            },
            cron: None,
            zone: zone.parse().unwrap(),
            for_object: None,
        }
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn nine_am_new_york_follows_daylight_saving() {
        let s = daily(9, 0, "America/New_York");
        // Summer: 09:00 EDT is 13:00 UTC.
        assert_eq!(
            latest(&s, t("2026-07-01T00:00:00Z"), t("2026-07-01T23:00:00Z")),
            Some(t("2026-07-01T13:00:00Z"))
        );
        // Winter, after the 1 November change: 09:00 EST is 14:00 UTC.
        assert_eq!(
            latest(&s, t("2026-11-02T00:00:00Z"), t("2026-11-02T23:00:00Z")),
            Some(t("2026-11-02T14:00:00Z"))
        );
        // Not yet 09:00 local: nothing new.
        assert_eq!(
            latest(&s, t("2026-11-02T00:00:00Z"), t("2026-11-02T13:59:00Z")),
            None
        );
    }

    #[test]
    fn a_time_in_the_spring_gap_fires_after_it() {
        // 8 March 2026: New York skips 02:00–03:00.
        let s = daily(2, 30, "America/New_York");
        assert_eq!(
            latest(&s, t("2026-03-08T05:00:00Z"), t("2026-03-08T12:00:00Z")),
            Some(t("2026-03-08T07:00:00Z"))
        );
    }

    #[test]
    fn the_next_occurrence_agrees_with_the_latest() {
        let schedules = [
            daily(2, 30, "America/New_York"),
            daily(9, 0, "Europe/Berlin"),
            Schedule {
                timing: Timing::Monthly {
                    day: 31,
                    hour: 8,
                    minute: 0,
                },
                cron: None,
                zone: Tz::UTC,
                for_object: None,
            },
            Schedule {
                timing: Timing::Interval { seconds: 7200 },
                cron: None,
                zone: Tz::UTC,
                for_object: None,
            },
        ];
        for s in &schedules {
            let mut at = t("2026-01-20T00:00:00Z");
            for _ in 0..40 {
                let next = next_after(s, at).unwrap();
                assert!(next > at);
                // Nothing fires between `at` and `next`, and `next` itself does.
                assert_eq!(latest(s, at, next), Some(next), "{:?} after {at}", s.timing);
                at = next;
            }
        }
    }

    #[test]
    fn missed_days_collapse_into_the_latest() {
        let s = daily(9, 0, "UTC");
        assert_eq!(
            latest(&s, t("2026-11-01T10:00:00Z"), t("2026-11-05T10:00:00Z")),
            Some(t("2026-11-05T09:00:00Z"))
        );
    }

    #[test]
    fn month_days_clamp_to_the_end_of_short_months() {
        let s = Schedule {
            timing: Timing::Monthly {
                day: 31,
                hour: 8,
                minute: 0,
            },
            cron: None,
            zone: Tz::UTC,
            for_object: None,
        };
        assert_eq!(
            latest(&s, t("2026-02-01T00:00:00Z"), t("2026-03-01T00:00:00Z")),
            Some(t("2026-02-28T08:00:00Z"))
        );
    }

    #[test]
    fn cron_reads_its_zone() {
        let s = Schedule {
            timing: Timing::Cron {
                expression: "0 9 * * 1-5".into(),
            },
            cron: "0 9 * * 1-5".parse().ok(),
            zone: "Europe/Berlin".parse().unwrap(),
            for_object: None,
        };
        // Wednesday 25 November 2026, 09:00 CET = 08:00 UTC.
        assert_eq!(
            latest(&s, t("2026-11-25T00:00:00Z"), t("2026-11-25T12:00:00Z")),
            Some(t("2026-11-25T08:00:00Z"))
        );
    }
}
