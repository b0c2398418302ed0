//! The server's arguments (the boot manifest's `-- ARGUMENT...`):
//!
//! | argument | default | what |
//! |---|---|---|
//! | `--root SERVICE` | `block` | the block driver's disk `/` is mounted from; `none`: a tmpfs root |
//! | `--tmp-size SIZE` | `16M` | what `/tmp` may hold |
//! | `--cache SIZE` | `4M` | each ext2 mount's block cache |
//! | `--cache-budget SIZE` | `12M` | cached data over every mount before it gives memory back |
//!
//! A SIZE is bytes, or a number with `K`, `M` or `G`. The defaults fit the
//! smallest machine the suite boots (32 MiB: a task may use 16 MiB);
//! larger machines raise them in the manifest.

use alloc::string::String;

/// What the arguments ask for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Configuration {
    /// The block service of the root disk (`None`: a tmpfs root).
    pub root: Option<String>,
    pub temporary_size: u64,
    pub cache_bytes: u64,
    pub cache_budget: u64,
}

impl Default for Configuration {
    fn default() -> Self {
        Configuration {
            root: Some(String::from("block")),
            temporary_size: 16 << 20,
            cache_bytes: 4 << 20,
            cache_budget: 12 << 20,
        }
    }
}

/// A bad argument, said with what was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgumentError(pub String);

fn size(text: &[u8]) -> Option<u64> {
    let (digits, multiplier) = match text.last()? {
        b'K' | b'k' => (&text[..text.len() - 1], 1u64 << 10),
        b'M' | b'm' => (&text[..text.len() - 1], 1 << 20),
        b'G' | b'g' => (&text[..text.len() - 1], 1 << 30),
        _ => (text, 1),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value: u64 = core::str::from_utf8(digits).ok()?.parse().ok()?;
    value.checked_mul(multiplier)
}

impl Configuration {
    /// Reads `arguments` (`argv[1..]`).
    pub fn parse<'a>(arguments: impl IntoIterator<Item = &'a [u8]>) -> Result<Self, ArgumentError> {
        let mut configuration = Configuration::default();
        let mut arguments = arguments.into_iter();
        while let Some(argument) = arguments.next() {
            let name = String::from_utf8_lossy(argument).into_owned();
            let mut value = || arguments.next().ok_or_else(|| ArgumentError(alloc::format!("{name} needs a value")));
            match argument {
                b"--root" => {
                    let service = value()?;
                    configuration.root = match service {
                        b"none" => None,
                        service => Some(String::from_utf8_lossy(service).into_owned()),
                    };
                }
                b"--tmp-size" | b"--cache" | b"--cache-budget" => {
                    let text = value()?;
                    let bytes = size(text).ok_or_else(|| {
                        ArgumentError(alloc::format!("{name}: `{}` is not a size", String::from_utf8_lossy(text)))
                    })?;
                    match argument {
                        b"--tmp-size" => configuration.temporary_size = bytes,
                        b"--cache" => configuration.cache_bytes = bytes,
                        _ => configuration.cache_budget = bytes,
                    }
                }
                _ => return Err(ArgumentError(alloc::format!("unknown argument `{name}`"))),
            }
        }
        Ok(configuration)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_set_what_they_name() {
        let parsed =
            Configuration::parse([&b"--root"[..], b"block1", b"--tmp-size", b"64M", b"--cache", b"512k"]).unwrap();
        assert_eq!(parsed.root.as_deref(), Some("block1"));
        assert_eq!(parsed.temporary_size, 64 << 20);
        assert_eq!(parsed.cache_bytes, 512 << 10);
        assert_eq!(parsed.cache_budget, Configuration::default().cache_budget);
        assert_eq!(Configuration::parse([&b"--root"[..], b"none"]).unwrap().root, None);
        assert_eq!(Configuration::parse(core::iter::empty()).unwrap(), Configuration::default());
    }

    #[test]
    fn bad_arguments_are_refused_with_a_reason() {
        assert!(Configuration::parse([&b"--cache"[..], b"lots"]).unwrap_err().0.contains("not a size"));
        assert!(Configuration::parse([&b"--cache"[..]]).unwrap_err().0.contains("needs a value"));
        assert!(Configuration::parse([&b"--fast"[..]]).unwrap_err().0.contains("unknown"));
        assert!(Configuration::parse([&b"--tmp-size"[..], b"99999999999999999G"]).is_err());
    }
}
