//! The name service's request handling: the registry, who may register
//! what, and lookups that wait, for any `PortKernel` (the bootstrap task's
//! real one; the fake kernel in the host tests).
//!
//! A `lookup_wait` that finds nothing is **parked**: its request (message
//! and trailer, with the send-once reply right it carried, which stays in
//! our space) is kept in [`Waiters`] and nothing is sent, so the bootstrap
//! task goes on serving. [`NameServer::answer_waiting`] later runs the
//! generated dispatch on the kept request again, this time to answer: the
//! right if the name is registered by then, `timed_out` if the deadline
//! came. The reply is thus written by the generated code, never by hand.
//! (When mach-idl's typed deferred replies land, the kept request becomes
//! the routine's deferred reply.)

use crate::names;
use crate::registry::Registry;
use crate::service::{NameService, Waiting};
use crate::waiters::Waiters;
use libmach::abi::{MachMsgHeader, PortName, MACH_PORT_TYPE_DEAD_NAME};
use libmach::{Dispatch, PortKernel};

/// Largest request kept for a waiting lookup: the interface's largest
/// message and trailer (a longer one cannot be a valid `lookup_wait`).
pub const PARKED_REQUEST_MAX: usize = names::BUFFER_SIZE;

struct ParkedRequest {
    bytes: [u8; PARKED_REQUEST_MAX],
    length: usize,
}

/// Who sent a request: a client number (the bootstrap task's child index)
/// and the names it may register.
pub struct Requester<'a> {
    pub client: usize,
    pub may_register: &'a dyn Fn(&str) -> bool,
}

/// The name service's state.
pub struct NameServer<K: PortKernel> {
    kernel: K,
    registry: Registry<PortName>,
    waiters: Waiters<ParkedRequest>,
}

fn is_dead<K: PortKernel>(kernel: &K, name: PortName) -> bool {
    kernel.port_type(name).is_ok_and(|kind| kind & MACH_PORT_TYPE_DEAD_NAME != 0)
}

/// The bytes of the received message and trailer at the start of `request`.
fn received_length(request: &[u8]) -> Option<usize> {
    let header = MachMsgHeader::read_from(request)?;
    let size = header.size as usize;
    // The trailer's second word is its size.
    let trailer_size = request.get(size + 4..size + 8)?;
    let trailer_size = u32::from_le_bytes(trailer_size.try_into().ok()?) as usize;
    let length = size.checked_add(trailer_size)?;
    (length <= request.len()).then_some(length)
}

impl<K: PortKernel> NameServer<K> {
    pub fn new(kernel: K) -> Self {
        Self { kernel, registry: Registry::default(), waiters: Waiters::default() }
    }

    pub fn registry(&self) -> &Registry<PortName> {
        &self.registry
    }

    /// How many lookups wait.
    pub fn waiting(&self) -> usize {
        self.waiters.len()
    }

    /// When the next waiting lookup times out (the time base of `now`).
    pub fn next_deadline(&self) -> Option<u64> {
        self.waiters.next_deadline()
    }

    /// Handles one request of `requester`, received at `now` (ms); `watch`
    /// arranges to hear of a newly registered port's death. Returns what
    /// to do with the reply and whether a name was registered. A waiting
    /// lookup that must wait is kept and answers `NoReply` for now; after a
    /// registration, call [`NameServer::answer_waiting`].
    pub fn handle(
        &mut self,
        requester: &Requester,
        request: &[u8],
        reply: &mut [u8],
        now: u64,
        watch: impl FnMut(PortName) -> bool,
    ) -> (Dispatch, bool) {
        let mut registered = false;
        let mut wait = None;
        let waiting = if self.waiters.has_room(requester.client) { Waiting::Allowed } else { Waiting::NoRoom };
        let mut service = NameService {
            kernel: &self.kernel,
            registry: &mut self.registry,
            registered: &mut registered,
            watch,
            may_register: requester.may_register,
            waiting,
            wait: &mut wait,
        };
        let dispatched = names::dispatch(&mut service, &self.kernel, request, reply);
        let Some(wait) = wait else { return (dispatched, registered) };
        let Some(length) = received_length(request).filter(|&length| length <= PARKED_REQUEST_MAX) else {
            // Cannot happen for a request the dispatch accepted; answer now.
            return (dispatched, registered);
        };
        let mut parked = ParkedRequest { bytes: [0; PARKED_REQUEST_MAX], length };
        parked.bytes[..length].copy_from_slice(&request[..length]);
        let deadline = now.saturating_add(wait.timeout_milliseconds as u64);
        match self.waiters.park(requester.client, wait.name(), deadline, parked) {
            Ok(()) => (Dispatch::NoReply, registered),
            // has_room said yes: not reached, but the reply written is valid.
            Err(_) => (dispatched, registered),
        }
    }

    /// Answers every waiting lookup whose name is registered by now (to a
    /// live port) or whose deadline has come; returns how many.
    pub fn answer_waiting(&mut self, now: u64) -> usize {
        let mut answered = 0;
        loop {
            let (registry, kernel) = (&self.registry, &self.kernel);
            let ready =
                self.waiters.take_ready(now, |name| registry.lookup(name).is_ok_and(|right| !is_dead(kernel, right)));
            let Some(parked) = ready else { return answered };
            answered += 1;
            let mut reply = [0u8; names::BUFFER_SIZE];
            let (mut registered, mut wait) = (false, None);
            let mut service = NameService {
                kernel: &self.kernel,
                registry: &mut self.registry,
                registered: &mut registered,
                watch: |_| false,
                may_register: &|_| false,
                waiting: Waiting::Final,
                wait: &mut wait,
            };
            if let Dispatch::Reply(length) =
                names::dispatch(&mut service, &self.kernel, &parked.bytes[..parked.length], &mut reply)
            {
                // A client gone meanwhile: the reply right is released.
                let _ = libmach::server::send_reply(&self.kernel, &mut reply, length);
            }
        }
    }

    /// Drops the waiting lookups of `client`, which ended (their reply
    /// rights are released); returns how many.
    pub fn forget_client(&mut self, client: usize) -> usize {
        let mut forgotten = 0;
        while let Some(parked) = self.waiters.take_client(client) {
            if let Some(header) = MachMsgHeader::read_from(&parked.bytes[..parked.length]) {
                libmach::server::discard_reply_port(&self.kernel, &header);
            }
            forgotten += 1;
        }
        forgotten
    }

    /// A registered port died (its dead-name notification for `name`
    /// arrived): its names are removed. Returns how many; the caller
    /// releases the dead name itself.
    pub fn on_dead_name(&mut self, name: PortName) -> usize {
        self.registry.remove_right(name)
    }
}
