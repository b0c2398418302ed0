//! poll and select over io.defs's readiness protocol: the events a `pollfd`
//! asks for, as `io.poll` takes them, the `revents` an answer gives, and
//! select's three `fd_set`s turned into poll requests and back.
#![forbid(unsafe_code)]

use alloc::vec::Vec;

pub const POLLIN: u16 = 0x001;
pub const POLLPRI: u16 = 0x002;
pub const POLLOUT: u16 = 0x004;
pub const POLLERR: u16 = 0x008;
pub const POLLHUP: u16 = 0x010;
pub const POLLNVAL: u16 = 0x020;
pub const POLLRDNORM: u16 = 0x040;
pub const POLLRDBAND: u16 = 0x080;
pub const POLLWRNORM: u16 = 0x100;
pub const POLLWRBAND: u16 = 0x200;

/// What always counts, asked or not.
const ALWAYS: u16 = POLLERR | POLLHUP | POLLNVAL;

/// `FD_SETSIZE`.
pub const SELECT_SET_SIZE: usize = 1024;

/// The io.defs events (POLLIN 1, POLLPRI 2, POLLOUT 4) a `pollfd`'s
/// `events` ask for: the normal-data forms map to the plain ones.
pub fn requested(events: u16) -> u32 {
    let mut wanted = events & (POLLIN | POLLPRI | POLLOUT);
    if events & POLLRDNORM != 0 {
        wanted |= POLLIN;
    }
    if events & (POLLRDBAND | POLLWRBAND) != 0 {
        wanted |= POLLPRI;
    }
    if events & POLLWRNORM != 0 {
        wanted |= POLLOUT;
    }
    u32::from(wanted)
}

/// The `revents` for a `pollfd` that asked `events` when the server
/// answered `ready`: what was asked for (in the form asked) and the
/// conditions always reported.
pub fn returned(events: u16, ready: u32) -> u16 {
    let ready = (ready & 0xffff) as u16;
    let mut result = ready & (events | ALWAYS) & (POLLIN | POLLPRI | POLLOUT | ALWAYS);
    if ready & POLLIN != 0 {
        result |= events & POLLRDNORM;
    }
    if ready & POLLOUT != 0 {
        result |= events & POLLWRNORM;
    }
    if ready & POLLPRI != 0 {
        result |= events & (POLLRDBAND | POLLWRBAND);
    }
    result
}

/// select's sets as words (`fd_set` is 16 words of 64 bits).
pub type SelectSet = [u64; SELECT_SET_SIZE / 64];

fn member(set: Option<&SelectSet>, fd: usize) -> bool {
    set.is_some_and(|set| set[fd / 64] & (1 << (fd % 64)) != 0)
}

/// The `(fd, events)` poll requests of select's sets for descriptors below
/// `count`.
pub fn select_requests(
    count: usize,
    read: Option<&SelectSet>,
    write: Option<&SelectSet>,
    except: Option<&SelectSet>,
) -> Vec<(i32, u16)> {
    (0..count.min(SELECT_SET_SIZE))
        .filter_map(|fd| {
            let mut events = 0;
            if member(read, fd) {
                events |= POLLIN;
            }
            if member(write, fd) {
                events |= POLLOUT;
            }
            if member(except, fd) {
                events |= POLLPRI;
            }
            (events != 0).then_some((fd as i32, events))
        })
        .collect()
}

/// The sets select leaves from poll's answers (`(fd, events, revents)`),
/// and how many bits are set in them. A descriptor is readable when
/// readable, hung up or in error; writable when writable or in error.
pub fn select_results(answers: &[(i32, u16, u16)]) -> ([SelectSet; 3], usize) {
    let mut sets = [[0u64; SELECT_SET_SIZE / 64]; 3];
    let mut count = 0;
    for &(fd, events, revents) in answers {
        let fd = fd as usize;
        let conditions = [
            (events & POLLIN != 0 && revents & (POLLIN | POLLHUP | POLLERR) != 0),
            (events & POLLOUT != 0 && revents & (POLLOUT | POLLERR) != 0),
            (events & POLLPRI != 0 && revents & POLLPRI != 0),
        ];
        for (set, ready) in sets.iter_mut().zip(conditions) {
            if ready {
                set[fd / 64] |= 1 << (fd % 64);
                count += 1;
            }
        }
    }
    (sets, count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_data_forms_map_to_the_plain_events() {
        assert_eq!(requested(POLLIN | POLLOUT), 5);
        assert_eq!(requested(POLLRDNORM), u32::from(POLLIN));
        assert_eq!(requested(POLLWRNORM | POLLHUP), u32::from(POLLOUT));
        assert_eq!(returned(POLLRDNORM, u32::from(POLLIN)), POLLRDNORM);
        assert_eq!(returned(POLLIN | POLLRDNORM, u32::from(POLLIN | POLLOUT)), POLLIN | POLLRDNORM);
        assert_eq!(returned(POLLOUT, u32::from(POLLHUP)), POLLHUP, "hang-up is reported unasked");
        assert_eq!(returned(0, u32::from(POLLIN | POLLERR)), POLLERR);
    }

    #[test]
    fn select_sets_go_through_poll_and_back() {
        let mut read = [0u64; 16];
        let mut write = [0u64; 16];
        read[0] = 0b101; // 0 and 2
        write[0] = 0b100; // 2
        read[15] = 1 << 63; // 1023
        let requests = select_requests(1024, Some(&read), Some(&write), None);
        assert_eq!(requests, vec![(0, POLLIN), (2, POLLIN | POLLOUT), (1023, POLLIN)]);
        assert_eq!(select_requests(2, Some(&read), Some(&write), None), vec![(0, POLLIN)]);
        let answers = [(0, POLLIN, POLLHUP), (2, POLLIN | POLLOUT, POLLOUT), (1023, POLLIN, 0)];
        let ([read, write, except], count) = select_results(&answers);
        assert_eq!(count, 2);
        assert_eq!((read[0], write[0], except[0], read[15]), (1, 0b100, 0, 0));
    }
}
