//! The one macro behind every numbered enum of the ABI.
//!
//! Each enum gets its numeric conversions and its C name from a single list, so
//! the Rust values and the generated C header cannot drift apart.

/// Declares a `#[repr(u32)]` enum whose variants carry their C name and value.
///
/// Generates `as_u32`, `from_u32` (an error for unknown values, never a panic),
/// `c_name`, the `ALL` table and `TryFrom<u32>` / `From<Enum> for u32`.
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $value:expr => $c_name:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(u32)]
        pub enum $name {
            $( $(#[$variant_meta])* $variant = $value, )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )+ ];

            /// The numeric value on the wire / in a register.
            pub const fn as_u32(self) -> u32 {
                self as u32
            }

            /// The variant with this numeric value, if there is one.
            /// Inlined across crates: the kernel decodes every trap number
            /// with it.
            #[inline]
            pub const fn from_u32(value: u32) -> Option<$name> {
                match value {
                    $( v if v == $value => Some($name::$variant), )+
                    _ => None,
                }
            }

            /// The C spelling of this value (as in the generated header).
            pub const fn c_name(self) -> &'static str {
                match self {
                    $( $name::$variant => $c_name, )+
                }
            }
        }

        impl From<$name> for u32 {
            fn from(value: $name) -> u32 {
                value as u32
            }
        }

        impl TryFrom<u32> for $name {
            type Error = crate::UnknownValue;
            fn try_from(value: u32) -> Result<$name, crate::UnknownValue> {
                $name::from_u32(value).ok_or(crate::UnknownValue(value))
            }
        }
    };
}

pub(crate) use code_enum;
