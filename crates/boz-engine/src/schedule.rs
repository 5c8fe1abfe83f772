//! Which ticks are due. Every job has an interval (JOB_*_SECONDS); its ticks are the multiples
//! of the interval since the Unix epoch, so every scheduler on every machine names the same
//! tick the same way and the queue runs it once. Forecasts are also fetched soon after the main
//! model runs (GFS, 00/06/12/18Z, whose data is out about four and a half hours later).

use chrono::{DateTime, NaiveTime, TimeZone, Utc};

use boz_common::config::Settings;

use crate::jobs::{Job, JobKind};

/// The intervals of the scheduled jobs (the predict job follows fetches; it has none).
#[derive(Debug, Clone)]
pub struct Schedule {
    pub every: Vec<(JobKind, i64)>,
    /// UTC times after which a forecast fetch is due once.
    pub model_runs: Vec<NaiveTime>,
}

impl Schedule {
    pub fn from_settings(s: &Settings) -> Schedule {
        let every = vec![
            (JobKind::FetchForecasts, s.job_forecasts_seconds),
            (JobKind::FetchObservations, s.job_observations_seconds),
            (JobKind::RecordMarkets, s.job_markets_seconds),
            (JobKind::TradingCycle, s.job_trading_seconds),
            (JobKind::ExpireApprovals, s.job_approvals_seconds),
            (JobKind::Reconcile, s.job_reconcile_seconds),
            (JobKind::Settle, s.job_settle_seconds),
        ];
        Schedule {
            every: every
                .into_iter()
                .map(|(k, secs)| (k, i64::from(secs.max(1))))
                .collect(),
            model_runs: [(4, 30), (10, 30), (16, 30), (22, 30)]
                .iter()
                .filter_map(|(h, m)| NaiveTime::from_hms_opt(*h, *m, 0))
                .collect(),
        }
    }

    /// The start of the tick of an `every`-second interval that contains `now`.
    pub fn tick(now: DateTime<Utc>, every: i64) -> DateTime<Utc> {
        let t = now.timestamp();
        Utc.timestamp_opt(t - t.rem_euclid(every), 0)
            .single()
            .unwrap_or(now)
    }

    /// Every job due at `now`: each interval's current tick, and a forecast fetch for the
    /// latest model run if it came out within one forecast interval.
    pub fn due(&self, now: DateTime<Utc>) -> Vec<Job> {
        let mut out: Vec<Job> = self
            .every
            .iter()
            .map(|(kind, secs)| Job::new(*kind, Schedule::tick(now, *secs), "interval"))
            .collect();
        let forecast_every = self
            .every
            .iter()
            .find(|(k, _)| *k == JobKind::FetchForecasts)
            .map_or(1800, |(_, s)| *s);
        for t in &self.model_runs {
            for day in [
                now.date_naive(),
                now.date_naive() - chrono::Duration::days(1),
            ] {
                let at = day.and_time(*t).and_utc();
                if at <= now && (now - at).num_seconds() < forecast_every {
                    out.push(Job::new(JobKind::FetchForecasts, at, "model run"));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn schedule() -> Schedule {
        let s = Settings::from_map(&Default::default()).unwrap();
        Schedule::from_settings(&s)
    }

    #[test]
    fn ticks_are_the_same_everywhere_inside_an_interval() {
        let a = Schedule::tick(at("2026-11-28T06:00:00Z"), 300);
        let b = Schedule::tick(at("2026-11-28T06:04:59Z"), 300);
        let c = Schedule::tick(at("2026-11-28T06:05:00Z"), 300);
        assert_eq!(a, b);
        assert_eq!(a, at("2026-11-28T06:00:00Z"));
        assert_eq!(c, at("2026-11-28T06:05:00Z"));
    }

    #[test]
    fn every_job_is_due_with_its_interval_and_forecasts_after_a_model_run() {
        let s = schedule();
        let due = s.due(at("2026-11-28T10:40:00Z"));
        let kinds: Vec<JobKind> = due.iter().map(|j| j.kind).collect();
        for k in JobKind::ALL.iter().filter(|k| **k != JobKind::Predict) {
            assert!(kinds.contains(k), "{k:?} not due");
        }
        let model: Vec<&Job> = due.iter().filter(|j| j.reason == "model run").collect();
        assert_eq!(model.len(), 1);
        assert_eq!(model[0].tick, at("2026-11-28T10:30:00Z"));
        // 30 minutes later the model run's fetch is no longer due
        assert!(
            !s.due(at("2026-11-28T11:00:00Z"))
                .iter()
                .any(|j| j.reason == "model run")
        );
        // keys differ by kind, reason and tick
        let keys: std::collections::HashSet<String> = due.iter().map(Job::key).collect();
        assert_eq!(keys.len(), due.len());
    }
}
