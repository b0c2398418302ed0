//! The mount table: which file system is mounted where.
//!
//! Each mount has a generational [`MountId`], so a reference kept past an
//! unmount finds nothing (`ESTALE`) instead of another file system. A mount
//! covers one directory of another mount (the root mount covers none);
//! path resolution crosses from a covered directory to the mount's root
//! going down, and from a mount's root to the covered directory going up
//! (`..`). A directory may be covered by one mount only; mounting on a
//! mount's root stacks the new mount on top.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::errno::Errno;
use crate::filesystem::FileSystem;
use crate::node::NodeId;

/// Most mounts at once (a bound on the table and on the crossing loops).
pub const MOUNTS_MAX: usize = 64;

/// Names a mount; stale once the mount is gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MountId {
    index: u32,
    generation: u32,
}

/// A node of a mounted file system: what a path resolves to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeRef {
    pub mount: MountId,
    pub node: NodeId,
}

/// How a file system is mounted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MountFlags {
    /// Refuse every change (`MS_RDONLY`).
    pub read_only: bool,
}

/// What a listing of the mounts shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountInfo {
    pub id: MountId,
    pub source: Vec<u8>,
    pub kind: &'static str,
    pub flags: MountFlags,
    pub device: u64,
    /// The directory the mount covers (`None` for the root mount).
    pub covered: Option<NodeRef>,
}

struct Mount {
    filesystem: Box<dyn FileSystem>,
    covered: Option<NodeRef>,
    flags: MountFlags,
    device: u64,
    source: Vec<u8>,
    root: NodeId,
}

/// Every mount.
pub struct MountTable {
    slots: Vec<(u32, Option<Mount>)>,
    /// Covered directory → the mount on it.
    points: BTreeMap<NodeRef, MountId>,
    root: MountId,
    /// Names found to lead to a covered directory: `(directory, name,
    /// covered)`, learned by resolution ([`MountTable::note_name`]) so that
    /// the next path through a mount point (`/tmp/...`, `/dev/...`) does not
    /// look the name up in its directory again (an ext2 directory block
    /// parsed each time, about 1,600 instructions). Sound because a mount
    /// point's name cannot change while it is covered: removing or renaming
    /// it, or renaming onto it, is `EBUSY` (`Vfs::check_removal`). At most
    /// one entry per mount; unmounting forgets the mount's entries.
    covered_names: Vec<(NodeRef, Vec<u8>, NodeRef)>,
}

impl MountTable {
    /// A table whose root mount is `filesystem`.
    pub fn new(filesystem: Box<dyn FileSystem>, flags: MountFlags, device: u64, source: &[u8]) -> Self {
        let root = filesystem.root();
        let mount = Mount { filesystem, covered: None, flags, device, source: source.to_vec(), root };
        MountTable {
            slots: alloc::vec![(0, Some(mount))],
            points: BTreeMap::new(),
            root: MountId { index: 0, generation: 0 },
            covered_names: Vec::new(),
        }
    }

    /// The covered directory `name` in `directory` was found to lead to
    /// before, if it is still covered (see `covered_names`).
    pub fn covered_child(&self, directory: NodeRef, name: &[u8]) -> Option<NodeRef> {
        self.covered_names
            .iter()
            .find(|(known, known_name, _)| *known == directory && known_name.as_slice() == name)
            .map(|&(_, _, covered)| covered)
    }

    /// Resolution found `name` in `directory` to be `child`: remembered if
    /// `child` is covered by a mount (nothing else is kept).
    pub fn note_name(&mut self, directory: NodeRef, name: &[u8], child: NodeRef) {
        if self.points.contains_key(&child) && self.covered_child(directory, name).is_none() {
            self.covered_names.push((directory, name.to_vec(), child));
        }
    }

    /// The root directory of the whole tree.
    pub fn root(&self) -> NodeRef {
        NodeRef { mount: self.root, node: self.entry(self.root).map_or(0, |mount| mount.root) }
    }

    fn entry(&self, id: MountId) -> Result<&Mount, Errno> {
        match self.slots.get(id.index as usize) {
            Some((generation, Some(mount))) if *generation == id.generation => Ok(mount),
            _ => Err(Errno::Stale),
        }
    }

    fn entry_mut(&mut self, id: MountId) -> Result<&mut Mount, Errno> {
        match self.slots.get_mut(id.index as usize) {
            Some((generation, Some(mount))) if *generation == id.generation => Ok(mount),
            _ => Err(Errno::Stale),
        }
    }

    /// The file system of a mount (`ESTALE` once unmounted).
    pub fn filesystem(&mut self, id: MountId) -> Result<&mut dyn FileSystem, Errno> {
        Ok(self.entry_mut(id)?.filesystem.as_mut())
    }

    /// True while `id` names a mount.
    pub fn is_mounted(&self, id: MountId) -> bool {
        self.entry(id).is_ok()
    }

