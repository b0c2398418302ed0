//! Typed messages: writing inline fields and descriptors, reading them back
//! with every bound checked, and releasing the rights and memory a message
//! carries when nobody will take them.
//!
//! Inline layout (used by generated code; write it the same way by hand):
//! every field starts on a 4-byte boundary. Integers of 1, 2 or 4 bytes
//! take 4 bytes (little-endian, the unused high bytes zero), 8-byte
//! integers take 8; `bool` is a 4-byte 0 or 1. A byte array or string is a
//! `u32` length then the bytes, zero-padded to 4. An array of integers
//! (`array<u16, N>`) is a `u32` count then the elements *packed* at their
//! own size ([`Packed`]: 1, 2, 4 or 8 bytes; `bool` one byte 0 or 1),
//! zero-padded to 4; a fixed array inside a structure is the same without
//! the count. A structure ([`Record`]) is its fields in order, each by
//! these rules; an array of structures is a count then the structures.
//! Descriptors (port rights, out-of-line memory) come before all inline
//! data, in argument order; an optional port is a port descriptor whose
//! name may be `MACH_PORT_NULL`.

use mach_abi::{
    Descriptor, Disposition, EncodeError, MachMsgHeader, MessageEncoder, MessageView, PortName,
    MACH_MSG_TYPE_PORT_RECEIVE, MACH_MSG_TYPE_PORT_SEND, MACH_MSG_TYPE_PORT_SEND_ONCE,
};

use crate::kernel::{PortKernel, SystemKernel};

/// Why received bytes are not the message an interface expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// `mach_abi::parse_received` refused the buffer.
    Malformed(mach_abi::ParseError),
    /// The inline data ended inside a field.
    Truncated { offset: usize },
    /// A byte array or string is longer than its bound.
    TooLong { length: usize, bound: usize },
    /// A string is not UTF-8.
    NotUtf8 { offset: usize },
    /// A string holds a NUL byte (a C string could not carry it, so no
    /// server of either language accepts one).
    NulInString { offset: usize },
    /// A small integer's padding bytes are not zero, or it is out of range.
    BadInteger { offset: usize },
    /// A `bool` other than 0 or 1.
    BadBool { offset: usize },
    /// Inline bytes left after the last field (padding excepted).
    TrailingBytes { extra: usize },
    /// Not the number of descriptors the routine carries.
    DescriptorCount { expected: usize, found: usize },
    /// Descriptor `index` is not the kind (or right) the routine declares.
    DescriptorType { index: usize },
    /// A reply's id is not the request's id + [`crate::mig::REPLY_ID_OFFSET`].
    WrongReplyId { expected: i32, found: i32 },
    /// A request that expects a reply came without a reply port.
    MissingReplyPort,
}

/// Why a message could not be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteError {
    /// The encoder refused (buffer too small, message too large...).
    Encode(EncodeError),
    /// An argument is longer than the bound its interface declares.
    TooLong { length: usize, bound: usize },
    /// A string holds a NUL byte, which `string<N>` never carries.
    NulInString,
}

impl From<EncodeError> for WriteError {
    fn from(error: EncodeError) -> Self {
        WriteError::Encode(error)
    }
}

/// Builds one message: descriptors first, then inline fields.
pub struct MessageWriter<'a> {
    encoder: MessageEncoder<'a>,
}

impl<'a> MessageWriter<'a> {
    /// Starts a message in `buffer` with this header (`size` and the
    /// complex bit are computed by [`MessageWriter::finish`]).
    pub fn new(buffer: &'a mut [u8], header: MachMsgHeader) -> Self {
        MessageWriter { encoder: MessageEncoder::new(buffer, header, false) }
    }

    /// Appends a descriptor (a port right or out-of-line memory).
    pub fn descriptor(&mut self, descriptor: Descriptor) -> Result<(), WriteError> {
        self.encoder.descriptor(descriptor)?;
        Ok(())
    }

    /// Appends a `u32` field (also used for `u8`, `u16` and `bool`).
    pub fn u32(&mut self, value: u32) -> Result<(), WriteError> {
        self.encoder.inline_data(&value.to_le_bytes())?;
        Ok(())
    }

    /// Appends an `i32` field (also used for `i8` and `i16`, sign-extended
    /// to 32 bits).
    pub fn i32(&mut self, value: i32) -> Result<(), WriteError> {
        self.u32(value as u32)
    }

