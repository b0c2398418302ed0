//! The consistency check: recounts every right from scratch and compares
//! with the counters the operations maintain.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;

use crate::message::KernelMessage;
use crate::port::Receiver;
use crate::right::{CarriedRight, EntryRights, RightKind, USER_REFERENCES_MAX};
use crate::{Ipc, PortId, SpaceId};

/// A broken invariant, described for a test failure message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvariantViolation(pub String);

#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
struct Tally {
    send: u32,
    send_once: u32,
    receive: u32,
}

fn count(tallies: &mut BTreeMap<PortId, Tally>, right: &CarriedRight) {
    if let Some((port, kind)) = right.port() {
        let tally = tallies.entry(port).or_default();
        match kind {
            RightKind::Send => tally.send += 1,
            RightKind::SendOnce => tally.send_once += 1,
            RightKind::Receive => tally.receive += 1,
        }
    }
}

fn count_message(tallies: &mut BTreeMap<PortId, Tally>, message: &KernelMessage) {
    for right in message.rights() {
        count(tallies, right);
    }
}

impl Ipc {
    /// Checks every invariant of the object model; the first violation
    /// found is returned. Linear in the size of the whole state: for tests
    /// and debug kernels, not for every trap of a production kernel.
    pub fn check_invariants(&self) -> Result<(), InvariantViolation> {
        let fail = |text: String| Err(InvariantViolation(text));
        let mut tallies: BTreeMap<PortId, Tally> = BTreeMap::new();
        let mut queued_by_space: BTreeMap<SpaceId, (usize, usize)> = BTreeMap::new();

        // Rights held by spaces.
        for (space_arena_id, space) in self.spaces.iter() {
            let space_id = SpaceId(space_arena_id);
            for (name, entry) in space.entries.iter() {
                let name = &name;
                if !mach_abi::port_name_is_valid(*name) {
                    return fail(format!("space {space_id:?} uses the reserved name {name:#x}"));
                }
                match entry.rights {
                    EntryRights::Port { port, receive, send_references } => {
                        if !receive && send_references == 0 {
                            return fail(format!("empty entry {name:#x} in {space_id:?}"));
                        }
                        if send_references > USER_REFERENCES_MAX {
                            return fail(format!("entry {name:#x} has {send_references} send references"));
                        }
                        let Some(port_object) = self.port(port) else {
                            return fail(format!("entry {name:#x} of {space_id:?} names a freed port"));
                        };
                        if !port_object.is_alive() {
                            return fail(format!("entry {name:#x} of {space_id:?} names a dead port"));
                        }
                        if space.names_by_port.get(&port) != Some(name) {
                            return fail(format!("port {port:?} has no reverse name {name:#x} in {space_id:?}"));
                        }
                        if !port_object.holders.contains(&(space_id, *name)) {
                            return fail(format!("port {port:?} does not list holder {name:#x} of {space_id:?}"));
                        }
                        let tally = tallies.entry(port).or_default();
                        tally.send += (send_references > 0) as u32;
                        if receive {
                            tally.receive += 1;
                            if port_object.receiver != (Receiver::Space { space: space_id, name: *name }) {
                                return fail(format!(
                                    "port {port:?}: receiver {:?} but {name:#x} of {space_id:?} holds it",
                                    port_object.receiver
                                ));
                            }
                        }
                    }
                    EntryRights::SendOnce { port } => {
                        let Some(port_object) = self.port(port) else {
                            return fail(format!("send-once {name:#x} names a freed port"));
                        };
                        if !port_object.is_alive() || !port_object.holders.contains(&(space_id, *name)) {
                            return fail(format!("send-once {name:#x} of {space_id:?}: dead port or missing holder"));
                        }
                        tallies.entry(port).or_default().send_once += 1;
                    }
                    EntryRights::DeadName { references } => {
                        if references == 0 || references > USER_REFERENCES_MAX {
                            return fail(format!("dead name {name:#x} has {references} references"));
                        }
                    }
                    EntryRights::PortSet { set } => match self.port_set(set) {
                        Some(set_object) if set_object.space == space_id && set_object.name == *name => {}
                        _ => return fail(format!("port set entry {name:#x} of {space_id:?} is inconsistent")),
                    },
                }
            }
            for (port, name) in space.names_by_port.iter() {
                match space.entries.get(name).map(|entry| entry.rights) {
                    Some(EntryRights::Port { port: entry_port, .. }) if entry_port == *port => {}
                    _ => return fail(format!("reverse name {name:#x} of {port:?} in {space_id:?} is stale")),
                }
            }
            if space.entries.len() > space.limits.max_entries {
                return fail(format!("{space_id:?} exceeds its entry limit"));
            }
        }

        // Rights in queues, requests, the outbox and held by the kernel.
        for (port_arena_id, port) in self.ports.iter() {
            let port_id = PortId(port_arena_id);
            let send_destinations = port
                .queue
                .iter()
                .filter(|message| matches!(message.destination, CarriedRight::Port { kind: RightKind::Send, .. }))
                .count();
            if send_destinations != port.queued_send_destinations as usize {
                return fail(format!(
                    "{port_id:?} counts {} queued send destinations, holds {send_destinations}",
                    port.queued_send_destinations
                ));
            }
            if let Some((_, sync)) = &port.requests.no_senders {
                if port.is_alive() && port.send_rights <= port.queued_send_destinations && port.make_send_count >= *sync
                {
                    return fail(format!("{port_id:?} has no usable sender but its no-senders request did not fire"));
                }
            }
            for message in port.queue.iter() {
                count_message(&mut tallies, message);
                if let Some(space) = message.charged_to {
                    if self.spaces.contains(space.0) {
                        let tally: &mut (usize, usize) = queued_by_space.entry(space).or_default();
                        tally.0 += 1;
                        tally.1 += message.inline_data.len();
                    }
                }
                match message.destination.port() {
                    Some((destination, kind)) if destination == port_id && kind != RightKind::Receive => {}
                    _ => return fail(format!("a message queued on {port_id:?} is not addressed to it")),
                }
                for carried in message.rights() {
                    if let Some((carried_port, RightKind::Receive)) = carried.port() {
                        let expected = Receiver::InTransit { queued_on: Some(port_id) };
                        if self.port(carried_port).map(|p| p.receiver) != Some(expected) {
                            return fail(format!(
                                "receive right of {carried_port:?} queued on {port_id:?} has the wrong receiver"
                            ));
                        }
                    }
                }
            }
            for right in port.requests.dead_name.values() {
                count(&mut tallies, right);
            }
            for ((space, name), _) in port.requests.dead_name.iter() {
                match self.space(*space).and_then(|s| s.entries.get(name)).map(|entry| entry.rights) {
                    Some(EntryRights::Port { port: watched, send_references, .. })
                        if watched == port_id && send_references > 0 => {}
                    Some(EntryRights::SendOnce { port: watched }) if watched == port_id => {}
                    _ => return fail(format!("dead-name request of {name:#x} on {port_id:?} watches nothing")),
                }
            }
            if let Some((right, _)) = &port.requests.no_senders {
                count(&mut tallies, right);
            }
            if let Some(right) = &port.requests.port_destroyed {
                count(&mut tallies, right);
            }
            let held = port.kernel_held;
            let tally = tallies.entry(port_id).or_default();
            tally.send += held.send;
            tally.send_once += held.send_once;
            tally.receive += held.receive;
        }
        for notification in self.outbox.iter() {
            count(&mut tallies, &notification.destination);
            if let crate::NotificationKind::PortDestroyed { receive } = &notification.kind {
                count(&mut tallies, receive);
            }
        }

        // Compare with the ports' own counters.
        for port in tallies.keys() {
            if self.port(*port).is_none() {
                return fail(format!("a right refers to the freed port {port:?}"));
            }
        }
        for (port_arena_id, port) in self.ports.iter() {
            let port_id = PortId(port_arena_id);
            let tally = tallies.get(&port_id).copied().unwrap_or_default();
            if tally.send != port.send_rights {
                return fail(format!("{port_id:?}: send_rights {} but {} found", port.send_rights, tally.send));
            }
            if tally.send_once != port.send_once_rights {
                return fail(format!(
                    "{port_id:?}: send_once_rights {} but {} found",
                    port.send_once_rights, tally.send_once
                ));
            }
            let expected_receive = match port.receiver {
                Receiver::Space { .. } | Receiver::InTransit { .. } => 1,
                Receiver::Kernel | Receiver::Dead => 0,
            };
            if tally.receive != expected_receive {
                return fail(format!(
                    "{port_id:?}: {} receive rights found for receiver {:?}",
                    tally.receive, port.receiver
                ));
            }
            if !port.is_alive() {
                if !port.queue.is_empty()
                    || port.port_set.is_some()
                    || !port.requests.is_empty()
                    || !port.holders.is_empty()
                {
                    return fail(format!("dead {port_id:?} still has a queue, set, request or holder"));
                }
                if port.send_rights == 0 && port.send_once_rights == 0 {
                    return fail(format!("dead {port_id:?} is unreferenced but not freed"));
                }
            }
            for (space, name) in port.holders.iter() {
                let holds = match self.space(space).and_then(|s| s.entries.get(&name)).map(|entry| entry.rights) {
                    Some(EntryRights::Port { port: held, .. }) | Some(EntryRights::SendOnce { port: held }) => {
                        held == port_id
                    }
                    _ => false,
                };
                if !holds {
                    return fail(format!("{port_id:?} lists holder {name:#x} of {space:?} which does not hold it"));
                }
            }
            if let Some(set) = port.port_set {
                let in_set = self.port_set(set).is_some_and(|set_object| set_object.members.contains(&port_id));
                let receiver_matches = match (self.port_set(set), port.receiver) {
                    (Some(set_object), Receiver::Space { space, .. }) => set_object.space == space,
                    _ => false,
                };
                if !in_set || !receiver_matches {
                    return fail(format!("{port_id:?} is in {set:?} inconsistently"));
                }
                let listed = self.port_set(set).and_then(|set_object| set_object.ready_arrival.get(&port_id).copied());
                if listed != port.head_arrival() {
                    return fail(format!(
                        "{port_id:?}'s queue head arrived at {:?} but {set:?} lists it at {listed:?}",
                        port.head_arrival()
                    ));
                }
            }
            // A port in transit must be reachable: following the ports whose
            // queues hold it ends at a port that is not in transit.
            let mut current = port.receiver;
            for _ in 0..=self.ports.len() {
                match current {
                    Receiver::InTransit { queued_on: Some(next) } => match self.port(next) {
                        Some(next_port) => current = next_port.receiver,
                        None => return fail(format!("{port_id:?} is queued on the freed port {next:?}")),
                    },
                    _ => break,
                }
            }
            if matches!(current, Receiver::InTransit { queued_on: Some(_) }) {
                return fail(format!("{port_id:?} is in a cycle of ports queued inside each other"));
            }
            if port.queue_limit > mach_abi::MACH_PORT_QLIMIT_MAX {
                return fail(format!("{port_id:?} has queue limit {}", port.queue_limit));
            }
        }
        for (set_arena_id, set) in self.port_sets.iter() {
            if let Some(stray) = set.ready_arrival.keys().find(|port| !set.members.contains(port)) {
                return fail(format!("set {set_arena_id:?} lists {stray:?} as ready but not as a member"));
            }
            if set.ready.len() != set.ready_arrival.len()
                || set.ready_arrival.iter().any(|(port, arrival)| !set.ready.contains(&(*arrival, *port)))
            {
                return fail(format!("set {set_arena_id:?}'s ready order disagrees with its ready members"));
            }
            for member in set.members.iter() {
                if self.port(*member).and_then(|p| p.port_set) != Some(crate::PortSetId(set_arena_id)) {
                    return fail(format!("set {set_arena_id:?} lists {member:?} which is not in it"));
                }
            }
        }
        for (space_arena_id, space) in self.spaces.iter() {
            let space_id = SpaceId(space_arena_id);
            let (counted, bytes) = queued_by_space.get(&space_id).copied().unwrap_or((0, 0));
            if counted != space.queued_messages || bytes != space.queued_bytes {
                return fail(format!(
                    "{space_id:?} is charged {} queued messages of {} bytes, {counted} of {bytes} found",
                    space.queued_messages, space.queued_bytes
                ));
            }
        }
        Ok(())
    }
}
