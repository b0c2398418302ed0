//! Port sets: receive from many ports through one name.
//!
//! A port set lives in exactly one space under one name. A member port is a
//! receive right of that same space. Receiving from the set takes the
//! message that arrived first among all members' queue heads (each queued
//! message carries a global arrival stamp), so the set is FIFO across
//! members by arrival. The set keeps its members with messages queued
//! ordered by the arrival of their queue heads, so a receive takes the
//! first of them: a server with 65,536 open files, each a port in its set,
//! pays neither for the quiet ports nor for how many have messages waiting
//! (65,536 no-senders notifications at once are received in order, each in
//! logarithmic time).

use alloc::collections::{BTreeMap, BTreeSet};

use mach_abi::PortName;

use crate::{PortId, SpaceId};

/// A port set.
#[derive(Debug)]
pub struct PortSet {
    pub(crate) space: SpaceId,
    pub(crate) name: PortName,
    pub(crate) members: BTreeSet<PortId>,
    /// The members with messages queued, by the arrival of their queue's
    /// head: exactly the members whose queue is not empty.
    pub(crate) ready: BTreeSet<(u64, PortId)>,
    /// Each ready member's key in `ready`.
    pub(crate) ready_arrival: BTreeMap<PortId, u64>,
}

impl PortSet {
    pub(crate) fn new(space: SpaceId, name: PortName) -> PortSet {
        PortSet { space, name, members: BTreeSet::new(), ready: BTreeSet::new(), ready_arrival: BTreeMap::new() }
    }

    /// The member ports.
    pub fn members(&self) -> impl Iterator<Item = PortId> + '_ {
        self.members.iter().copied()
    }

    /// The members with messages queued, the one whose head arrived first
    /// first.
    pub fn ready_members(&self) -> impl Iterator<Item = PortId> + '_ {
        self.ready.iter().map(|(_, port)| *port)
    }

    /// Records that `port`'s queue head (now) arrived at `arrival`.
    pub(crate) fn mark_ready(&mut self, port: PortId, arrival: u64) {
        if let Some(previous) = self.ready_arrival.insert(port, arrival) {
            self.ready.remove(&(previous, port));
        }
        self.ready.insert((arrival, port));
    }

    /// Records that `port` has no message queued (or left the set).
    pub(crate) fn mark_empty(&mut self, port: PortId) {
        if let Some(previous) = self.ready_arrival.remove(&port) {
            self.ready.remove(&(previous, port));
        }
    }

    /// The owning space and the set's name there.
    pub fn owner(&self) -> (SpaceId, PortName) {
        (self.space, self.name)
    }
}