    /// Appends a `u64` field.
    pub fn u64(&mut self, value: u64) -> Result<(), WriteError> {
        self.encoder.inline_data(&value.to_le_bytes())?;
        Ok(())
    }

    /// Appends an `i64` field.
    pub fn i64(&mut self, value: i64) -> Result<(), WriteError> {
        self.u64(value as u64)
    }

    /// Appends a `bool` field.
    pub fn bool(&mut self, value: bool) -> Result<(), WriteError> {
        self.u32(value as u32)
    }

    /// Appends a byte array of at most `bound` bytes.
    pub fn bytes(&mut self, value: &[u8], bound: usize) -> Result<(), WriteError> {
        if value.len() > bound {
            return Err(WriteError::TooLong { length: value.len(), bound });
        }
        self.u32(value.len() as u32)?;
        self.encoder.inline_data(value)?;
        Ok(())
    }

    /// Appends a string of at most `bound` bytes of UTF-8, without NUL.
    pub fn string(&mut self, value: &str, bound: usize) -> Result<(), WriteError> {
        if value.as_bytes().contains(&0) {
            return Err(WriteError::NulInString);
        }
        self.bytes(value.as_bytes(), bound)
    }

    /// Appends `values` packed at their own size, zero-padded to 4 (a fixed
    /// array of a structure: no count).
    pub fn packed<T: Packed>(&mut self, values: &[T]) -> Result<(), WriteError> {
        // Elements are 1, 2, 4 or 8 bytes, so they fill whole chunks and
        // only the last, partial chunk is padded by the encoder.
        let mut chunk = [0u8; 64];
        let mut used = 0;
        for value in values {
            if used == chunk.len() {
                self.encoder.inline_data(&chunk)?;
                used = 0;
            }
            value.store(&mut chunk[used..used + T::SIZE]);
            used += T::SIZE;
        }
        if used > 0 {
            self.encoder.inline_data(&chunk[..used])?;
        }
        Ok(())
    }

    /// Appends an array of at most `bound` integers: the count, then the
    /// elements packed.
    pub fn packed_array<T: Packed>(&mut self, values: &[T], bound: usize) -> Result<(), WriteError> {
        if values.len() > bound {
            return Err(WriteError::TooLong { length: values.len(), bound });
        }
        self.u32(values.len() as u32)?;
        self.packed(values)
    }

    /// Appends `values`, structures one after the other (no count).
    pub fn records<T: Record>(&mut self, values: &[T]) -> Result<(), WriteError> {
        values.iter().try_for_each(|value| value.write(self))
    }

    /// Appends an array of at most `bound` structures: the count, then each.
    pub fn record_array<T: Record>(&mut self, values: &[T], bound: usize) -> Result<(), WriteError> {
        if values.len() > bound {
            return Err(WriteError::TooLong { length: values.len(), bound });
        }
        self.u32(values.len() as u32)?;
        self.records(values)
    }

    /// Writes the header; returns the message length in bytes.
    pub fn finish(self) -> Result<usize, WriteError> {
        Ok(self.encoder.finish()?)
    }
}

/// Reads inline fields in order, checking each bound; never panics.
pub struct InlineReader<'a> {
    data: &'a [u8],
    offset: usize,
}

impl<'a> InlineReader<'a> {
    /// Reads `data`, a message's inline bytes.
    pub fn new(data: &'a [u8]) -> Self {
        InlineReader { data, offset: 0 }
    }

    fn take(&mut self, length: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.offset.checked_add(length).ok_or(DecodeError::Truncated { offset: self.offset })?;
        let bytes = self.data.get(self.offset..end).ok_or(DecodeError::Truncated { offset: self.offset })?;
        self.offset = end;
        Ok(bytes)
    }

    /// A `u32` field.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    /// An `i32` field.
    pub fn i32(&mut self) -> Result<i32, DecodeError> {
        Ok(self.u32()? as i32)
    }

