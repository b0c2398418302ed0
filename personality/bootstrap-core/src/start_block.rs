//! The start block: what a program started by the bootstrap task finds at
//! its initial stack pointer (also passed in its second argument register).
//!
//! The System V initial stack, from the lowest address: `argc`; the
//! `argv` pointers and a null one; an empty `envp` (a null pointer); the
//! auxiliary vector, `(key, value)` pairs of `u64` ending with
//! `(AT_NULL, 0)`; then the argument strings, each NUL-terminated. The
//! block ends at the top of the stack and starts 16-byte aligned. See
//! `mach_abi::bootstrap` for the keys (`AT_MACH_BOOTSTRAP`, `AT_MACH_HOST`).

use mach_abi::AT_NULL;

/// Why a start block could not be laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartBlockError {
    /// It needs more bytes than the buffer holds.
    TooLarge { needed: usize },
    /// The stack top is not 16-byte aligned or too low to hold the block.
    BadStackTop,
}

/// A laid-out block: `buffer[..length]` goes at `address` in the program,
/// which is where its stack pointer starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StartBlock {
    pub address: u64,
    pub length: usize,
}

/// Lays out the start block of a program whose stack ends at `stack_top`
/// into `buffer`: `arguments` are `argv` (each an iterator of its bytes,
/// without NUL; the iterator is walked twice), `auxiliary` the vector's
/// pairs before `AT_NULL`.
pub fn write<I, A>(
    buffer: &mut [u8],
    stack_top: u64,
    arguments: I,
    auxiliary: &[(u64, u64)],
) -> Result<StartBlock, StartBlockError>
where
    I: IntoIterator<Item = A> + Clone,
    A: IntoIterator<Item = u8>,
{
    if !stack_top.is_multiple_of(16) {
        return Err(StartBlockError::BadStackTop);
    }
    let argc = arguments.clone().into_iter().count();
    let strings: usize = arguments.clone().into_iter().map(|argument| argument.into_iter().count() + 1).sum();
    let words = 1 + argc + 1 + 1 + 2 * (auxiliary.len() + 1);
    let length = (words * 8 + strings).next_multiple_of(16);
    if length > buffer.len() {
        return Err(StartBlockError::TooLarge { needed: length });
    }
    let address = stack_top.checked_sub(length as u64).ok_or(StartBlockError::BadStackTop)?;
    let block = &mut buffer[..length];
    block.fill(0);
    let mut word = 0;
    let mut put = |block: &mut [u8], value: u64| {
        block[word * 8..word * 8 + 8].copy_from_slice(&value.to_le_bytes());
        word += 1;
    };
    put(block, argc as u64);
    let mut string = words * 8;
    for argument in arguments.clone() {
        put(block, address + string as u64);
        for byte in argument {
            block[string] = byte;
            string += 1;
        }
        string += 1; // the NUL, already zero
    }
    put(block, 0); // argv's end
    put(block, 0); // envp: empty
    for &(key, value) in auxiliary.iter().chain(&[(AT_NULL, 0)]) {
        put(block, key);
        put(block, value);
    }
    Ok(StartBlock { address, length })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use mach_abi::{AT_MACH_BOOTSTRAP, AT_MACH_HOST, AT_PAGESZ};

    /// Reads a block back the way a program's runtime does.
    fn read(memory: &[u8], base: u64, address: u64) -> (Vec<Vec<u8>>, Vec<(u64, u64)>) {
        let word = |at: u64| u64::from_le_bytes(memory[(at - base) as usize..][..8].try_into().unwrap());
        let argc = word(address);
        let mut arguments = Vec::new();
        for index in 0..argc {
            let start = (word(address + 8 + index * 8) - base) as usize;
            let end = start + memory[start..].iter().position(|&byte| byte == 0).unwrap();
            arguments.push(memory[start..end].to_vec());
        }
        assert_eq!(word(address + 8 + argc * 8), 0, "argv ends with a null pointer");
        assert_eq!(word(address + 16 + argc * 8), 0, "envp is empty");
        let mut auxiliary = Vec::new();
        let mut at = address + 24 + argc * 8;
        loop {
            let pair = (word(at), word(at + 8));
            if pair.0 == AT_NULL {
                break;
            }
            auxiliary.push(pair);
            at += 16;
        }
        (arguments, auxiliary)
    }

    #[test]
    fn arguments_and_auxiliary_vector_read_back() {
        let mut buffer = [0xaa; 512];
        let top = 0x7000_0000_0000u64;
        let arguments: [&[u8]; 3] = [b"kv-server", b"two words", b""];
        let auxiliary = [(AT_PAGESZ, 4096), (AT_MACH_BOOTSTRAP, 0x100), (AT_MACH_HOST, 0x200)];
        let block =
            write(&mut buffer, top, arguments.iter().map(|argument| argument.iter().copied()), &auxiliary).unwrap();
        assert_eq!(block.address % 16, 0, "the stack pointer starts aligned");
        assert_eq!(block.address + block.length as u64, top, "the block ends at the stack top");
        let (got_arguments, got_auxiliary) = read(&buffer[..block.length], block.address, block.address);
        assert_eq!(got_arguments, arguments.map(<[u8]>::to_vec));
        assert_eq!(got_auxiliary, auxiliary);
    }

    #[test]
    fn a_block_too_large_for_the_buffer_is_refused() {
        let mut buffer = [0; 64];
        let long = [b'x'; 100];
        let result = write(&mut buffer, 0x1000, [long.iter().copied()], &[]);
        assert!(matches!(result, Err(StartBlockError::TooLarge { needed }) if needed > 64));
        let empty: [core::iter::Empty<u8>; 0] = [];
        assert_eq!(write(&mut buffer, 0x1008, empty, &[]), Err(StartBlockError::BadStackTop));
        assert_eq!(
            write(&mut buffer, 0, [long.iter().copied()].into_iter().take(0), &[]),
            Err(StartBlockError::BadStackTop)
        );
    }
}
