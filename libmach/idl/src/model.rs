//! The interface model: what a `.defs` file says, checked.

/// A whole interface (one subsystem).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    /// The subsystem's name (snake_case): prefixes C names.
    pub name: String,
    /// Message id of the first routine; routine `i` has id `base + i`.
    pub base: i32,
    /// The errors routines may return.
    pub errors: Vec<ErrorCode>,
    /// The structures the interface declares, in definition order (a
    /// structure only uses structures declared before it).
    pub structs: Vec<Structure>,
    /// Routines in definition order, with their message ids.
    pub routines: Vec<Routine>,
    /// Number of ids used (routines and `skip`s).
    pub id_count: i32,
}

/// One error an interface declares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorCode {
    /// snake_case name.
    pub name: String,
    /// The code in the reply: positive.
    pub code: i32,
    /// What it means (the definition's string, may be empty).
    pub description: String,
}

/// A routine (request + reply) or simple routine (one-way request).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Routine {
    /// The `//` comment lines written right before it.
    pub doc: Vec<String>,
    /// snake_case name.
    pub name: String,
    /// Message id of the request (the reply's is id + 100).
    pub id: i32,
    /// False for a `simpleroutine`: no reply, no out arguments, no errors.
    pub has_reply: bool,
    /// Declared `deferrable`: the server method may keep the reply right
    /// and answer later.
    pub deferrable: bool,
    /// Arguments in definition order.
    pub arguments: Vec<Argument>,
    /// Names of the errors it may return.
    pub errors: Vec<String>,
}

/// One argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Argument {
    /// snake_case name.
    pub name: String,
    /// In the request (`In`) or in the reply (`Out`).
    pub direction: Direction,
    /// Its type.
    pub kind: Type,
}

/// Which message carries an argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    In,
    Out,
}

/// Fixed-size integer types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Integer {
    U8,
    U16,
    U32,
    U64,
    I8,
    I16,
    I32,
    I64,
    Bool,
}

/// How a port right travels (Mach's dispositions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortDisposition {
    MoveReceive,
    MoveSend,
    MoveSendOnce,
    CopySend,
    MakeSend,
    MakeSendOnce,
}

/// An argument's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    Integer(Integer),
    /// At most this many bytes, inline.
    Bytes(usize),
    /// At most this many bytes of UTF-8, inline.
    String(usize),
    /// A port right; an optional one may be `MACH_PORT_NULL`.
    Port {
        disposition: PortDisposition,
        optional: bool,
    },
    /// Out-of-line memory of at most this many bytes.
    OutOfLine(usize),
    /// A structure the interface declares, inline.
    Struct(StructRef),
    /// At most `bound` elements, inline: a count, then the elements.
    Array {
        element: Element,
        bound: usize,
    },
}

/// A reference to one of the interface's structures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StructRef {
    /// Its index in [`Interface::structs`].
    pub index: usize,
    /// Its bytes on the wire.
    pub wire_size: usize,
}

/// What an array holds: integers (packed at their size) or structures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Element {
    Integer(Integer),
    Struct(StructRef),
}

impl Element {
    /// Bytes one element takes on the wire (before the array's padding).
    pub const fn wire_size(self) -> usize {
        match self {
            Element::Integer(integer) => integer.packed_size(),
            Element::Struct(structure) => structure.wire_size,
        }
    }

    /// Bytes `count` elements take, padding included.
    pub const fn array_size(self, count: usize) -> usize {
        match self {
            Element::Integer(integer) => round_up_4(count * integer.packed_size()),
            Element::Struct(structure) => count * structure.wire_size,
        }
    }
}

/// A structure: integer, structure and fixed-array fields, sent inline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Structure {
    /// The `//` comment lines written right before it.
    pub doc: Vec<String>,
    /// snake_case name.
    pub name: String,
    /// Fields in definition order.
    pub fields: Vec<Field>,
    /// Its bytes on the wire (every field by the inline rules).
    pub wire_size: usize,
}

/// One field of a structure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// snake_case name.
    pub name: String,
    /// Its type.
    pub kind: FieldType,
}

/// A field's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    Integer(Integer),
    Struct(StructRef),
    /// Exactly `count` elements (no count on the wire).
    Array {
        element: Element,
        count: usize,
    },
}

impl FieldType {
    /// Bytes the field takes on the wire.
    pub const fn wire_size(self) -> usize {
        match self {
            FieldType::Integer(integer) => integer.wire_size(),
            FieldType::Struct(structure) => structure.wire_size,
            FieldType::Array { element, count } => element.array_size(count),
        }
    }
}

