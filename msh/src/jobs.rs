//! The job table: the pipelines the shell started and did not yet report
//! as finished, their processes' states, the current and previous job
//! (`%+`, `%-`), job specifications (`%1`, `%vi`, `%?make`) and the status
//! lines `jobs` prints.
//!
//! Pure bookkeeping: the interpreter feeds it what `waitpid` reports.

use alloc::format;
use alloc::vec::Vec;

use crate::system::{signal, ProcessId, WaitStatus};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessState {
    Running,
    Stopped(i32),
    Done(WaitStatus),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Process {
    /// 0 for a pipeline element that never became a process (a command
    /// not found, an expansion error): it is born `Done`.
    pub pid: ProcessId,
    pub state: ProcessState,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    Running,
    /// Stopped by this signal.
    Stopped(i32),
    /// Every process ended; the status of the last one.
    Done(WaitStatus),
}

#[derive(Clone, Debug)]
pub struct Job<M> {
    pub number: usize,
    /// The job's process group under job control, else 0.
    pub process_group: ProcessId,
    pub processes: Vec<Process>,
    /// The command as typed (printed from the tree).
    pub command: Vec<u8>,
    /// The terminal modes it had when it stopped, restored by `fg`.
    pub modes: Option<M>,
    /// The state was reported since it last changed.
    pub reported: bool,
}

impl<M> Job<M> {
    pub fn state(&self) -> JobState {
        let mut stopped = None;
        for process in &self.processes {
            match process.state {
                ProcessState::Running => return JobState::Running,
                ProcessState::Stopped(signal) => stopped = Some(signal),
                ProcessState::Done(_) => {}
            }
        }
        if let Some(signal) = stopped {
            return JobState::Stopped(signal);
        }
        let last = self.processes.last().map_or(WaitStatus::Exited(0), |process| match process.state {
            ProcessState::Done(status) => status,
            _ => WaitStatus::Exited(0),
        });
        JobState::Done(last)
    }

    /// The pid `$!` names and `jobs -p` prints: the last process.
    pub fn last_pid(&self) -> ProcessId {
        self.processes.iter().rev().map(|process| process.pid).find(|&pid| pid != 0).unwrap_or(0)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobSpecError {
    NoSuchJob,
    Ambiguous,
}

#[derive(Clone, Debug)]
pub struct JobTable<M> {
    jobs: Vec<Job<M>>,
    /// Job numbers from least to most recently made current.
    recency: Vec<usize>,
}

impl<M> Default for JobTable<M> {
    fn default() -> Self {
        JobTable { jobs: Vec::new(), recency: Vec::new() }
    }
}

impl<M> JobTable<M> {
    /// Adds a job with the lowest free number and returns that number.
    pub fn add(&mut self, process_group: ProcessId, processes: Vec<Process>, command: Vec<u8>) -> usize {
        let mut number = 1;
        while self.jobs.iter().any(|job| job.number == number) {
            number += 1;
        }
        let position = self.jobs.iter().position(|job| job.number > number).unwrap_or(self.jobs.len());
        self.jobs.insert(position, Job { number, process_group, processes, command, modes: None, reported: false });
        number
    }

    pub fn get(&self, number: usize) -> Option<&Job<M>> {
        self.jobs.iter().find(|job| job.number == number)
    }

    pub fn get_mut(&mut self, number: usize) -> Option<&mut Job<M>> {
        self.jobs.iter_mut().find(|job| job.number == number)
    }

    pub fn remove(&mut self, number: usize) -> Option<Job<M>> {
        self.recency.retain(|&recent| recent != number);
        let position = self.jobs.iter().position(|job| job.number == number)?;
        Some(self.jobs.remove(position))
    }

    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Job<M>> {
        self.jobs.iter()
    }

    pub fn numbers(&self) -> Vec<usize> {
        self.jobs.iter().map(|job| job.number).collect()
    }

    /// Makes a job the current one (`%+`); the old current becomes `%-`.
    pub fn make_current(&mut self, number: usize) {
        self.recency.retain(|&recent| recent != number);
        self.recency.push(number);
    }

    /// `%+`: the most recently current job still in the table; a stopped job
    /// is preferred, as in other shells.
    pub fn current(&self) -> Option<usize> {
        self.ranked().first().copied()
    }

    /// `%-`: the job before the current one.
    pub fn previous(&self) -> Option<usize> {
        self.ranked().get(1).copied()
    }

    /// Jobs from most to least current: stopped ones first.
    fn ranked(&self) -> Vec<usize> {
        let mut recent: Vec<usize> =
            self.recency.iter().rev().copied().filter(|&number| self.get(number).is_some()).collect();
        for job in self.jobs.iter().rev() {
            if !recent.contains(&job.number) {
                recent.push(job.number);
            }
        }
        let (mut stopped, running): (Vec<usize>, Vec<usize>) = recent
            .into_iter()
            .partition(|&number| self.get(number).is_some_and(|job| matches!(job.state(), JobState::Stopped(_))));
        stopped.extend(running);
        stopped
    }

    /// Records a state change `waitpid` reported; returns the job number of
    /// the process, if it belongs to a job.
    pub fn update(&mut self, pid: ProcessId, status: WaitStatus) -> Option<usize> {
        for job in &mut self.jobs {
            if let Some(process) = job.processes.iter_mut().find(|process| process.pid == pid && pid != 0) {
                process.state = match status {
                    WaitStatus::Stopped(signal) => ProcessState::Stopped(signal),
                    WaitStatus::Continued => ProcessState::Running,
                    finished => ProcessState::Done(finished),
                };
                job.reported = false;
                return Some(job.number);
            }
        }
        None
    }

    /// Marks every stopped process of a job running (after SIGCONT).
    pub fn mark_running(&mut self, number: usize) {
        if let Some(job) = self.get_mut(number) {
            for process in &mut job.processes {
                if let ProcessState::Stopped(_) = process.state {
                    process.state = ProcessState::Running;
                }
            }
            job.reported = false;
        }
    }

    /// The job a job specification names: `%n`, `%%`, `%+`, `%-`,
    /// `%prefix`, `%?text`, or a bare number taken as `%n`.
    pub fn find(&self, specification: &[u8]) -> Result<usize, JobSpecError> {
        let text = specification.strip_prefix(b"%").unwrap_or(specification);
        match text {
            b"" | b"%" | b"+" => return self.current().ok_or(JobSpecError::NoSuchJob),
            b"-" => return self.previous().ok_or(JobSpecError::NoSuchJob),
            _ => {}
        }
        if text.iter().all(u8::is_ascii_digit) {
            let number = core::str::from_utf8(text).ok().and_then(|digits| digits.parse::<usize>().ok());
            return number.filter(|&number| self.get(number).is_some()).ok_or(JobSpecError::NoSuchJob);
        }
        let matching: Vec<usize> = if let Some(inner) = text.strip_prefix(b"?") {
            self.jobs
                .iter()
                .filter(|job| job.command.windows(inner.len().max(1)).any(|window| window == inner))
                .map(|job| job.number)
                .collect()
        } else {
            self.jobs.iter().filter(|job| job.command.starts_with(text)).map(|job| job.number).collect()
        };
        match matching.as_slice() {
            [] => Err(JobSpecError::NoSuchJob),
            [number] => Ok(*number),
            _ => Err(JobSpecError::Ambiguous),
        }
    }

    /// The job a process id belongs to.
    pub fn job_of_pid(&self, pid: ProcessId) -> Option<usize> {
        self.jobs.iter().find(|job| job.processes.iter().any(|process| process.pid == pid)).map(|job| job.number)
    }

    /// A status line as `jobs` and the finished-job notices print it:
    /// `[1]+  Stopped                 vi notes`.
    pub fn status_line(&self, number: usize) -> Vec<u8> {
        let Some(job) = self.get(number) else { return Vec::new() };
        let marker = if self.current() == Some(number) {
            '+'
        } else if self.previous() == Some(number) {
            '-'
        } else {
            ' '
        };
        let state = describe(job.state());
        let mut line = format!("[{}]{}  {:<24}", number, marker, state).into_bytes();
        line.extend_from_slice(&job.command);
        if job.state() == JobState::Running {
            line.extend_from_slice(b" &");
        }
        line
    }
}

/// `Running`, `Stopped`, `Done`, `Exit 3`, `Terminated`...
pub fn describe(state: JobState) -> alloc::string::String {
    match state {
        JobState::Running => "Running".into(),
        JobState::Stopped(_) => "Stopped".into(),
        JobState::Done(WaitStatus::Exited(0)) => "Done".into(),
        JobState::Done(WaitStatus::Exited(code)) => format!("Exit {code}"),
        JobState::Done(WaitStatus::Signaled { signal: number, core_dumped }) => {
            let mut text: alloc::string::String = signal::description(number).into();
            if core_dumped {
                text.push_str(" (core dumped)");
            }
            text
        }
        JobState::Done(_) => "Done".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    use alloc::vec;

    fn running(pid: ProcessId) -> Process {
        Process { pid, state: ProcessState::Running }
    }

    fn line(table: &JobTable<()>, number: usize) -> String {
        String::from_utf8(table.status_line(number)).unwrap()
    }

    #[test]
    fn numbers_states_and_lines() {
        let mut table = JobTable::<()>::default();
        let first = table.add(100, vec![running(100), running(101)], b"sleep 10 | cat".to_vec());
        let second = table.add(200, vec![running(200)], b"vi notes".to_vec());
        table.make_current(first);
        table.make_current(second);
        assert_eq!((first, second), (1, 2));
        assert_eq!(table.current(), Some(2));
        assert_eq!(table.previous(), Some(1));
        assert_eq!(line(&table, 1), "[1]-  Running                 sleep 10 | cat &");
        assert_eq!(table.update(200, WaitStatus::Stopped(signal::TERMINAL_STOP)), Some(2));
        assert_eq!(table.get(2).unwrap().state(), JobState::Stopped(signal::TERMINAL_STOP));
        assert_eq!(line(&table, 2), "[2]+  Stopped                 vi notes");
        // A stopped job stays current even when a newer job starts.
        let third = table.add(300, vec![running(300)], b"make".to_vec());
        table.make_current(third);
        assert_eq!(table.current(), Some(2));
        table.update(101, WaitStatus::Exited(0));
        assert_eq!(table.get(1).unwrap().state(), JobState::Running);
        table.update(100, WaitStatus::Signaled { signal: signal::TERMINATE, core_dumped: false });
        assert_eq!(table.get(1).unwrap().state(), JobState::Done(WaitStatus::Exited(0)));
        table.remove(1);
        assert_eq!(table.add(400, vec![running(400)], b"x".to_vec()), 1, "the lowest free number is reused");
        assert_eq!(table.update(999, WaitStatus::Exited(0)), None);
    }

    #[test]
    fn specifications() {
        let mut table = JobTable::<()>::default();
        table.add(1, vec![running(1)], b"make all".to_vec());
        table.add(2, vec![running(2)], b"make clean".to_vec());
        table.add(3, vec![running(3)], b"vi notes".to_vec());
        table.make_current(1);
        table.make_current(3);
        assert_eq!(table.find(b"%2"), Ok(2));
        assert_eq!(table.find(b"2"), Ok(2));
        assert_eq!(table.find(b"%%"), Ok(3));
        assert_eq!(table.find(b"%+"), Ok(3));
        assert_eq!(table.find(b"%-"), Ok(1));
        assert_eq!(table.find(b"%vi"), Ok(3));
        assert_eq!(table.find(b"%make"), Err(JobSpecError::Ambiguous));
        assert_eq!(table.find(b"%?clean"), Ok(2));
        assert_eq!(table.find(b"%9"), Err(JobSpecError::NoSuchJob));
        assert_eq!(table.find(b"%emacs"), Err(JobSpecError::NoSuchJob));
    }

    #[test]
    fn descriptions() {
        assert_eq!(describe(JobState::Done(WaitStatus::Exited(3))), "Exit 3");
        assert_eq!(
            describe(JobState::Done(WaitStatus::Signaled { signal: 11, core_dumped: true })),
            "Segmentation fault (core dumped)"
        );
        assert_eq!(describe(JobState::Done(WaitStatus::Signaled { signal: 9, core_dumped: false })), "Killed");
    }
}