    pub fn flags(&self, id: MountId) -> Result<MountFlags, Errno> {
        Ok(self.entry(id)?.flags)
    }

    /// `st_dev` of the mount's nodes.
    pub fn device(&self, id: MountId) -> Result<u64, Errno> {
        Ok(self.entry(id)?.device)
    }

    /// The mount's root directory.
    pub fn mount_root(&self, id: MountId) -> Result<NodeRef, Errno> {
        Ok(NodeRef { mount: id, node: self.entry(id)?.root })
    }

    /// `EROFS` when the mount or its file system refuses changes.
    pub fn check_writable(&self, id: MountId) -> Result<(), Errno> {
        let mount = self.entry(id)?;
        if mount.flags.read_only || mount.filesystem.is_read_only() {
            Err(Errno::ReadOnlyFileSystem)
        } else {
            Ok(())
        }
    }

    /// The mount covering `node`, if one does.
    pub fn mounted_on(&self, node: NodeRef) -> Option<MountId> {
        self.points.get(&node).copied()
    }

    /// True when `node` is a mount's root.
    pub fn is_mount_root(&self, node: NodeRef) -> bool {
        self.entry(node.mount).is_ok_and(|mount| mount.root == node.node)
    }

    /// Goes down through every mount stacked on `node`: the node a path
    /// naming `node` really reaches.
    pub fn cross_down(&self, mut node: NodeRef) -> NodeRef {
        for _ in 0..MOUNTS_MAX {
            match self.points.get(&node).and_then(|id| self.mount_root(*id).ok()) {
                Some(root) => node = root,
                None => break,
            }
        }
        node
    }

    /// The directory a mount's root covers, if `node` is a mount's root
    /// (`None` for ordinary nodes and the root mount's root).
    pub fn covered_by_root(&self, node: NodeRef) -> Option<NodeRef> {
        let mount = self.entry(node.mount).ok()?;
        if mount.root == node.node {
            mount.covered
        } else {
            None
        }
    }

    /// Mounts `filesystem` on the directory `target` (which must be what
    /// resolution reached: the top of any stack there).
    pub fn mount(
        &mut self,
        target: NodeRef,
        filesystem: Box<dyn FileSystem>,
        flags: MountFlags,
        device: u64,
        source: &[u8],
    ) -> Result<MountId, Errno> {
        self.entry(target.mount)?;
        if self.points.contains_key(&target) {
            return Err(Errno::Busy);
        }
        let live = self.slots.iter().filter(|(_, mount)| mount.is_some()).count();
        if live >= MOUNTS_MAX {
            return Err(Errno::NoSpace);
        }
        let root = filesystem.root();
        let mount = Mount { filesystem, covered: Some(target), flags, device, source: source.to_vec(), root };
        let index = match self.slots.iter().position(|(_, mount)| mount.is_none()) {
            Some(index) => index,
            None => {
                self.slots.push((0, None));
                self.slots.len() - 1
            }
        };
        self.slots[index].1 = Some(mount);
        let id = MountId { index: index as u32, generation: self.slots[index].0 };
        self.points.insert(target, id);
        Ok(id)
    }

    /// True when another mount sits on one of `id`'s directories.
    pub fn has_submounts(&self, id: MountId) -> bool {
        self.points.keys().any(|covered| covered.mount == id)
    }

    /// Takes the mount `id` out of the tree: it must not be the root mount
    /// (`EBUSY`) nor have mounts on it (`EBUSY`). The file system is
    /// unmounted (synced, marked clean); its id goes stale.
    pub fn unmount(&mut self, id: MountId) -> Result<(), Errno> {
        let mount = self.entry(id)?;
        if id == self.root || self.has_submounts(id) {
            return Err(Errno::Busy);
        }
        let covered = mount.covered;
        self.entry_mut(id)?.filesystem.unmount()?;
        if let Some(covered) = covered {
            self.points.remove(&covered);
            self.covered_names.retain(|&(_, _, known)| known != covered);
        }
        self.covered_names.retain(|&(directory, _, known)| directory.mount != id && known.mount != id);
        let slot = &mut self.slots[id.index as usize];
        slot.1 = None;
        slot.0 = slot.0.wrapping_add(1);
        Ok(())
    }

    /// Every live mount, root first.
    pub fn list(&self) -> Vec<MountInfo> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(index, (generation, mount))| {
                let mount = mount.as_ref()?;
                Some(MountInfo {
                    id: MountId { index: index as u32, generation: *generation },
                    source: mount.source.clone(),
                    kind: mount.filesystem.kind_name(),
                    flags: mount.flags,
                    device: mount.device,
                    covered: mount.covered,
                })
            })
            .collect()
    }

    /// The ids of every live mount (for syncing them all).
    pub fn ids(&self) -> Vec<MountId> {
        self.list().into_iter().map(|info| info.id).collect()
    }
}