    /// A `u64` field.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        let low = self.u32()? as u64;
        let high = self.u32()? as u64;
        Ok(low | (high << 32))
    }

    /// An `i64` field.
    pub fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(self.u64()? as i64)
    }

    /// A `u8` field (4 bytes on the wire, the high three zero).
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        let offset = self.offset;
        u8::try_from(self.u32()?).map_err(|_| DecodeError::BadInteger { offset })
    }

    /// A `u16` field.
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        let offset = self.offset;
        u16::try_from(self.u32()?).map_err(|_| DecodeError::BadInteger { offset })
    }

    /// An `i8` field (sign-extended to 32 bits on the wire).
    pub fn i8(&mut self) -> Result<i8, DecodeError> {
        let offset = self.offset;
        i8::try_from(self.i32()?).map_err(|_| DecodeError::BadInteger { offset })
    }

    /// An `i16` field.
    pub fn i16(&mut self) -> Result<i16, DecodeError> {
        let offset = self.offset;
        i16::try_from(self.i32()?).map_err(|_| DecodeError::BadInteger { offset })
    }

    /// A `bool` field: 0 or 1.
    pub fn bool(&mut self) -> Result<bool, DecodeError> {
        let offset = self.offset;
        match self.u32()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError::BadBool { offset }),
        }
    }

    /// A byte array of at most `bound` bytes.
    pub fn bytes(&mut self, bound: usize) -> Result<&'a [u8], DecodeError> {
        let length = self.u32()? as usize;
        if length > bound {
            return Err(DecodeError::TooLong { length, bound });
        }
        let value = self.take(length)?;
        let padding = (4 - length % 4) % 4;
        self.take(padding)?;
        Ok(value)
    }

    /// A UTF-8 string of at most `bound` bytes, without NUL.
    pub fn string(&mut self, bound: usize) -> Result<&'a str, DecodeError> {
        let offset = self.offset;
        let bytes = self.bytes(bound)?;
        if bytes.contains(&0) {
            return Err(DecodeError::NulInString { offset });
        }
        core::str::from_utf8(bytes).map_err(|_| DecodeError::NotUtf8 { offset })
    }

    /// A byte array of at most `N` bytes, copied into a [`BoundedBytes`].
    pub fn bounded_bytes<const N: usize>(&mut self) -> Result<BoundedBytes<N>, DecodeError> {
        let value = self.bytes(N)?;
        BoundedBytes::from_slice(value).ok_or(DecodeError::TooLong { length: value.len(), bound: N })
    }

    /// A string of at most `N` bytes, copied into a [`BoundedString`].
    pub fn bounded_string<const N: usize>(&mut self) -> Result<BoundedString<N>, DecodeError> {
        let value = self.string(N)?;
        BoundedString::try_from_str(value).ok_or(DecodeError::TooLong { length: value.len(), bound: N })
    }

    /// `N` integers packed at their size and padded to 4 (a fixed array).
    pub fn packed<T: Packed, const N: usize>(&mut self) -> Result<[T; N], DecodeError> {
        let mut values = [T::default(); N];
        self.packed_into(&mut values)?;
        Ok(values)
    }

    /// An array of at most `N` integers: a count, then the elements packed.
    pub fn packed_array<T: Packed, const N: usize>(&mut self) -> Result<BoundedArray<T, N>, DecodeError> {
        let mut array = BoundedArray::new();
        self.packed_array_into(&mut array)?;
        Ok(array)
    }

    /// [`Self::packed_array`] into `array`, where the caller keeps it: a
    /// server's request arrays are decoded in place rather than moved (an
    /// `array<T, 1024>` is kilobytes).
    pub fn packed_array_into<T: Packed, const N: usize>(
        &mut self,
        array: &mut BoundedArray<T, N>,
    ) -> Result<(), DecodeError> {
        let count = self.u32()? as usize;
        if count > N {
            return Err(DecodeError::TooLong { length: count, bound: N });
        }
        self.packed_into(&mut array.items[..count])?;
        array.length = count;
        Ok(())
    }

    fn packed_into<T: Packed>(&mut self, values: &mut [T]) -> Result<(), DecodeError> {
        let offset = self.offset;
        let length = values.len().checked_mul(T::SIZE).ok_or(DecodeError::Truncated { offset })?;
        let bytes = self.take(length)?;
        self.take((4 - length % 4) % 4)?;
        for (index, (value, element)) in values.iter_mut().zip(bytes.chunks_exact(T::SIZE)).enumerate() {
            *value = T::load(element).ok_or(DecodeError::BadBool { offset: offset + index * T::SIZE })?;
        }
        Ok(())
    }

    /// `N` structures (a fixed array).
    pub fn records<T: Record, const N: usize>(&mut self) -> Result<[T; N], DecodeError> {
        let mut values = [T::default(); N];
        for value in values.iter_mut() {
            *value = T::read(self)?;
        }
        Ok(values)
    }

    /// An array of at most `N` structures: a count, then each.
    pub fn record_array<T: Record, const N: usize>(&mut self) -> Result<BoundedArray<T, N>, DecodeError> {
        let mut array = BoundedArray::new();
        self.record_array_into(&mut array)?;
        Ok(array)
    }

    /// [`Self::record_array`] into `array`, where the caller keeps it (see
    /// [`Self::packed_array_into`]).
    pub fn record_array_into<T: Record, const N: usize>(
        &mut self,
        array: &mut BoundedArray<T, N>,
    ) -> Result<(), DecodeError> {
        let count = self.u32()? as usize;
        if count > N {
            return Err(DecodeError::TooLong { length: count, bound: N });
        }
        for value in array.items[..count].iter_mut() {
            *value = T::read(self)?;
        }
        array.length = count;
        Ok(())
    }

    /// Checks that every inline byte was read.
    pub fn finish(self) -> Result<(), DecodeError> {
        match self.data.len() - self.offset {
            0 => Ok(()),
            extra => Err(DecodeError::TrailingBytes { extra }),
        }
    }
}

