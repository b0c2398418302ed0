//! Port sets: receive from many ports through one name.
//!
//! A port set lives in exactly one space under one name. A member port is a
//! receive right of that same space. Receiving from the set takes the
//! message that arrived first among all members' queue heads (each queued
//! message carries a global arrival stamp), so the set is FIFO across
//! members by arrival; the scan is linear in the number of members.

use alloc::collections::BTreeSet;

use mach_abi::PortName;

use crate::{PortId, SpaceId};

/// A port set.
#[derive(Debug)]
pub struct PortSet {
    pub(crate) space: SpaceId,
    pub(crate) name: PortName,
    pub(crate) members: BTreeSet<PortId>,
}

impl PortSet {
    pub(crate) fn new(space: SpaceId, name: PortName) -> PortSet {
        PortSet { space, name, members: BTreeSet::new() }
    }

    /// The member ports.
    pub fn members(&self) -> impl Iterator<Item = PortId> + '_ {
        self.members.iter().copied()
    }

    /// The owning space and the set's name there.
    pub fn owner(&self) -> (SpaceId, PortName) {
        (self.space, self.name)
    }
}
