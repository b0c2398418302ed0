//! `struct termios` as minilibc's `<termios.h>` lays it out, its flag bits
//! and control characters, and the settings a console starts with.

/// Number of control characters (`NCCS`).
pub const NCCS: usize = 32;

/// `struct termios` (minilibc's layout, glibc's on x86_64: 60 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Termios {
    pub input_flags: u32,
    pub output_flags: u32,
    pub control_flags: u32,
    pub local_flags: u32,
    pub line: u8,
    pub control_characters: [u8; NCCS],
    pub input_speed: u32,
    pub output_speed: u32,
}

/// Byte size of [`Termios`].
pub const TERMIOS_SIZE: usize = 60;
const _: () = assert!(core::mem::size_of::<Termios>() == TERMIOS_SIZE);

/// Indices into [`Termios::control_characters`].
pub mod control {
    pub const VINTR: usize = 0;
    pub const VQUIT: usize = 1;
    pub const VERASE: usize = 2;
    pub const VKILL: usize = 3;
    pub const VEOF: usize = 4;
    pub const VTIME: usize = 5;
    pub const VMIN: usize = 6;
    pub const VSTART: usize = 8;
    pub const VSTOP: usize = 9;
    pub const VSUSP: usize = 10;
    pub const VEOL: usize = 11;
    pub const VREPRINT: usize = 12;
    pub const VWERASE: usize = 14;
    pub const VLNEXT: usize = 15;
    pub const VEOL2: usize = 16;
}

/// `c_iflag` bits.
pub mod input {
    pub const IGNBRK: u32 = 0o000001;
    pub const BRKINT: u32 = 0o000002;
    pub const ISTRIP: u32 = 0o000040;
    pub const INLCR: u32 = 0o000100;
    pub const IGNCR: u32 = 0o000200;
    pub const ICRNL: u32 = 0o000400;
    pub const IXON: u32 = 0o002000;
    pub const IXANY: u32 = 0o004000;
    pub const IMAXBEL: u32 = 0o020000;
    pub const IUTF8: u32 = 0o040000;
}

/// `c_oflag` bits.
pub mod output {
    pub const OPOST: u32 = 0o000001;
    pub const ONLCR: u32 = 0o000004;
    pub const OCRNL: u32 = 0o000010;
    pub const ONOCR: u32 = 0o000020;
    pub const ONLRET: u32 = 0o000040;
}

/// `c_cflag` bits this console reports (the UART's settings are fixed).
pub mod control_mode {
    pub const CS8: u32 = 0o000060;
    pub const CREAD: u32 = 0o000200;
    pub const CLOCAL: u32 = 0o004000;
    pub const B38400: u32 = 0o000017;
    pub const B115200: u32 = 0o010002;
}

/// `c_lflag` bits.
pub mod local {
    pub const ISIG: u32 = 0o000001;
    pub const ICANON: u32 = 0o000002;
    pub const ECHO: u32 = 0o000010;
    pub const ECHOE: u32 = 0o000020;
    pub const ECHOK: u32 = 0o000040;
    pub const ECHONL: u32 = 0o000100;
    pub const NOFLSH: u32 = 0o000200;
    pub const TOSTOP: u32 = 0o000400;
    pub const ECHOCTL: u32 = 0o001000;
    pub const ECHOKE: u32 = 0o004000;
    pub const IEXTEN: u32 = 0o100000;
}

/// The byte a control character is disabled with (`_POSIX_VDISABLE`).
pub const DISABLED: u8 = 0;

const fn control_key(letter: u8) -> u8 {
    letter & 0x1f
}