/// The kind of right a routine declares for a received port descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectedRight {
    Receive,
    Send,
    SendOnce,
}

impl ExpectedRight {
    /// The received type the kernel writes in the descriptor for this kind.
    pub const fn received_type(self) -> u32 {
        match self {
            ExpectedRight::Receive => MACH_MSG_TYPE_PORT_RECEIVE,
            ExpectedRight::Send => MACH_MSG_TYPE_PORT_SEND,
            ExpectedRight::SendOnce => MACH_MSG_TYPE_PORT_SEND_ONCE,
        }
    }

    /// The kind a sent disposition turns into at the receiver.
    pub const fn of_disposition(disposition: Disposition) -> ExpectedRight {
        match disposition.received_right() {
            mach_abi::PortRight::Receive => ExpectedRight::Receive,
            mach_abi::PortRight::SendOnce => ExpectedRight::SendOnce,
            _ => ExpectedRight::Send,
        }
    }
}

/// Checks a message's descriptor count.
pub fn expect_descriptor_count(view: &MessageView<'_>, expected: usize) -> Result<(), DecodeError> {
    match view.descriptor_count() {
        found if found == expected => Ok(()),
        found => Err(DecodeError::DescriptorCount { expected, found }),
    }
}

/// Checks that descriptor `index` is a port right of kind `expected` and
/// returns its name. A right to a port that died arrives as
/// `MACH_PORT_DEAD` and is accepted (sends through it fail); a NULL name is
/// refused, since every declared port argument carries a right.
pub fn expect_port(view: &MessageView<'_>, index: usize, expected: ExpectedRight) -> Result<PortName, DecodeError> {
    match view.descriptors().nth(index) {
        Some(Descriptor::Port { name, disposition })
            if disposition as u32 == expected.received_type() && name != mach_abi::MACH_PORT_NULL =>
        {
            Ok(name)
        }
        _ => Err(DecodeError::DescriptorType { index }),
    }
}

/// Like [`expect_port`] for an optional port: `MACH_PORT_NULL` (whatever
/// disposition the sender wrote with it) is `None`.
pub fn expect_optional_port(
    view: &MessageView<'_>,
    index: usize,
    expected: ExpectedRight,
) -> Result<Option<PortName>, DecodeError> {
    match view.descriptors().nth(index) {
        Some(Descriptor::Port { name: mach_abi::MACH_PORT_NULL, .. }) => Ok(None),
        Some(Descriptor::Port { name, disposition }) if disposition as u32 == expected.received_type() => {
            Ok(Some(name))
        }
        _ => Err(DecodeError::DescriptorType { index }),
    }
}

/// The descriptor of an absent optional port: `MACH_PORT_NULL` with the
/// routine's disposition (it carries no right).
pub const fn null_port(disposition: Disposition) -> Descriptor {
    Descriptor::Port { name: mach_abi::MACH_PORT_NULL, disposition }
}

