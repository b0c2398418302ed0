//! Readiness (`poll`) and the waits: how a request that cannot finish
//! waits, and how its completion is offered to the transport and only
//! committed once the client got it.

#[allow(unused_imports)]
use super::*;

impl FileServer {
    /// The `poll` events of the open file now.
    pub fn ready_events(&self, handle: Handle) -> Result<u32, Errno> {
        let file = self.file(handle)?;
        let readable = poll_events::INPUT | poll_events::READ_NORMAL;
        let writable = poll_events::OUTPUT | poll_events::WRITE_NORMAL;
        Ok(match file.object {
            Object::Pipe { pipe, .. } => {
                let Some(state) = self.pipes.get(&pipe) else { return Ok(poll_events::ERROR) };
                let mut events = 0;
                if file.readable {
                    if state.queued() > 0 {
                        events |= readable;
                    }
                    if state.writers() == 0 {
                        events |= poll_events::HANG_UP;
                    }
                }
                if file.writable {
                    if state.readers() == 0 {
                        events |= poll_events::ERROR;
                    } else if state.writable() {
                        events |= writable;
                    }
                }
                events
            }
            // Files, directories and our devices never block.
            _ => {
                (if file.readable || file.path_only { readable } else { 0 })
                    | (if file.writable || file.path_only { writable } else { 0 })
            }
        })
    }

    /// `poll`: the events of interest ready now; if none, waits until one
    /// is (unless `wait` is false). `client_id` names the poll for
    /// [`FileServer::cancel_poll`]. Errors, hang-ups and invalidity are
    /// always reported.
    pub fn poll(&mut self, handle: Handle, events: u32, wait: bool, client_id: u64) -> Result<Answer<u32>, Errno> {
        let ready = self.ready_events(handle)? & (events | poll_events::ALWAYS);
        if ready != 0 || !wait {
            return Ok(Answer::Now(ready));
        }
        let key = match self.file(handle)?.object {
            Object::Pipe { pipe, .. } => WaitKey::Pipe(pipe),
            _ => WaitKey::Nothing,
        };
        Ok(Answer::Later(self.add_wait(WaitKind::Poll { handle, events, client_id }, key)?))
    }

