//! Record locks (`fcntl` `F_GETLK`/`F_SETLK`/`F_SETLKW`) and `flock`.

#[allow(unused_imports)]
use super::*;

impl FileServer {
    pub(super) fn lock_target(&mut self, handle: Handle) -> Result<(NodeRef, OpenFile), Errno> {
        let file = self.file(handle)?.clone();
        match file.object {
            Object::Node(node) | Object::Device { node, .. } if !file.path_only => Ok((node, file)),
            Object::Directory(_) => Err(Errno::BadDescriptor),
            _ => Err(Errno::BadDescriptor),
        }
    }

    /// `fcntl(F_GETLK)`: the first lock that would stop this one, or
    /// `F_UNLCK`.
    pub fn test_lock(&mut self, request: &Request, handle: Handle, lock: LockRequest) -> Result<LockReport, Errno> {
        let (node, file) = self.lock_target(handle)?;
        let kind = lock.lock_kind()?.ok_or(Errno::InvalidArgument)?;
        let size = self.vfs.attributes(node)?.size;
        let range = lock.range(file.offset, size)?;
        let conflict = self.record_locks.get(&node).and_then(|locks| locks.conflict(request.lock_owner(), kind, range));
        Ok(match conflict {
            None => LockReport::UNLOCKED,
            Some(held) => LockReport {
                kind: if held.kind == LockKind::Exclusive { records::F_WRLCK } else { records::F_RDLCK },
                start: held.range.start as i64,
                length: if held.range.end == u64::MAX { 0 } else { (held.range.end - held.range.start) as i64 },
                pid: if held.owner >> 32 == 0 { held.owner as u32 } else { 0 },
            },
        })
    }

    /// `fcntl(F_SETLK)` (`wait` false: `EAGAIN` on a conflict) or
    /// `F_SETLKW` (`wait` true: waits, or `EDEADLK` if waiting would close
    /// a cycle of owners waiting for each other). The open file must be
    /// readable for a shared lock, writable for an exclusive one.
    pub fn set_lock(
        &mut self,
        request: &Request,
        handle: Handle,
        lock: LockRequest,
        wait: bool,
    ) -> Result<Answer<()>, Errno> {
        let (node, file) = self.lock_target(handle)?;
        let kind = lock.lock_kind()?;
        match kind {
            Some(LockKind::Shared) if !file.readable => return Err(Errno::BadDescriptor),
            Some(LockKind::Exclusive) if !file.writable => return Err(Errno::BadDescriptor),
            _ => {}
        }
        let size = self.vfs.attributes(node)?.size;
        let range = lock.range(file.offset, size)?;
        let owner = request.lock_owner();
        let Some(kind) = kind else {
            if let Some(locks) = self.record_locks.get_mut(&node) {
                locks.apply(owner, None, range);
                if locks.is_empty() {
                    self.record_locks.remove(&node);
                }
            }
            self.changed.insert(WaitKey::Node(node));
            return Ok(Answer::Now(()));
        };
        let holders =
            self.record_locks.get(&node).map_or_else(Vec::new, |locks| locks.conflicting_owners(owner, kind, range));
        if holders.is_empty() {
            self.record_locks.entry(node).or_default().apply(owner, Some(kind), range);
            return Ok(Answer::Now(()));
        }
        if !wait {
            return Err(Errno::WouldBlock);
        }
        if self.would_deadlock(owner, &holders) {
            return Err(Errno::Deadlock);
        }
        let wait = WaitKind::RecordLock { handle, node, owner, kind, range };
        Ok(Answer::Later(self.add_wait(wait, WaitKey::Node(node))?))
    }

    /// True when some holder in `holders` waits (directly or through
    /// others) for a lock `owner` holds.
    pub(super) fn would_deadlock(&self, owner: LockOwner, holders: &[LockOwner]) -> bool {
        let mut seen = BTreeSet::new();
        let mut pending: Vec<LockOwner> = holders.to_vec();
        while let Some(waiter) = pending.pop() {
            if waiter == owner {
                return true;
            }
            if !seen.insert(waiter) {
                continue;
            }
            for wait in self.waits.values() {
                if let WaitKind::RecordLock { node, owner: waiting, kind, range, .. } = wait.kind {
                    if waiting == waiter {
                        if let Some(locks) = self.record_locks.get(&node) {
                            pending.extend(locks.conflicting_owners(waiter, kind, range));
                        }
                    }
                }
            }
        }
        false
    }

    /// Releases every record lock `owner` holds on the file open as
    /// `handle` (what closing a descriptor does in POSIX: minilibc sends
    /// it on `close` of a file it locked).
    pub fn release_record_locks(&mut self, request: &Request, handle: Handle) -> Result<(), Errno> {
        let (node, _) = self.lock_target(handle)?;
        let owner = request.lock_owner();
        if let Some(locks) = self.record_locks.get_mut(&node) {
            locks.release_owner(owner);
            if locks.is_empty() {
                self.record_locks.remove(&node);
            }
            self.changed.insert(WaitKey::Node(node));
        }
        Ok(())
    }

    /// A process ended: its record locks everywhere go.
    pub fn process_exited(&mut self, pid: u32) {
        let owner = pid as LockOwner;
        let nodes: Vec<NodeRef> = self.record_locks.keys().copied().collect();
        for node in nodes {
            if let Some(locks) = self.record_locks.get_mut(&node) {
                locks.release_owner(owner);
                if locks.is_empty() {
                    self.record_locks.remove(&node);
                }
                self.changed.insert(WaitKey::Node(node));
            }
        }
        let waiting: Vec<WaitId> = self
            .waits
            .iter()
            .filter(|(_, wait)| matches!(wait.kind, WaitKind::RecordLock { owner: waiting, .. } if waiting == owner))
            .map(|(id, _)| *id)
            .collect();
        for id in waiting {
            self.cancel(id);
        }
    }

    /// `flock(operation)`: `LOCK_SH` 1, `LOCK_EX` 2, `LOCK_UN` 8, with
    /// `LOCK_NB` 4. A conversion releases first (as Linux does).
    pub fn flock(&mut self, handle: Handle, operation: u32) -> Result<Answer<()>, Errno> {
        let file = self.file(handle)?.clone();
        let node = file.object.node().ok_or(Errno::InvalidArgument)?;
        if file.path_only {
            return Err(Errno::BadDescriptor);
        }
        let nonblocking = operation & 4 != 0;
        let kind = match operation & !4 {
            1 => LockKind::Shared,
            2 => LockKind::Exclusive,
            8 => {
                if let Some(locks) = self.flocks.get_mut(&node) {
                    locks.release(handle);
                    if locks.is_empty() {
                        self.flocks.remove(&node);
                    }
                }
                self.changed.insert(WaitKey::Node(node));
                return Ok(Answer::Now(()));
            }
            _ => return Err(Errno::InvalidArgument),
        };
        let locks = self.flocks.entry(node).or_default();
        if locks.held_by(handle) == Some(kind) {
            return Ok(Answer::Now(()));
        }
        if locks.held_by(handle).is_some() {
            locks.release(handle);
            self.changed.insert(WaitKey::Node(node));
        }
        if locks.can_take(handle, kind) {
            locks.take(handle, kind);
            return Ok(Answer::Now(()));
        }
        if nonblocking {
            return Err(Errno::WouldBlock);
        }
        Ok(Answer::Later(self.add_wait(WaitKind::Flock { handle, node, kind }, WaitKey::Node(node))?))
    }
}