/// Checks that descriptor `index` is out-of-line memory of at most `bound`
/// bytes; returns its address and size in the receiver. Memory the kernel
/// could not map (address 0 with a size) is refused.
pub fn expect_out_of_line(view: &MessageView<'_>, index: usize, bound: usize) -> Result<(u64, u32), DecodeError> {
    match view.descriptors().nth(index) {
        Some(Descriptor::OutOfLineMemory { address, size, .. }) => {
            if size as usize > bound {
                return Err(DecodeError::TooLong { length: size as usize, bound });
            }
            if address == 0 && size != 0 {
                return Err(DecodeError::DescriptorType { index });
            }
            Ok((address, size))
        }
        _ => Err(DecodeError::DescriptorType { index }),
    }
}

/// Releases everything a *received* message gave the task and nobody took:
/// the rights in its port descriptors and its out-of-line memory. Used when
/// a request or reply is refused; the reply port in the header is not
/// touched (the caller answers through it or releases it).
pub fn release_received<K: PortKernel>(kernel: &K, view: &MessageView<'_>) {
    for descriptor in view.descriptors() {
        match descriptor {
            Descriptor::Port { name, disposition } => release_right(kernel, name, disposition),
            Descriptor::OutOfLineMemory { address, size, .. } => {
                if address != 0 && size != 0 {
                    let _ = kernel.vm_deallocate(address, size as u64);
                }
            }
            Descriptor::OutOfLinePorts { address, count, .. } => {
                // Generated code never declares port arrays; the names in the
                // array cannot be read safely here, so only the array's
                // memory is returned and its rights stay in the space.
                if address != 0 && count != 0 {
                    let _ = kernel.vm_deallocate(address, count as u64 * 4);
                }
            }
        }
    }
}

/// Releases the rights a message *to be sent* moves (`MOVE_*`
/// dispositions) and the memory it moves (`deallocate`), after its send
/// failed: Mach left them in the task, and the values that owned them were
/// already given up to the message.
pub fn release_unsent<K: PortKernel>(kernel: &K, view: &MessageView<'_>) {
    for descriptor in view.descriptors() {
        match descriptor {
            Descriptor::Port { name, disposition }
                if matches!(
                    disposition,
                    Disposition::MoveReceive | Disposition::MoveSend | Disposition::MoveSendOnce
                ) =>
            {
                release_right(kernel, name, disposition)
            }
            // Memory the message was moving (sent with `deallocate`).
            Descriptor::OutOfLineMemory { address, size, deallocate: true, .. } if address != 0 && size != 0 => {
                let _ = kernel.vm_deallocate(address, size as u64);
            }
            _ => {}
        }
    }
}

fn release_right<K: PortKernel>(kernel: &K, name: PortName, disposition: Disposition) {
    if !mach_abi::port_name_is_valid(name) {
        return;
    }
    let _ = match disposition.received_right() {
        mach_abi::PortRight::Receive => kernel.port_mod_refs(name, mach_abi::PortRight::Receive, -1),
        _ => kernel.port_deallocate(name),
    };
}

/// A byte array of at most `N` bytes, held inline (no allocation), for
/// routine results.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct BoundedBytes<const N: usize> {
    bytes: [u8; N],
    length: usize,
}

impl<const N: usize> BoundedBytes<N> {
    /// Empty.
    pub const fn new() -> Self {
        BoundedBytes { bytes: [0; N], length: 0 }
    }

    /// A copy of `value`, or `None` if it is longer than `N`.
    pub fn from_slice(value: &[u8]) -> Option<Self> {
        let mut bounded = Self::new();
        bounded.bytes.get_mut(..value.len())?.copy_from_slice(value);
        bounded.length = value.len();
        Some(bounded)
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.length]
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.length
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }
}

impl<const N: usize> Default for BoundedBytes<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> core::fmt::Debug for BoundedBytes<N> {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self.as_slice(), formatter)
    }
}

mod sealed {
    pub trait Sealed {}
}

/// An integer type an array packs at its own size: `u8`, `u16`, `u32`,
/// `u64`, their signed twins, and `bool` (one byte, 0 or 1).
pub trait Packed: Copy + Default + sealed::Sealed {
    /// Bytes one element takes: 1, 2, 4 or 8.
    const SIZE: usize;
    /// Writes the element, little-endian, into `bytes` (`SIZE` long).
    fn store(self, bytes: &mut [u8]);
    /// The element in `bytes` (`SIZE` long), or `None` if it is not a
    /// value of the type (a `bool` other than 0 or 1).
    fn load(bytes: &[u8]) -> Option<Self>;
}

