//! `--watch`: one command per keyholder. The home is unlocked once; the step runs again as soon as the
//! folder may have changed (polling with backoff) until the keyholder's part is done (exit 0) or the
//! timeout passes (exit 3).

use std::time::{Duration, Instant};

/// How long `--watch` waits without `--timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// The first pause between two looks at the folder, after something happened.
const FIRST_PAUSE: Duration = Duration::from_millis(300);
/// The longest pause between two looks (the backoff's ceiling).
const MAX_PAUSE: Duration = Duration::from_secs(5);

/// The longest `--timeout`: a deadline is a point in time, and one too far away cannot be represented.
const MAX_TIMEOUT: Duration = Duration::from_secs(366 * 86400);

/// `90`, `90s`, `30m`, `2h`, `1d`: a whole number and an optional unit, at most a year ([`MAX_TIMEOUT`]).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 =
        num.parse().map_err(|_| format!("`{s}` is not a duration: use a number and s, m, h or d (e.g. 30m)"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86400),
        _ => return Err(format!("`{s}` is not a duration: use a number and s, m, h or d (e.g. 30m)")),
    };
    let d = Duration::from_secs(secs);
    if d > MAX_TIMEOUT {
        return Err(format!("`{s}` is longer than a watch may wait: at most 366d"));
    }
    Ok(d)
}

/// The waiting side of a watched command.
pub struct Watcher {
    deadline: Instant,
    timeout: Duration,
    pause: Duration,
    first_pause: Duration,
    max_pause: Duration,
    last: Option<String>,
}

/// Pauses when each look at the folder is a round trip to a git remote: fewer looks, same result.
const GIT_FIRST_PAUSE: Duration = Duration::from_secs(2);
const GIT_MAX_PAUSE: Duration = Duration::from_secs(30);

impl Watcher {
    /// Start watching now, for at most `timeout` (default [`DEFAULT_TIMEOUT`]).
    pub fn new(timeout: Option<Duration>) -> Watcher {
        let timeout = timeout.unwrap_or(DEFAULT_TIMEOUT);
        Watcher {
            deadline: Instant::now() + timeout,
            timeout,
            pause: FIRST_PAUSE,
            first_pause: FIRST_PAUSE,
            max_pause: MAX_PAUSE,
            last: None,
        }
    }

    /// When the watch gives up.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Look less often: each look pulls from a git remote.
    pub fn over_git(mut self) -> Watcher {
        (self.pause, self.first_pause, self.max_pause) = (GIT_FIRST_PAUSE, GIT_FIRST_PAUSE, GIT_MAX_PAUSE);
        self
    }

    /// After a round that is still waiting for `what`: print it when it changed, then sleep (shorter right
    /// after progress, longer while nothing happens). Returns false when the timeout has passed.
    pub fn wait(&mut self, progressed: bool, what: &str) -> bool {
        if self.last.as_deref() != Some(what) {
            outln!("Waiting for {what} (watching; Ctrl-C to stop)");
            self.last = Some(what.to_string());
        }
        self.pause = if progressed { self.first_pause } else { (self.pause * 2).min(self.max_pause) };
        let now = Instant::now();
        if now >= self.deadline {
            return false;
        }
        std::thread::sleep(self.pause.min(self.deadline - now));
        Instant::now() < self.deadline
    }

    /// The line printed when the timeout passed.
    pub fn timed_out(&self) {
        outln!(
            "Gave up after {}s (--timeout): still waiting for {}.",
            self.timeout.as_secs(),
            self.last.as_deref().unwrap_or("the others")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("1d").unwrap(), Duration::from_secs(86400));
        assert_eq!(parse_duration("366d").unwrap(), MAX_TIMEOUT);
        for bad in ["", "m", "1.5h", "-1", "10 m", "3w", "367d", "99999999999d", "18446744073709551615"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
