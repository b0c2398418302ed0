//! Shell variables: values, the export and read-only attributes, and the
//! environment handed to commands.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::syntax::is_name;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Variable {
    /// `None`: declared (by `export name` or `readonly name`) but unset.
    pub value: Option<Vec<u8>>,
    pub exported: bool,
    pub read_only: bool,
}

/// Variables set aside to be put back (after a temporary assignment, a
/// function's `local`s): each name with its earlier record, if any.
pub type SavedVariables = Vec<(Vec<u8>, Option<Variable>)>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VariableError {
    ReadOnly(Vec<u8>),
    /// Not a valid name to assign to.
    BadName(Vec<u8>),
}

#[derive(Clone, Debug, Default)]
pub struct Variables {
    table: BTreeMap<Vec<u8>, Variable>,
}

impl Variables {
    /// Variables from an environment ("NAME=value" entries; others are skipped), all exported.
    pub fn from_environment<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut variables = Variables::default();
        for entry in entries {
            let Some(equals) = entry.iter().position(|&byte| byte == b'=') else { continue };
            let name = &entry[..equals];
            if !is_name(name) {
                continue;
            }
            variables.table.insert(
                name.to_vec(),
                Variable { value: Some(entry[equals + 1..].to_vec()), exported: true, read_only: false },
            );
        }
        variables
    }

    pub fn get(&self, name: &[u8]) -> Option<&[u8]> {
        self.table.get(name).and_then(|variable| variable.value.as_deref())
    }

    pub fn variable(&self, name: &[u8]) -> Option<&Variable> {
        self.table.get(name)
    }

    pub fn set(&mut self, name: &[u8], value: &[u8]) -> Result<(), VariableError> {
        if !is_name(name) {
            return Err(VariableError::BadName(name.to_vec()));
        }
        let variable = self.table.entry(name.to_vec()).or_default();
        if variable.read_only {
            return Err(VariableError::ReadOnly(name.to_vec()));
        }
        variable.value = Some(value.to_vec());
        Ok(())
    }

    pub fn unset(&mut self, name: &[u8]) -> Result<(), VariableError> {
        match self.table.get(name) {
            Some(variable) if variable.read_only => Err(VariableError::ReadOnly(name.to_vec())),
            Some(_) => {
                self.table.remove(name);
                Ok(())
            }
            None => Ok(()),
        }
    }

    pub fn export(&mut self, name: &[u8]) -> Result<(), VariableError> {
        if !is_name(name) {
            return Err(VariableError::BadName(name.to_vec()));
        }
        self.table.entry(name.to_vec()).or_default().exported = true;
        Ok(())
    }

    pub fn make_read_only(&mut self, name: &[u8]) -> Result<(), VariableError> {
        if !is_name(name) {
            return Err(VariableError::BadName(name.to_vec()));
        }
        self.table.entry(name.to_vec()).or_default().read_only = true;
        Ok(())
    }

    /// Replaces a variable's whole record (restoring one saved before a
    /// temporary assignment or a `local`); `None` removes it.
    pub fn restore(&mut self, name: &[u8], saved: Option<Variable>) {
        match saved {
            Some(variable) => {
                self.table.insert(name.to_vec(), variable);
            }
            None => {
                self.table.remove(name);
            }
        }
    }

    /// Every variable, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Variable)> {
        self.table.iter().map(|(name, variable)| (name.as_slice(), variable))
    }

    /// The environment for a command: exported variables with values, then
    /// `extra` ("NAME=value", overriding).
    pub fn environment(&self, extra: &[(Vec<u8>, Vec<u8>)]) -> Vec<Vec<u8>> {
        let mut entries = Vec::new();
        for (name, variable) in &self.table {
            if !variable.exported || extra.iter().any(|(extra_name, _)| extra_name == name) {
                continue;
            }
            if let Some(value) = &variable.value {
                entries.push(entry(name, value));
            }
        }
        for (name, value) in extra {
            entries.push(entry(name, value));
        }
        entries
    }
}

fn entry(name: &[u8], value: &[u8]) -> Vec<u8> {
    let mut entry = Vec::with_capacity(name.len() + value.len() + 1);
    entry.extend_from_slice(name);
    entry.push(b'=');
    entry.extend_from_slice(value);
    entry
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_round_trip() {
        let mut variables = Variables::from_environment([&b"HOME=/root"[..], b"BAD-NAME=x", b"NOEQUALS", b"E="]);
        assert_eq!(variables.get(b"HOME"), Some(&b"/root"[..]));
        assert_eq!(variables.get(b"E"), Some(&b""[..]));
        assert_eq!(variables.get(b"BAD-NAME"), None);
        variables.set(b"local", b"1").unwrap();
        variables.set(b"HOME", b"/home").unwrap();
        assert_eq!(variables.environment(&[(b"X".to_vec(), b"y".to_vec())]), [&b"E="[..], b"HOME=/home", b"X=y"]);
        variables.export(b"local").unwrap();
        variables.export(b"declared").unwrap();
        assert_eq!(
            variables.environment(&[(b"HOME".to_vec(), b"/tmp".to_vec())]),
            [&b"E="[..], b"local=1", b"HOME=/tmp"]
        );
    }

    #[test]
    fn read_only_variables_refuse_changes() {
        let mut variables = Variables::default();
        variables.set(b"x", b"1").unwrap();
        variables.make_read_only(b"x").unwrap();
        assert_eq!(variables.set(b"x", b"2"), Err(VariableError::ReadOnly(b"x".to_vec())));
        assert_eq!(variables.unset(b"x"), Err(VariableError::ReadOnly(b"x".to_vec())));
        assert_eq!(variables.get(b"x"), Some(&b"1"[..]));
        assert_eq!(variables.set(b"1x", b"2"), Err(VariableError::BadName(b"1x".to_vec())));
    }
}