macro_rules! packed_integers {
    ($($integer:ty),*) => {$(
        impl sealed::Sealed for $integer {}
        impl Packed for $integer {
            const SIZE: usize = core::mem::size_of::<$integer>();
            fn store(self, bytes: &mut [u8]) {
                for (target, source) in bytes.iter_mut().zip(self.to_le_bytes()) {
                    *target = source;
                }
            }
            fn load(bytes: &[u8]) -> Option<Self> {
                Some(<$integer>::from_le_bytes(bytes.try_into().ok()?))
            }
        }
    )*};
}

packed_integers!(u8, u16, u32, u64, i8, i16, i32, i64);

impl sealed::Sealed for bool {}
impl Packed for bool {
    const SIZE: usize = 1;
    fn store(self, bytes: &mut [u8]) {
        if let Some(byte) = bytes.first_mut() {
            *byte = self as u8;
        }
    }
    fn load(bytes: &[u8]) -> Option<Self> {
        match bytes {
            [0] => Some(false),
            [1] => Some(true),
            _ => None,
        }
    }
}

/// A structure an interface declares (`struct NAME { ... };`): generated
/// code writes and reads it field by field, each field by the inline rules.
pub trait Record: Copy + Default {
    /// Appends the structure's fields.
    fn write(&self, writer: &mut MessageWriter<'_>) -> Result<(), WriteError>;
    /// Reads the structure's fields, checking each.
    fn read(reader: &mut InlineReader<'_>) -> Result<Self, DecodeError>;
}

/// At most `N` values, held inline (no allocation): an `array<T, N>`
/// result, or a request's array decoded before the server method sees it
/// as a slice.
#[derive(Clone, Copy)]
pub struct BoundedArray<T: Copy + Default, const N: usize> {
    items: [T; N],
    length: usize,
}

impl<T: Copy + Default, const N: usize> BoundedArray<T, N> {
    /// Empty.
    pub fn new() -> Self {
        BoundedArray { items: [T::default(); N], length: 0 }
    }

    /// A copy of `values`, or `None` if there are more than `N`.
    pub fn from_slice(values: &[T]) -> Option<Self> {
        let mut array = Self::new();
        array.items.get_mut(..values.len())?.copy_from_slice(values);
        array.length = values.len();
        Some(array)
    }

    /// Appends `value`; gives it back when the array is full.
    pub fn push(&mut self, value: T) -> Result<(), T> {
        match self.items.get_mut(self.length) {
            Some(slot) => {
                *slot = value;
                self.length += 1;
                Ok(())
            }
            None => Err(value),
        }
    }

    /// The values.
    pub fn as_slice(&self) -> &[T] {
        &self.items[..self.length]
    }

    /// The values, writable.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.items[..self.length]
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.length
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }
}

impl<T: Copy + Default, const N: usize> Default for BoundedArray<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy + Default + PartialEq, const N: usize> PartialEq for BoundedArray<T, N> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<T: Copy + Default + Eq, const N: usize> Eq for BoundedArray<T, N> {}

impl<T: Copy + Default + core::fmt::Debug, const N: usize> core::fmt::Debug for BoundedArray<T, N> {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self.as_slice(), formatter)
    }
}

/// A UTF-8 string of at most `N` bytes, held inline, for routine results.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct BoundedString<const N: usize> {
    bytes: BoundedBytes<N>,
}

impl<const N: usize> BoundedString<N> {
    /// Empty.
    pub const fn new() -> Self {
        BoundedString { bytes: BoundedBytes::new() }
    }

    /// A copy of `value`, or `None` if it is longer than `N` bytes.
    pub fn try_from_str(value: &str) -> Option<Self> {
        Some(BoundedString { bytes: BoundedBytes::from_slice(value.as_bytes())? })
    }

    /// The string.
    pub fn as_str(&self) -> &str {
        // Only ever built from a `&str`, so the bytes are UTF-8; the empty
        // fallback is unreachable but keeps this free of panics.
        core::str::from_utf8(self.bytes.as_slice()).unwrap_or("")
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl<const N: usize> core::fmt::Debug for BoundedString<N> {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self.as_str(), formatter)
    }
}