impl Integer {
    /// Bytes on the wire (every field takes a multiple of 4).
    pub const fn wire_size(self) -> usize {
        match self {
            Integer::U64 | Integer::I64 => 8,
            _ => 4,
        }
    }

    /// Bytes one element takes in an array (packed): 1, 2, 4 or 8.
    pub const fn packed_size(self) -> usize {
        match self {
            Integer::U8 | Integer::I8 | Integer::Bool => 1,
            Integer::U16 | Integer::I16 => 2,
            Integer::U32 | Integer::I32 => 4,
            Integer::U64 | Integer::I64 => 8,
        }
    }

    /// The `.defs` and Rust spelling.
    pub const fn rust_name(self) -> &'static str {
        match self {
            Integer::U8 => "u8",
            Integer::U16 => "u16",
            Integer::U32 => "u32",
            Integer::U64 => "u64",
            Integer::I8 => "i8",
            Integer::I16 => "i16",
            Integer::I32 => "i32",
            Integer::I64 => "i64",
            Integer::Bool => "bool",
        }
    }

    /// The C type.
    pub const fn c_name(self) -> &'static str {
        match self {
            Integer::U8 => "uint8_t",
            Integer::U16 => "uint16_t",
            Integer::U32 => "uint32_t",
            Integer::U64 => "uint64_t",
            Integer::I8 => "int8_t",
            Integer::I16 => "int16_t",
            Integer::I32 => "int32_t",
            Integer::I64 => "int64_t",
            Integer::Bool => "bool",
        }
    }

    /// Every integer type, for parsing.
    pub const ALL: [Integer; 9] = [
        Integer::U8,
        Integer::U16,
        Integer::U32,
        Integer::U64,
        Integer::I8,
        Integer::I16,
        Integer::I32,
        Integer::I64,
        Integer::Bool,
    ];
}

impl PortDisposition {
    /// The `.defs` spelling.
    pub const fn defs_name(self) -> &'static str {
        match self {
            PortDisposition::MoveReceive => "move_receive",
            PortDisposition::MoveSend => "move_send",
            PortDisposition::MoveSendOnce => "move_send_once",
            PortDisposition::CopySend => "copy_send",
            PortDisposition::MakeSend => "make_send",
            PortDisposition::MakeSendOnce => "make_send_once",
        }
    }

    /// Every disposition, for parsing.
    pub const ALL: [PortDisposition; 6] = [
        PortDisposition::MoveReceive,
        PortDisposition::MoveSend,
        PortDisposition::MoveSendOnce,
        PortDisposition::CopySend,
        PortDisposition::MakeSend,
        PortDisposition::MakeSendOnce,
    ];

    /// The `mach_abi::Disposition` variant name.
    pub const fn abi_variant(self) -> &'static str {
        match self {
            PortDisposition::MoveReceive => "MoveReceive",
            PortDisposition::MoveSend => "MoveSend",
            PortDisposition::MoveSendOnce => "MoveSendOnce",
            PortDisposition::CopySend => "CopySend",
            PortDisposition::MakeSend => "MakeSend",
            PortDisposition::MakeSendOnce => "MakeSendOnce",
        }
    }

    /// The C constant.
    pub const fn c_constant(self) -> &'static str {
        match self {
            PortDisposition::MoveReceive => "MACH_MSG_TYPE_MOVE_RECEIVE",
            PortDisposition::MoveSend => "MACH_MSG_TYPE_MOVE_SEND",
            PortDisposition::MoveSendOnce => "MACH_MSG_TYPE_MOVE_SEND_ONCE",
            PortDisposition::CopySend => "MACH_MSG_TYPE_COPY_SEND",
            PortDisposition::MakeSend => "MACH_MSG_TYPE_MAKE_SEND",
            PortDisposition::MakeSendOnce => "MACH_MSG_TYPE_MAKE_SEND_ONCE",
        }
    }

    /// The kind of right the receiver gets.
    pub const fn received(self) -> ReceivedRight {
        match self {
            PortDisposition::MoveReceive => ReceivedRight::Receive,
            PortDisposition::MoveSendOnce | PortDisposition::MakeSendOnce => ReceivedRight::SendOnce,
            _ => ReceivedRight::Send,
        }
    }

    /// True for the dispositions that give the sender's right away.
    pub const fn is_move(self) -> bool {
        matches!(self, PortDisposition::MoveReceive | PortDisposition::MoveSend | PortDisposition::MoveSendOnce)
    }
}

