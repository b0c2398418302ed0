//! A fixed-capacity key-value store implementing the generated `kv::Server`.
//!
//! Sessions show the shape of a server with one port per object (a file
//! server's open files): `open_session` makes a port, asks for a no-senders
//! notification on it and, when the store serves a port set, puts it there;
//! a request sent to the session's port finds the session by
//! [`libmach::Context::port`]; when the client's last send right goes, the
//! notification arrives on that port and [`Store::notified`] frees the
//! session.

use libmach::abi::PortName;
use libmach::{BoundedBytes, BoundedString, Context, Notification, PortKernel, ReceiveRight, SendRight};

use crate::kv;

/// Most keys the store holds.
pub const CAPACITY: usize = 16;
/// Most sessions open at once.
pub const SESSIONS: usize = 4;

#[derive(Clone, Copy, Debug)]
struct Entry {
    key: BoundedString<64>,
    value: BoundedBytes<512>,
}

/// An open session: its port (the store keeps the receive right) and label.
#[derive(Debug)]
struct Session<K: PortKernel> {
    port: ReceiveRight<K>,
    label: BoundedString<32>,
}

/// The store: entries, an optional watcher right, open sessions, a log.
pub struct Store<K: PortKernel> {
    kernel: K,
    entries: [Option<Entry>; CAPACITY],
    watcher: Option<SendRight<K>>,
    sessions: [Option<Session<K>>; SESSIONS],
    /// The port set session ports join (the set the server receives from).
    session_set: Option<PortName>,
    /// Number of `log` messages received.
    pub log_lines: u32,
    /// The last `log` message's level and text.
    pub last_log: (u8, BoundedString<120>),
}

impl<K: PortKernel> Store<K> {
    /// An empty store in the task whose kernel handle is `kernel`.
    pub fn new(kernel: &K) -> Self {
        Store {
            kernel: kernel.clone(),
            entries: [None; CAPACITY],
            watcher: None,
            sessions: [const { None }; SESSIONS],
            session_set: None,
            log_lines: 0,
            last_log: (0, BoundedString::new()),
        }
    }

    fn find(&self, key: &str) -> Option<usize> {
        self.entries.iter().position(|entry| entry.as_ref().is_some_and(|entry| entry.key.as_str() == key))
    }

    fn store(&mut self, key: &str, value: &[u8]) -> Result<(), kv::Error> {
        let key = BoundedString::try_from_str(key).ok_or(kv::Error::StoreFull)?;
        let value = BoundedBytes::from_slice(value).ok_or(kv::Error::StoreFull)?;
        let slot = match self.find(key.as_str()) {
            Some(index) => index,
            None => self.entries.iter().position(Option::is_none).ok_or(kv::Error::StoreFull)?,
        };
        self.entries[slot] = Some(Entry { key, value });
        Ok(())
    }

    /// The registered watcher's name, if any (for tests).
    pub fn watcher_name(&self) -> Option<libmach::abi::PortName> {
        self.watcher.as_ref().map(SendRight::name)
    }

    /// Names of the sessions' receive rights (for tests).
    pub fn session_names(&self) -> impl Iterator<Item = libmach::abi::PortName> + '_ {
        self.sessions.iter().flatten().map(|session| session.port.name())
    }

    /// Serves sessions in `set`: new session ports join it, so requests to
    /// them and their no-senders notifications arrive where the store's
    /// own requests do.
    pub fn serve_sessions_in(&mut self, set: PortName) {
        self.session_set = Some(set);
    }

    /// A notification that arrived on the store's port set: no send right
    /// to a session's port remains, so nobody can use the session again.
    pub fn notified(&mut self, notification: Notification<K>) {
        if let Notification::NoSenders { port, .. } = notification {
            for slot in self.sessions.iter_mut() {
                if slot.as_ref().is_some_and(|session| session.port.name() == port) {
                    // Dropping the receive right destroys the port.
                    *slot = None;
                }
            }
        }
        // Other notifications are never asked for; what they carried
        // (a returned receive right) is released by dropping it.
    }
}

impl<K: PortKernel> kv::Server<K> for Store<K> {
    fn put(&mut self, _context: &Context<'_, K>, key: &str, value: &[u8]) -> Result<(), kv::Error> {
        self.store(key, value)
    }

    fn get(&mut self, _context: &Context<'_, K>, key: &str) -> Result<BoundedBytes<512>, kv::Error> {
        let index = self.find(key).ok_or(kv::Error::NotFound)?;
        self.entries[index].map(|entry| entry.value).ok_or(kv::Error::NotFound)
    }