impl<const N: usize> core::fmt::Display for BoundedString<N> {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Describes `data` as out-of-line memory copied by the kernel at send
/// time (`MACH_MSG_PHYSICAL_COPY`, not deallocated): `data` must stay
/// borrowed until the send is done, as it is inside a client stub.
pub fn out_of_line_descriptor(data: &[u8], bound: usize) -> Result<Descriptor, WriteError> {
    if data.len() > bound {
        return Err(WriteError::TooLong { length: data.len(), bound });
    }
    let address = if data.is_empty() { 0 } else { data.as_ptr() as u64 };
    Ok(Descriptor::OutOfLineMemory {
        address,
        size: data.len() as u32,
        deallocate: false,
        copy: mach_abi::CopyOption::PhysicalCopy,
    })
}

/// Out-of-line memory the kernel mapped into this task for a received
/// message; deallocated (`vm_deallocate`) when dropped.
#[derive(Debug)]
pub struct OutOfLineData<K: PortKernel = SystemKernel> {
    address: u64,
    size: u32,
    kernel: K,
}

impl<K: PortKernel> OutOfLineData<K> {
    /// Adopts the region of a received descriptor (see [`expect_out_of_line`]).
    pub fn from_received(kernel: &K, address: u64, size: u32) -> Self {
        OutOfLineData { address, size, kernel: kernel.clone() }
    }

    /// New zeroed memory of `size` bytes (`vm_allocate`), to fill with
    /// [`OutOfLineData::bytes_mut`] and send in a message. An empty region
    /// allocates nothing.
    pub fn allocate(kernel: &K, size: u32) -> Result<Self, mach_abi::KernReturn> {
        let address = if size == 0 { 0 } else { kernel.vm_allocate(size as u64)? };
        Ok(OutOfLineData { address, size, kernel: kernel.clone() })
    }

    /// The bytes, writable.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        if self.size == 0 {
            return &mut [];
        }
        let Some(pointer) = self.kernel.out_of_line_pointer(self.address, self.size) else {
            return &mut [];
        };
        // SAFETY: 1. the kernel handle says `pointer` starts the live
        // region of `size` bytes mapped writable in this task; 2. this value
        // owns the region exclusively (allocated for it or received into it;
        // released only by `drop` or `moved`, both consuming); 3. `&mut self`
        // excludes every other slice of it for the returned lifetime.
        unsafe { core::slice::from_raw_parts_mut(pointer, self.size as usize) }
    }

    /// Describes moving the region into a message (`MACH_MSG_VIRTUAL_COPY`
    /// with `deallocate`: the pages leave this task, no bytes are copied);
    /// refused if it is longer than `bound`. Call [`OutOfLineData::moved`]
    /// once the message is handed over.
    pub fn descriptor_move(&self, bound: usize) -> Result<Descriptor, WriteError> {
        if self.size as usize > bound {
            return Err(WriteError::TooLong { length: self.size as usize, bound });
        }
        Ok(Descriptor::OutOfLineMemory {
            address: self.address,
            size: self.size,
            deallocate: self.size != 0,
            copy: mach_abi::CopyOption::VirtualCopy,
        })
    }

    /// The region left with a message: forget it without deallocating.
    pub fn moved(self) {
        core::mem::forget(self);
    }

    /// The bytes (empty for an empty region).
    pub fn bytes(&self) -> &[u8] {
        if self.size == 0 {
            return &[];
        }
        self.kernel.out_of_line_bytes(self.address, self.size).unwrap_or(&[])
    }

    /// Size in bytes.
    pub fn len(&self) -> usize {
        self.size as usize
    }

    /// True for an empty region.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// Where the kernel mapped it.
    pub fn address(&self) -> u64 {
        self.address
    }
}

impl<K: PortKernel> crate::rights::Moved for OutOfLineData<K> {
    fn moved(self) {
        OutOfLineData::moved(self)
    }
}

impl<K: PortKernel> Drop for OutOfLineData<K> {
    fn drop(&mut self) {
        if self.address != 0 && self.size != 0 {
            let _ = self.kernel.vm_deallocate(self.address, self.size as u64);
        }
    }
}
