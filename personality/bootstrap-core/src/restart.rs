//! The supervisor's restart budget: at most `limit` restarts of one server
//! within any `window` of time; past that the supervisor gives up on it
//! (a server that dies at once on every start would otherwise loop
//! forever, eating the machine).

/// The largest restart limit a budget can hold.
pub const RESTART_LIMIT_MAX: usize = 16;

/// What the supervisor should do about a server that died.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Restart it: this is restart number `count` within the window.
    Restart { count: usize },
    /// It used its whole budget within the window: leave it dead.
    GiveUp { restarts: usize },
}

/// The restart times of one server within the last window, oldest first.
#[derive(Clone, Debug)]
pub struct RestartBudget {
    limit: usize,
    window_milliseconds: u64,
    recent: [u64; RESTART_LIMIT_MAX],
    count: usize,
}

impl RestartBudget {
    /// Allows `limit` (at most [`RESTART_LIMIT_MAX`]; more is cut to it)
    /// restarts within any `window_milliseconds`.
    pub fn new(limit: usize, window_milliseconds: u64) -> Self {
        Self { limit: limit.min(RESTART_LIMIT_MAX), window_milliseconds, recent: [0; RESTART_LIMIT_MAX], count: 0 }
    }

    /// Records a death at `now` (milliseconds, never decreasing) and says
    /// whether to restart.
    pub fn on_death(&mut self, now: u64) -> Decision {
        let expired = self.recent[..self.count]
            .iter()
            .take_while(|&&time| now.saturating_sub(time) >= self.window_milliseconds)
            .count();
        self.recent.copy_within(expired..self.count, 0);
        self.count -= expired;
        if self.count >= self.limit {
            return Decision::GiveUp { restarts: self.count };
        }
        self.recent[self.count] = now;
        self.count += 1;
        Decision::Restart { count: self.count }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn gives_up_after_the_limit_within_the_window() {
        let mut budget = RestartBudget::new(3, 1000);
        assert_eq!(budget.on_death(0), Decision::Restart { count: 1 });
        assert_eq!(budget.on_death(10), Decision::Restart { count: 2 });
        assert_eq!(budget.on_death(20), Decision::Restart { count: 3 });
        assert_eq!(budget.on_death(30), Decision::GiveUp { restarts: 3 });
    }

    #[test]
    fn old_restarts_leave_the_window() {
        let mut budget = RestartBudget::new(2, 100);
        assert_eq!(budget.on_death(0), Decision::Restart { count: 1 });
        assert_eq!(budget.on_death(50), Decision::Restart { count: 2 });
        assert_eq!(budget.on_death(100), Decision::Restart { count: 2 }, "the death at 0 is out of the window");
        assert_eq!(budget.on_death(120), Decision::GiveUp { restarts: 2 });
    }

    #[test]
    fn a_zero_budget_never_restarts() {
        assert_eq!(RestartBudget::new(0, 100).on_death(5), Decision::GiveUp { restarts: 0 });
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(
            std::env::var("MACH_PROPTEST_CASES").ok().and_then(|value| value.parse().ok()).unwrap_or(256)
        ))]
        /// Against a model: count the restarts granted in the window that
        /// ends now; never more than `limit`, and a refusal only when full.
        #[test]
        fn never_more_than_the_limit_in_any_window(
            limit in 0usize..6,
            window in 1u64..500,
            gaps in proptest::collection::vec(0u64..200, 1..60),
        ) {
            let mut budget = RestartBudget::new(limit, window);
            let mut granted: alloc::vec::Vec<u64> = alloc::vec::Vec::new();
            let mut now = 0;
            for gap in gaps {
                now += gap;
                let in_window = granted.iter().filter(|&&time| now - time < window).count();
                match budget.on_death(now) {
                    Decision::Restart { count } => {
                        prop_assert!(in_window < limit);
                        prop_assert_eq!(count, in_window + 1);
                        granted.push(now);
                    }
                    Decision::GiveUp { restarts } => {
                        prop_assert_eq!(in_window, limit);
                        prop_assert_eq!(restarts, limit);
                    }
                }
            }
        }
    }
}
