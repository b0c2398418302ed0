//! Return codes of the RPC layer itself, with MIG's values, and the reply id
//! rule. A reply carries a 32-bit return code first in its inline data: 0
//! for success, an interface's own error code (positive, chosen in its
//! definition), or one of these negative codes from the generated server.

/// The reply's id is the request's id plus this (MIG's rule).
pub const REPLY_ID_OFFSET: i32 = 100;

/// The server could not decode the request (MIG's `MIG_TYPE_ERROR`).
pub const MIG_TYPE_ERROR: i32 = -300;
/// The reply does not answer the request (`MIG_REPLY_MISMATCH`).
pub const MIG_REPLY_MISMATCH: i32 = -301;
/// The server does not implement the message id (`MIG_BAD_ID`).
pub const MIG_BAD_ID: i32 = -303;
/// The request's size, descriptors or fields are wrong (`MIG_BAD_ARGUMENTS`).
pub const MIG_BAD_ARGUMENTS: i32 = -304;
/// A result is larger than the interface allows (`MIG_ARRAY_TOO_LARGE`).
pub const MIG_ARRAY_TOO_LARGE: i32 = -307;
/// The server could not build its reply (`MIG_SERVER_DIED` is MIG's
/// nearest; Mach_R uses it for a reply that failed to encode).
pub const MIG_SERVER_DIED: i32 = -308;

/// The name of a MIG code, for messages.
pub const fn code_name(code: i32) -> &'static str {
    match code {
        0 => "KERN_SUCCESS",
        MIG_TYPE_ERROR => "MIG_TYPE_ERROR",
        MIG_REPLY_MISMATCH => "MIG_REPLY_MISMATCH",
        MIG_BAD_ID => "MIG_BAD_ID",
        MIG_BAD_ARGUMENTS => "MIG_BAD_ARGUMENTS",
        MIG_ARRAY_TOO_LARGE => "MIG_ARRAY_TOO_LARGE",
        MIG_SERVER_DIED => "MIG_SERVER_DIED",
        _ => "unknown code",
    }
}