    fn remove(&mut self, _context: &Context<'_, K>, key: &str) -> Result<BoundedBytes<512>, kv::Error> {
        let index = self.find(key).ok_or(kv::Error::NotFound)?;
        self.entries[index].take().map(|entry| entry.value).ok_or(kv::Error::NotFound)
    }

    fn count(&mut self, _context: &Context<'_, K>) -> Result<kv::CountReply, kv::Error> {
        let stored = self.entries.iter().flatten();
        let (keys, bytes) =
            stored.fold((0u32, 0u64), |(keys, bytes), entry| (keys + 1, bytes + entry.value.len() as u64));
        Ok(kv::CountReply { keys, bytes })
    }

    fn add(&mut self, _context: &Context<'_, K>, key: &str, delta: i64) -> Result<i64, kv::Error> {
        let current = match self.find(key).and_then(|index| self.entries[index]) {
            Some(entry) => {
                let mut bytes = [0u8; 8];
                let value = entry.value.as_slice();
                let length = value.len().min(8);
                bytes[..length].copy_from_slice(&value[..length]);
                i64::from_le_bytes(bytes)
            }
            None => 0,
        };
        let total = current.wrapping_add(delta);
        self.store(key, &total.to_le_bytes())?;
        Ok(total)
    }

    fn watch(&mut self, _context: &Context<'_, K>, watcher: SendRight<K>) -> Result<(), kv::Error> {
        // A previous watcher's right is released by the replacement.
        self.watcher = Some(watcher);
        Ok(())
    }

    fn unwatch(&mut self, _context: &Context<'_, K>) -> Result<SendRight<K>, kv::Error> {
        self.watcher.take().ok_or(kv::Error::NoWatcher)
    }

    fn open_session(&mut self, _context: &Context<'_, K>, label: &str) -> Result<SendRight<K>, kv::Error> {
        let label = BoundedString::try_from_str(label).ok_or(kv::Error::StoreFull)?;
        let slot = self.sessions.iter().position(Option::is_none).ok_or(kv::Error::StoreFull)?;
        let port = ReceiveRight::allocate(&self.kernel).map_err(|_| kv::Error::StoreFull)?;
        let send = port.make_send().map_err(|_| kv::Error::StoreFull)?;
        // The send right just made counts 1: notify once it and any copy are gone.
        port.request_no_senders(1).map_err(|_| kv::Error::StoreFull)?;
        if let Some(set) = self.session_set {
            self.kernel.port_move_member(port.name(), set).map_err(|_| kv::Error::StoreFull)?;
        }
        self.sessions[slot] = Some(Session { port, label });
        Ok(send)
    }

    fn session_label(&mut self, context: &Context<'_, K>) -> Result<BoundedString<32>, kv::Error> {
        let port = context.port();
        let session = self.sessions.iter().flatten().find(|session| session.port.name() == port);
        session.map(|session| session.label).ok_or(kv::Error::NotFound)
    }

    fn digest(
        &mut self,
        _context: &Context<'_, K>,
        data: libmach::message::OutOfLineData<K>,
    ) -> Result<kv::DigestReply, kv::Error> {
        let checksum = data.bytes().iter().fold(0u32, |sum, &byte| sum.wrapping_add(byte as u32));
        Ok(kv::DigestReply { checksum, length: data.len() as u64 })
    }

    fn export(&mut self, _context: &Context<'_, K>) -> Result<libmach::message::OutOfLineData<K>, kv::Error> {
        let entries = self.entries.iter().flatten();
        let size: usize = entries.clone().map(|entry| 8 + entry.key.len() + entry.value.len()).sum();
        let mut data =
            libmach::message::OutOfLineData::allocate(&self.kernel, size as u32).map_err(|_| kv::Error::StoreFull)?;
        let bytes = data.bytes_mut();
        if bytes.len() != size {
            return Err(kv::Error::StoreFull);
        }
        let mut offset = 0;
        for entry in entries {
            for field in [entry.key.as_str().as_bytes(), entry.value.as_slice()] {
                bytes[offset..offset + 4].copy_from_slice(&(field.len() as u32).to_le_bytes());
                bytes[offset + 4..offset + 4 + field.len()].copy_from_slice(field);
                offset += 4 + field.len();
            }
        }
        Ok(data)
    }

    fn log(&mut self, _context: &Context<'_, K>, level: u8, text: &str) {
        self.log_lines += 1;
        self.last_log = (level, BoundedString::try_from_str(text).unwrap_or_default());
    }
}