/// A right as the receiver holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReceivedRight {
    Receive,
    Send,
    SendOnce,
}

impl ReceivedRight {
    /// The libmach type.
    pub const fn rust_type(self) -> &'static str {
        match self {
            ReceivedRight::Receive => "ReceiveRight",
            ReceivedRight::Send => "SendRight",
            ReceivedRight::SendOnce => "SendOnceRight",
        }
    }

    /// The `libmach::message::ExpectedRight` variant.
    pub const fn expected_variant(self) -> &'static str {
        match self {
            ReceivedRight::Receive => "Receive",
            ReceivedRight::Send => "Send",
            ReceivedRight::SendOnce => "SendOnce",
        }
    }

    /// The C received-type constant.
    pub const fn c_received_type(self) -> &'static str {
        match self {
            ReceivedRight::Receive => "MACH_MSG_TYPE_PORT_RECEIVE",
            ReceivedRight::Send => "MACH_MSG_TYPE_PORT_SEND",
            ReceivedRight::SendOnce => "MACH_MSG_TYPE_PORT_SEND_ONCE",
        }
    }
}

impl Type {
    /// True when the argument travels as a descriptor.
    pub const fn is_descriptor(self) -> bool {
        matches!(self, Type::Port { .. } | Type::OutOfLine(_))
    }

    /// Largest number of inline bytes the argument takes.
    pub const fn inline_size_max(self) -> usize {
        match self {
            Type::Integer(integer) => integer.wire_size(),
            Type::Bytes(bound) | Type::String(bound) => 4 + round_up_4(bound),
            Type::Port { .. } | Type::OutOfLine(_) => 0,
            Type::Struct(structure) => structure.wire_size,
            Type::Array { element, bound } => 4 + element.array_size(bound),
        }
    }
}

/// `value` rounded up to a multiple of 4.
pub const fn round_up_4(value: usize) -> usize {
    value.div_ceil(4) * 4
}

impl Routine {
    /// Arguments of one direction, in order.
    pub fn arguments_of(&self, direction: Direction) -> impl Iterator<Item = &Argument> {
        self.arguments.iter().filter(move |argument| argument.direction == direction)
    }

    /// Largest size of the message carrying `direction`'s arguments
    /// (header, body, descriptors, the reply's return code, inline data).
    pub fn message_size_max(&self, direction: Direction) -> usize {
        let descriptors = self.arguments_of(direction).filter(|argument| argument.kind.is_descriptor()).count();
        let body = if descriptors > 0 { mach_abi::MACH_MSG_BODY_SIZE } else { 0 };
        let code = if direction == Direction::Out { 4 } else { 0 };
        let inline: usize = self.arguments_of(direction).map(|argument| argument.kind.inline_size_max()).sum();
        mach_abi::MACH_MSG_HEADER_SIZE + body + descriptors * mach_abi::MACH_MSG_DESCRIPTOR_SIZE + code + inline
    }

    /// Buffer a client needs: the larger message plus the trailer, rounded
    /// to 8 bytes.
    pub fn buffer_size(&self) -> usize {
        let largest = self.message_size_max(Direction::In).max(self.message_size_max(Direction::Out));
        (largest + mach_abi::MACH_MSG_TRAILER_SIZE).div_ceil(8) * 8
    }
}

impl Interface {
    /// Buffer a server needs for any request (with the audit trailer, which
    /// a server may ask for) or reply of the interface.
    pub fn buffer_size(&self) -> usize {
        let largest = self
            .routines
            .iter()
            .map(|routine| routine.message_size_max(Direction::In).max(routine.message_size_max(Direction::Out)))
            .max()
            .unwrap_or(0)
            // At least a reply carrying only a code (MIG_BAD_ID for an unknown id).
            .max(mach_abi::MACH_MSG_HEADER_SIZE + 4);
        (largest + mach_abi::MACH_MSG_AUDIT_TRAILER_SIZE).div_ceil(8) * 8
    }

    /// The structure `reference` names.
    pub fn structure(&self, reference: StructRef) -> &Structure {
        &self.structs[reference.index]
    }

    /// The error declared under `name`.
    pub fn error(&self, name: &str) -> Option<&ErrorCode> {
        self.errors.iter().find(|error| error.name == name)
    }
}

/// `snake_case` → `CamelCase`.
pub fn camel_case(name: &str) -> String {
    name.split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut characters = part.chars();
            match characters.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + characters.as_str(),
                None => String::new(),
            }
        })
        .collect()
}
