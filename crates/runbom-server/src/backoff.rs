//! Exponential backoff, shared by the webhook notifier and the report sender: the delay doubles
//! with each failed attempt up to a cap; the sender adds jitter so that many hooks that lost the
//! same server do not all come back in the same instant.

use std::time::Duration;

use rand::Rng;

/// `first`, `2 × first`, `4 × first` … for attempts 0, 1, 2 …, never more than `max`.
pub(crate) fn exponential(first: Duration, attempts: u32, max: Duration) -> Duration {
    first
        .checked_mul(1_u32 << attempts.min(30))
        .map_or(max, |delay| delay.min(max))
}

/// A delay drawn uniformly from `[delay / 2, delay]` ("equal jitter").
pub(crate) fn jittered(delay: Duration) -> Duration {
    let half = delay / 2;
    let spread = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
    half + Duration::from_millis(rand::thread_rng().gen_range(0..=spread))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_and_is_capped() {
        let s = Duration::from_secs;
        assert_eq!(exponential(s(1), 0, s(600)), s(1));
        assert_eq!(exponential(s(1), 3, s(600)), s(8));
        assert_eq!(exponential(s(1), 30, s(600)), s(600));
        assert_eq!(exponential(s(1), 200, s(600)), s(600));
    }

    #[test]
    fn jitter_stays_between_half_and_all_of_the_delay() {
        for _ in 0..100 {
            let delay = jittered(Duration::from_millis(1000));
            assert!((500..=1000).contains(&delay.as_millis()), "{delay:?}");
        }
    }
}