    /// Ends the polls `client_id` made on `handle` (answered with 0 events).
    pub fn cancel_poll(&mut self, handle: Handle, client_id: u64) {
        let ids: Vec<WaitId> = self
            .waits
            .iter()
            .filter(|(_, wait)| {
                matches!(wait.kind, WaitKind::Poll { handle: h, client_id: c, .. } if h == handle && c == client_id)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if let Some(wait) = self.waits.get_mut(&id) {
                wait.forced = Some(Errno::Interrupted);
                self.changed.insert(wait.key);
            }
        }
    }

    pub(super) fn add_wait(&mut self, kind: WaitKind, key: WaitKey) -> Result<WaitId, Errno> {
        if self.waits.len() >= WAITS_MAX {
            return Err(Errno::WouldBlock);
        }
        let id = WaitId(self.next_wait);
        self.next_wait += 1;
        self.waits.insert(id, Wait { kind, key, forced: None });
        self.waits_by_key.entry(key).or_default().push_back(id);
        Ok(id)
    }

    pub(super) fn remove_wait(&mut self, id: WaitId) -> Option<Wait> {
        let wait = self.waits.remove(&id)?;
        if let Some(queue) = self.waits_by_key.get_mut(&wait.key) {
            queue.retain(|other| *other != id);
            if queue.is_empty() {
                self.waits_by_key.remove(&wait.key);
            }
        }
        Some(wait)
    }

    /// Forgets a wait whose client is gone (its reply right died): nothing
    /// it asked for happens.
    pub fn cancel(&mut self, id: WaitId) {
        if let Some(wait) = self.remove_wait(id) {
            if let WaitKind::OpenFifo { pipe, .. } = wait.kind {
                self.drop_unused_pipe(pipe);
            }
        }
    }

    /// The waits now pending (for a sweep of abandoned ones).
    pub fn wait_ids(&self) -> Vec<WaitId> {
        self.waits.keys().copied().collect()
    }

    /// True when some wait may be able to finish.
    pub fn has_changes(&self) -> bool {
        !self.changed.is_empty()
    }

    /// Offers every wait that can finish now its completion, oldest first
    /// per object. `deliver` sends the answer and returns whether the
    /// client got it; only then is the completion committed (data taken,
    /// lock granted, FIFO end opened). A wait whose client is gone is
    /// dropped with nothing taken. Repeats until nothing changes.
    pub fn deliver_ready(&mut self, deliver: &mut dyn FnMut(WaitId, Completion<'_>) -> bool) {
        // Each round handles the keys changed so far; deliveries change
        // keys again (a read makes room for a writer). Bounded: every
        // round either completes a wait or changes nothing.
        for _ in 0..WAITS_MAX + 1 {
            let Some(key) = self.changed.pop_first() else { return };
            let ids: Vec<WaitId> =
                self.waits_by_key.get(&key).map_or_else(Vec::new, |queue| queue.iter().copied().collect());
            for id in ids {
                self.try_complete(id, deliver);
            }
        }
    }

    pub(super) fn try_complete(&mut self, id: WaitId, deliver: &mut dyn FnMut(WaitId, Completion<'_>) -> bool) {
        let Some(wait) = self.waits.get(&id) else { return };
        if let Some(error) = wait.forced {
            let completion = match &wait.kind {
                WaitKind::Read { .. } => Completion::Read(Err(error)),
                WaitKind::Write { written, .. } if *written > 0 => Completion::Write(Ok(*written)),
                WaitKind::Write { .. } => Completion::Write(Err(error)),
                WaitKind::OpenFifo { .. } => Completion::Open(Err(error)),
                WaitKind::RecordLock { .. } | WaitKind::Flock { .. } => Completion::Lock(Err(error)),
                WaitKind::Poll { .. } => {
                    Completion::Poll(if error == Errno::Interrupted { 0 } else { poll_events::INVALID })
                }
            };
            deliver(id, completion);
            self.cancel(id);
            return;
        }
        match self.waits.get(&id).map(|wait| &wait.kind) {
            Some(WaitKind::Read { .. }) => self.complete_read(id, deliver),
            Some(WaitKind::Write { .. }) => self.complete_write(id, deliver),
            Some(WaitKind::OpenFifo { .. }) => self.complete_open(id, deliver),
            Some(WaitKind::RecordLock { .. }) => self.complete_record_lock(id, deliver),
            Some(WaitKind::Flock { .. }) => self.complete_flock(id, deliver),
            Some(WaitKind::Poll { .. }) => self.complete_poll(id, deliver),
            None => {}
        }
    }

    pub(super) fn complete_read(&mut self, id: WaitId, deliver: &mut dyn FnMut(WaitId, Completion<'_>) -> bool) {
        let Some(Wait { kind: WaitKind::Read { handle, count }, key: WaitKey::Pipe(pipe), .. }) = self.waits.get(&id)
        else {
            return;
        };
        let (handle, count, pipe) = (*handle, *count, *pipe);
        let _ = handle;
        let Some(state) = self.pipes.get(&pipe) else {
            deliver(id, Completion::Read(Err(Errno::InputOutput)));
            self.cancel(id);
            return;
        };
        match state.read_state() {
            ReadState::WouldBlock => {}
            ReadState::EndOfFile => {
                deliver(id, Completion::Read(Ok(ReadData::NONE)));
                self.cancel(id);
            }
            ReadState::Data(_) if state.whole_run(count) => {
                // Exactly a run a writer sent: offered whole; what the
                // transport leaves in the slot its client did not get.
                let mut slot = self.pipes.get_mut(&pipe).and_then(Pipe::take_run);
                deliver(id, Completion::ReadRun(&mut slot));
                match slot {
                    Some(run) => {
                        if let Some(state) = self.pipes.get_mut(&pipe) {
                            state.put_back_run(run);
                        }
                    }
                    None => {
                        self.changed.insert(WaitKey::Pipe(pipe));
                    }
                }
                self.cancel(id);
            }
            ReadState::Data(queued) => {
                let take = queued.min(count);
                let delivered = deliver(id, Completion::Read(Ok(ReadData { pipe: Some(state), length: take })));
                if delivered {
                    if let Some(state) = self.pipes.get_mut(&pipe) {
                        state.consume(take);
                    }
                    self.changed.insert(WaitKey::Pipe(pipe));
                }
                self.cancel(id);
            }
        }
    }

    pub(super) fn complete_write(&mut self, id: WaitId, deliver: &mut dyn FnMut(WaitId, Completion<'_>) -> bool) {
        let Some(wait) = self.waits.get_mut(&id) else { return };
        let WaitKey::Pipe(pipe) = wait.key else { return };
        let WaitKind::Write { data, written, .. } = &mut wait.kind else { return };
        let Some(state) = self.pipes.get_mut(&pipe) else { return };
        let Some(length) = data.as_ref().map(|kept| kept.bytes().len()) else { return };
        let remaining = length - *written;
        match state.write_state(remaining) {
            WriteState::WouldBlock => {}
            WriteState::Broken => {
                let result = if *written > 0 { Ok(*written) } else { Err(Errno::BrokenPipe) };
                deliver(id, Completion::Write(result));
                self.cancel(id);
            }
            WriteState::Room(room) => {
                // A write of at most PIPE_BUF goes in whole, else what fits;
                // a kept run that fits whole goes in as it is.
                let start = *written;
                match data.take() {
                    Some(KeptWrite::Run(run)) if start == 0 && room == length => {
                        if let Err(run) = state.push_run(run) {
                            state.push(run.bytes());
                        }
                    }
                    Some(kept) => {
                        state.push(&kept.bytes()[start..start + room]);
                        *data = Some(kept);
                    }
                    None => return,
                }
                *written += room;
                let total = *written;
                if total < length {
                    // Still more to go: wait for more room (readers will
                    // change the key).
                    self.changed.insert(WaitKey::Pipe(pipe));
                    return;
                }
                let delivered = deliver(id, Completion::Write(Ok(total)));
                if !delivered && start == 0 {
                    // Nobody learns of it: an atomic write that was never
                    // acknowledged is taken back (readers cannot have seen
                    // it: we hold the server).
                    if let Some(state) = self.pipes.get_mut(&pipe) {
                        state.unpush(room);
                    }
                }
                self.changed.insert(WaitKey::Pipe(pipe));
                self.cancel(id);
            }
        }
    }

    pub(super) fn complete_open(&mut self, id: WaitId, deliver: &mut dyn FnMut(WaitId, Completion<'_>) -> bool) {
        let Some(Wait { kind: WaitKind::OpenFifo { handle, pipe, node, file, writer }, .. }) = self.waits.get(&id)
        else {
            return;
        };
        let (handle, pipe, node, file, writer) = (*handle, *pipe, *node, file.clone(), *writer);
        let Some(state) = self.pipes.get(&pipe) else { return };
        let partner = if writer { state.readers() > 0 } else { state.writers() > 0 };
        if !partner {
            return;
        }
        if deliver(id, Completion::Open(Ok(NodeKind::Fifo))) {
            let (readable, writable) = (file.readable, file.writable);
            if self.attach_fifo_end(pipe, node, readable, writable).is_ok() {
                let _ = self.install(handle, file);
            }
        }
        self.cancel(id);
    }

    pub(super) fn complete_record_lock(&mut self, id: WaitId, deliver: &mut dyn FnMut(WaitId, Completion<'_>) -> bool) {
        let Some(Wait { kind: WaitKind::RecordLock { node, owner, kind, range, .. }, .. }) = self.waits.get(&id) else {
            return;
        };
        let (node, owner, kind, range) = (*node, *owner, *kind, *range);
        let blocked = self.record_locks.get(&node).is_some_and(|locks| locks.conflict(owner, kind, range).is_some());
        if blocked {
            return;
        }
        if deliver(id, Completion::Lock(Ok(()))) {
            self.record_locks.entry(node).or_default().apply(owner, Some(kind), range);
        }
        self.cancel(id);
    }

    pub(super) fn complete_flock(&mut self, id: WaitId, deliver: &mut dyn FnMut(WaitId, Completion<'_>) -> bool) {
        let Some(Wait { kind: WaitKind::Flock { handle, node, kind }, .. }) = self.waits.get(&id) else { return };
        let (handle, node, kind) = (*handle, *node, *kind);
        if !self.flocks.get(&node).is_none_or(|locks| locks.can_take(handle, kind)) {
            return;
        }
        if deliver(id, Completion::Lock(Ok(()))) {
            self.flocks.entry(node).or_default().take(handle, kind);
        }
        self.cancel(id);
    }

    pub(super) fn complete_poll(&mut self, id: WaitId, deliver: &mut dyn FnMut(WaitId, Completion<'_>) -> bool) {
        let Some(Wait { kind: WaitKind::Poll { handle, events, .. }, .. }) = self.waits.get(&id) else { return };
        let (handle, events) = (*handle, *events);
        let ready = match self.ready_events(handle) {
            Ok(ready) => ready & (events | poll_events::ALWAYS),
            Err(_) => poll_events::INVALID,
        };
        if ready == 0 {
            return;
        }
        deliver(id, Completion::Poll(ready));
        self.cancel(id);
    }
}
