//! Accounts: what a tree of tasks may take of the kernel together
//! (docs/resources.md).
//!
//! Each task is charged for what the kernel holds on its behalf (its pages,
//! page tables, kernel stacks, the names in its IPC space with the ports
//! behind them, the memory objects it created) and may hold at most its own
//! limit (`VmMap::limit`). A per-task limit alone does not bound a task that
//! makes more tasks: each child has a limit of its own. So every task also
//! belongs to an *account*, as a Zircon process belongs to a job: a task
//! made with `task_create` joins its creator's, and what the kernel holds
//! for all the tasks of an account together (kernel stacks, names and
//! ports, memory objects, queued messages, page tables) may not pass the
//! account's page limit, nor their number its task limit. (Their own RAM
//! pages are bounded per task: a frame shared copy-on-write counts in full
//! for each task, and would count once per fork in an account.) A task the kernel starts (the bootstrap
//! task, a test's program) is the first of a new account;
//! `task_set_memory_limit` makes its task the first of a new account of
//! that size (the holder of the privileged host port hands out quotas).
//!
//! The kernel runs its object code under one lock (`with_kernel`), so the
//! counters need no ordering: they are atomics only so that an account can
//! be shared by the maps of its tasks.
#![forbid(unsafe_code)]

use alloc::sync::Arc;
use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// The limits and counts of one account.
#[derive(Debug)]
pub struct Account {
    /// Pages charged to its tasks (synchronised by each task's map).
    charged: AtomicUsize,
    /// Most pages its tasks may be charged for together.
    page_limit: usize,
    /// Tasks in it.
    tasks: AtomicUsize,
    /// Most tasks it may hold.
    task_limit: usize,
}

/// A shared reference to an account.
pub type AccountRef = Arc<Account>;

impl Account {
    pub fn new(page_limit: usize, task_limit: usize) -> AccountRef {
        Arc::new(Self { charged: AtomicUsize::new(0), page_limit, tasks: AtomicUsize::new(0), task_limit })
    }

    pub fn charged(&self) -> usize {
        self.charged.load(Relaxed)
    }

    pub fn page_limit(&self) -> usize {
        self.page_limit
    }

    pub fn tasks(&self) -> usize {
        self.tasks.load(Relaxed)
    }

    pub fn task_limit(&self) -> usize {
        self.task_limit
    }

    /// True if `pages` more fit under the page limit.
    pub fn has_room(&self, pages: usize) -> bool {
        self.charged().saturating_add(pages) <= self.page_limit
    }

    /// Moves the account's charge from `old` pages to `new` (what one task
    /// was charged when last counted, and what it is charged now).
    pub fn recount(&self, old: usize, new: usize) {
        if new >= old {
            self.charged.fetch_add(new - old, Relaxed);
        } else {
            self.charged.fetch_sub((old - new).min(self.charged()), Relaxed);
        }
    }

    /// Counts one more task, unless the account is full.
    pub fn admit_task(&self) -> bool {
        if self.tasks() >= self.task_limit {
            return false;
        }
        self.tasks.fetch_add(1, Relaxed);
        true
    }

    pub fn release_task(&self) {
        let tasks = self.tasks();
        self.tasks.store(tasks.saturating_sub(1), Relaxed);
    }
}

#[cfg(feature = "ktest")]
mod tests {
    use super::*;
    use crate::{ensure, ensure_eq, ktest};

    ktest! {
        fn an_account_keeps_its_charges_and_tasks_within_its_limits() {
            let account = Account::new(100, 2);
            ensure!(account.admit_task() && account.admit_task() && !account.admit_task());
            account.recount(0, 60);
            ensure!(account.has_room(40) && !account.has_room(41));
            account.recount(60, 10);
            ensure_eq!(account.charged(), 10);
            account.release_task();
            ensure!(account.admit_task());
            Ok(())
        }
    }
}
