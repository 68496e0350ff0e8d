//! How timings become the table's figures: rates, medians, percentiles, counts.

use std::time::Duration;

/// Request latencies, summarised by their 50th and 99th percentiles (nearest rank).
pub(super) struct Latencies(Vec<Duration>);

impl FromIterator<Duration> for Latencies {
    fn from_iter<I: IntoIterator<Item = Duration>>(iter: I) -> Self {
        let mut sorted: Vec<Duration> = iter.into_iter().collect();
        sorted.sort();
        Latencies(sorted)
    }
}

impl Latencies {
    fn percentile(&self, p: usize) -> Duration {
        let rank = (self.0.len() * p).div_ceil(100).max(1);
        self.0.get(rank - 1).copied().unwrap_or_default()
    }

    pub(super) fn p50_p99(&self) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        format!(
            "p50 {:.2} ms, p99 {:.2} ms",
            ms(self.percentile(50)),
            ms(self.percentile(99))
        )
    }
}

/// The middle one (the upper of the two middle ones of an even count).
pub(super) fn median(mut durations: Vec<Duration>) -> Duration {
    durations.sort_unstable();
    durations[durations.len() / 2]
}

pub(super) fn rate(count: usize, took: Duration, unit: &str) -> String {
    format!("{:.0} {unit}", count as f64 / took.as_secs_f64())
}

/// `12,345`.
pub(super) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_the_middle_duration() {
        let ms = Duration::from_millis;
        assert_eq!(median(vec![ms(9), ms(1), ms(5)]), ms(5));
        assert_eq!(median(vec![ms(7)]), ms(7));
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let latencies: Latencies = (1..=200).rev().map(Duration::from_millis).collect();
        assert_eq!(latencies.percentile(50), Duration::from_millis(100));
        assert_eq!(latencies.percentile(99), Duration::from_millis(198));
        let one: Latencies = [Duration::from_millis(7)].into_iter().collect();
        assert_eq!(one.percentile(50), Duration::from_millis(7));
        assert_eq!(one.percentile(99), Duration::from_millis(7));
        assert_eq!(one.p50_p99(), "p50 7.00 ms, p99 7.00 ms");
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(100), "100");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(100_002), "100,002");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
