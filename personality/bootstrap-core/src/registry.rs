//! The name service's table: name → send right.
//!
//! Invariants: every name is valid ([`check_name`]), names are unique, at
//! most [`ENTRIES_MAX`] entries exist. The table does not own the rights:
//! the caller deallocates a right the table hands back from
//! [`Registry::remove_right`].

/// The longest name, in bytes.
pub const NAME_LENGTH_MAX: usize = 64;
/// The most names registered at once.
pub const ENTRIES_MAX: usize = 64;

/// Why a registry operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistryError {
    /// Empty, longer than [`NAME_LENGTH_MAX`], or containing a NUL byte.
    InvalidName,
    /// Another right is registered under this name.
    NameInUse,
    /// Nothing is registered under this name.
    UnknownName,
    /// [`ENTRIES_MAX`] names are registered already.
    Full,
}

/// Checks that `name` may be registered or looked up.
pub fn check_name(name: &[u8]) -> Result<(), RegistryError> {
    if name.is_empty() || name.len() > NAME_LENGTH_MAX || name.contains(&0) {
        return Err(RegistryError::InvalidName);
    }
    Ok(())
}

struct Entry<Right> {
    name: [u8; NAME_LENGTH_MAX],
    length: usize,
    right: Right,
}

impl<Right> Entry<Right> {
    fn name(&self) -> &[u8] {
        &self.name[..self.length]
    }
}

/// Names and the rights registered under them, in a fixed table (no
/// allocation: it works in tasks without a heap).
pub struct Registry<Right> {
    entries: [Option<Entry<Right>>; ENTRIES_MAX],
}

impl<Right> Default for Registry<Right> {
    fn default() -> Self {
        Self { entries: core::array::from_fn(|_| None) }
    }
}

impl<Right: Copy + PartialEq> Registry<Right> {
    /// Registers `right` under `name`.
    pub fn register(&mut self, name: &[u8], right: Right) -> Result<(), RegistryError> {
        check_name(name)?;
        if self.iter().any(|entry| entry.name() == name) {
            return Err(RegistryError::NameInUse);
        }
        let slot = self.entries.iter_mut().find(|slot| slot.is_none()).ok_or(RegistryError::Full)?;
        let mut stored = [0u8; NAME_LENGTH_MAX];
        stored[..name.len()].copy_from_slice(name);
        *slot = Some(Entry { name: stored, length: name.len(), right });
        Ok(())
    }

    /// The right registered under `name`.
    pub fn lookup(&self, name: &[u8]) -> Result<Right, RegistryError> {
        check_name(name)?;
        self.iter().find(|entry| entry.name() == name).map(|entry| entry.right).ok_or(RegistryError::UnknownName)
    }

    /// True if some name maps to `right`.
    pub fn contains_right(&self, right: Right) -> bool {
        self.iter().any(|entry| entry.right == right)
    }

    /// Removes every name registered with `right` (it died); returns how
    /// many there were.
    pub fn remove_right(&mut self, right: Right) -> usize {
        let mut removed = 0;
        for slot in &mut self.entries {
            if slot.as_ref().is_some_and(|entry| entry.right == right) {
                *slot = None;
                removed += 1;
            }
        }
        removed
    }

    /// How many names are registered.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// True when nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    fn iter(&self) -> impl Iterator<Item = &Entry<Right>> {
        self.entries.iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_lookup_duplicate_unknown() {
        let mut registry = Registry::default();
        assert_eq!(registry.register(b"kv", 7u32), Ok(()));
        assert_eq!(registry.lookup(b"kv"), Ok(7));
        assert_eq!(registry.register(b"kv", 8), Err(RegistryError::NameInUse));
        assert_eq!(registry.lookup(b"kv"), Ok(7), "a refused registration changes nothing");
        assert_eq!(registry.lookup(b"nothing"), Err(RegistryError::UnknownName));
        assert_eq!(registry.lookup(b"k"), Err(RegistryError::UnknownName), "no prefix matches");
    }

    #[test]
    fn invalid_names_are_refused() {
        let mut registry = Registry::default();
        let long = [b'a'; NAME_LENGTH_MAX + 1];
        for name in [&b""[..], &long[..], b"a\0b"] {
            assert_eq!(registry.register(name, 1u32), Err(RegistryError::InvalidName));
            assert_eq!(registry.lookup(name), Err(RegistryError::InvalidName));
        }
        assert_eq!(registry.register(&long[..NAME_LENGTH_MAX], 1), Ok(()));
    }

    #[test]
    fn a_dead_right_frees_its_names() {
        let mut registry = Registry::default();
        registry.register(b"one", 5u32).unwrap();
        registry.register(b"two", 5).unwrap();
        registry.register(b"three", 6).unwrap();
        assert_eq!(registry.remove_right(5), 2);
        assert_eq!(registry.lookup(b"one"), Err(RegistryError::UnknownName));
        assert_eq!(registry.register(b"one", 9), Ok(()), "a restarted server registers again");
        assert_eq!(registry.lookup(b"three"), Ok(6));
        assert!(!registry.contains_right(5));
    }

    #[test]
    fn the_table_is_bounded() {
        let mut registry = Registry::default();
        for index in 0..ENTRIES_MAX {
            registry.register(alloc::format!("name{index}").as_bytes(), index as u32).unwrap();
        }
        assert_eq!(registry.register(b"one more", 1000), Err(RegistryError::Full));
        assert_eq!(registry.len(), ENTRIES_MAX);
    }
}