impl Termios {
    /// What a serial console starts with, as Linux sets up a tty: canonical
    /// input with echo and signals, CR read as NL, NL written as CR NL,
    /// 115200 baud 8N1.
    pub const fn console() -> Termios {
        let mut control_characters = [DISABLED; NCCS];
        control_characters[control::VINTR] = control_key(b'C');
        control_characters[control::VQUIT] = 0x1c; // ^\
        control_characters[control::VERASE] = 0x7f; // DEL
        control_characters[control::VKILL] = control_key(b'U');
        control_characters[control::VEOF] = control_key(b'D');
        control_characters[control::VTIME] = 0;
        control_characters[control::VMIN] = 1;
        control_characters[control::VSTART] = control_key(b'Q');
        control_characters[control::VSTOP] = control_key(b'S');
        control_characters[control::VSUSP] = control_key(b'Z');
        control_characters[control::VREPRINT] = control_key(b'R');
        control_characters[control::VWERASE] = control_key(b'W');
        control_characters[control::VLNEXT] = control_key(b'V');
        Termios {
            input_flags: input::ICRNL | input::IXON | input::IMAXBEL | input::IUTF8,
            output_flags: output::OPOST | output::ONLCR,
            control_flags: control_mode::CS8 | control_mode::CREAD | control_mode::CLOCAL | control_mode::B115200,
            local_flags: local::ISIG
                | local::ICANON
                | local::ECHO
                | local::ECHOE
                | local::ECHOK
                | local::ECHOCTL
                | local::ECHOKE
                | local::IEXTEN,
            line: 0,
            control_characters,
            input_speed: control_mode::B115200,
            output_speed: control_mode::B115200,
        }
    }

    /// True when `flag` of `c_lflag` is set.
    pub const fn local(&self, flag: u32) -> bool {
        self.local_flags & flag != 0
    }

    /// True when `flag` of `c_iflag` is set.
    pub const fn input(&self, flag: u32) -> bool {
        self.input_flags & flag != 0
    }

    /// True when output post-processing and `flag` of `c_oflag` are set.
    pub const fn output(&self, flag: u32) -> bool {
        self.output_flags & output::OPOST != 0 && self.output_flags & flag != 0
    }

    /// True when `byte` is the enabled control character at `index`.
    pub fn is(&self, index: usize, byte: u8) -> bool {
        let character = self.control_characters[index];
        character != DISABLED && character == byte
    }

    /// The record as the 60 bytes of `struct termios`.
    pub fn to_bytes(&self) -> [u8; TERMIOS_SIZE] {
        let mut bytes = [0u8; TERMIOS_SIZE];
        for (index, word) in
            [self.input_flags, self.output_flags, self.control_flags, self.local_flags].into_iter().enumerate()
        {
            bytes[index * 4..index * 4 + 4].copy_from_slice(&word.to_le_bytes());
        }
        bytes[16] = self.line;
        bytes[17..17 + NCCS].copy_from_slice(&self.control_characters);
        bytes[52..56].copy_from_slice(&self.input_speed.to_le_bytes());
        bytes[56..60].copy_from_slice(&self.output_speed.to_le_bytes());
        bytes
    }

    /// The record from the 60 bytes of `struct termios`.
    pub fn from_bytes(bytes: &[u8; TERMIOS_SIZE]) -> Termios {
        let word = |offset: usize| {
            u32::from_le_bytes([bytes[offset], bytes[offset + 1], bytes[offset + 2], bytes[offset + 3]])
        };
        let mut control_characters = [0u8; NCCS];
        control_characters.copy_from_slice(&bytes[17..17 + NCCS]);
        Termios {
            input_flags: word(0),
            output_flags: word(4),
            control_flags: word(8),
            local_flags: word(12),
            line: bytes[16],
            control_characters,
            input_speed: word(52),
            output_speed: word(56),
        }
    }
}

/// `struct winsize`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WindowSize {
    pub rows: u16,
    pub columns: u16,
    pub x_pixels: u16,
    pub y_pixels: u16,
}

impl WindowSize {
    /// A serial console's size until someone sets it (`stty`, a program
    /// that asked the terminal): 24 by 80.
    pub const fn console() -> WindowSize {
        WindowSize { rows: 24, columns: 80, x_pixels: 0, y_pixels: 0 }
    }
}
