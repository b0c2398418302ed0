//! Process life: the entry crt0 calls, constructors, `exit`/`atexit`,
//! `abort`, the environment, and `setjmp`/`longjmp`.

use super::memory::{free, malloc, memcpy};
use super::{c_string, c_string_length, set_errno, CGlobal};
use crate::errno_table::{EINVAL, ENOMEM};
use crate::platform;
use alloc::vec::Vec;
use core::ptr;

/// `char **environ`.
#[no_mangle]
pub static environ: CGlobal<*mut *mut u8> = CGlobal::new(ptr::null_mut());
/// The array we allocated when the environment was first changed.
static OWNED_ENVIRONMENT: CGlobal<*mut *mut u8> = CGlobal::new(ptr::null_mut());
static PROGRAM_NAME: CGlobal<*mut u8> = CGlobal::new(ptr::null_mut());

#[no_mangle]
pub static program_invocation_name: CGlobal<*mut u8> = CGlobal::new(ptr::null_mut());

/// Thread control block for `%fs`: word 0 points to itself and offset 0x28
/// holds the stack-protector canary, where gcc's code expects them.
static THREAD_BLOCK: CGlobal<[usize; 16]> = CGlobal::new([0; 16]);

extern "C" {
    fn main(argument_count: i32, arguments: *mut *mut u8, environment: *mut *mut u8) -> i32;
    static __preinit_array_start: [Option<unsafe extern "C" fn()>; 0];
    static __preinit_array_end: [Option<unsafe extern "C" fn()>; 0];
    static __init_array_start: [Option<unsafe extern "C" fn()>; 0];
    static __init_array_end: [Option<unsafe extern "C" fn()>; 0];
    static __fini_array_start: [Option<unsafe extern "C" fn()>; 0];
    static __fini_array_end: [Option<unsafe extern "C" fn()>; 0];
}

/// Runs the function pointers in `[start, end)`, forwards or backwards.
///
/// # Safety
/// The range must be a linker-built array of constructor pointers.
unsafe fn run_array(
    start: *const Option<unsafe extern "C" fn()>,
    end: *const Option<unsafe extern "C" fn()>,
    backwards: bool,
) {
    let count = (end as usize - start as usize) / core::mem::size_of::<usize>();
    for step in 0..count {
        let index = if backwards { count - 1 - step } else { step };
        // SAFETY: per the contract, each slot is a function or null.
        if let Some(function) = unsafe { *start.add(index) } {
            // SAFETY: constructors take no arguments.
            unsafe { function() };
        }
    }
}

/// Called by crt0's `_start` with the initial stack pointer (argc, argv...,
/// NULL, envp..., NULL, auxv). The stack is already 16-byte aligned.
///
/// # Safety
/// `stack` must be the kernel-built initial process stack.
#[no_mangle]
pub unsafe extern "C" fn __minilibc_start(stack: *const usize) -> ! {
    // SAFETY: the kernel's initial stack layout, per the contract.
    unsafe {
        // The system's own set-up first (Mach_R: ports, descriptors, signal state).
        platform::start(stack);
        let argument_count = *stack as i32;
        let arguments = stack.add(1) as *mut *mut u8;
        let environment = arguments.add(argument_count as usize + 1);
        environ.set(environment);
        if argument_count > 0 {
            PROGRAM_NAME.set(*arguments);
            program_invocation_name.set(*arguments);
        }
        let block = THREAD_BLOCK.as_ptr() as *mut usize;
        *block = block as usize;
        *block.add(5) = (stack as usize).rotate_left(17) ^ 0x5a5a_3c3c_9696_0f0f;
        let _ = platform::set_thread_pointer(block as *mut u8);
        super::stdio::initialize_standard_streams();
        run_array(__preinit_array_start.as_ptr(), __preinit_array_end.as_ptr(), false);
        run_array(__init_array_start.as_ptr(), __init_array_end.as_ptr(), false);
        let status = main(argument_count, arguments, environment);
        exit(status)
    }
}

enum ExitHandler {
    Plain(extern "C" fn()),
    WithArgument(extern "C" fn(*mut u8), *mut u8),
}

static EXIT_HANDLERS: CGlobal<Option<*mut Vec<ExitHandler>>> = CGlobal::new(None);

fn register_exit_handler(handler: ExitHandler) -> i32 {
    let list = match EXIT_HANDLERS.get() {
        Some(list) => list,
        None => {
            let list = alloc::boxed::Box::into_raw(alloc::boxed::Box::new(Vec::new()));
            EXIT_HANDLERS.set(Some(list));
            list
        }
    };
    // SAFETY: the list is only touched here and in `exit`, single-threaded.
    unsafe { (*list).push(handler) };
    0
}

#[no_mangle]
pub extern "C" fn atexit(function: extern "C" fn()) -> i32 {
    register_exit_handler(ExitHandler::Plain(function))
}

#[no_mangle]
pub extern "C" fn __cxa_atexit(function: extern "C" fn(*mut u8), argument: *mut u8, _dso: *mut u8) -> i32 {
    register_exit_handler(ExitHandler::WithArgument(function, argument))
}

#[no_mangle]
pub extern "C" fn exit(status: i32) -> ! {
    if let Some(list) = EXIT_HANDLERS.get() {
        // Handlers may register more handlers or call exit again (undefined in
        // C); popping one at a time keeps both from looping forever.
        // SAFETY: single-threaded access to the list.
        while let Some(handler) = unsafe { (*list).pop() } {
            match handler {
                ExitHandler::Plain(function) => function(),
                ExitHandler::WithArgument(function, argument) => function(argument),
            }
        }
    }
    // SAFETY: the linker-built destructor array.
    unsafe { run_array(__fini_array_start.as_ptr(), __fini_array_end.as_ptr(), true) };
    super::stdio::flush_all_streams();
    platform::exit_group(status)
}

#[no_mangle]
pub extern "C" fn _exit(status: i32) -> ! {
    platform::exit_group(status)
}

#[no_mangle]
pub extern "C" fn _Exit(status: i32) -> ! {
    platform::exit_group(status)
}

#[no_mangle]
pub extern "C" fn abort() -> ! {
    const SIGABRT: i32 = 6;
    let _ = platform::kill(platform::getpid(), SIGABRT);
    // The signal was caught and the handler returned: reset it and retry.
    let _ = platform::sigaction(SIGABRT, Some(platform::SignalAction::default()));
    // SAFETY: a valid mask; the old mask is not wanted.
    unsafe {
        let unblock = 1u64 << (SIGABRT - 1);
        let _ = platform::sigprocmask(1, &unblock, ptr::null_mut());
    }
    let _ = platform::kill(platform::getpid(), SIGABRT);
    platform::exit_group(127)
}

#[no_mangle]
pub extern "C" fn __stack_chk_fail() -> ! {
    let message = b"minilibc: stack smashing detected\n";
    // SAFETY: a valid buffer.
    let _ = unsafe { platform::write(2, message.as_ptr(), message.len()) };
    abort()
}

#[no_mangle]
pub unsafe extern "C" fn __assert_fail(expression: *const u8, file: *const u8, line: u32, function: *const u8) -> ! {
    // SAFETY: the assert macro passes string literals.
    unsafe {
        super::stdio::flush_all_streams();
        let mut message: Vec<u8> = Vec::new();
        let name = PROGRAM_NAME.get();
        if !name.is_null() {
            message.extend_from_slice(c_string(name));
            message.extend_from_slice(b": ");
        }
        message.extend_from_slice(c_string(file));
        message.extend_from_slice(alloc::format!(":{}: ", line).as_bytes());
        if !function.is_null() {
            message.extend_from_slice(c_string(function));
            message.extend_from_slice(b": ");
        }
        message.extend_from_slice(b"Assertion `");
        message.extend_from_slice(c_string(expression));
        message.extend_from_slice(b"' failed.\n");
        let _ = platform::write(2, message.as_ptr(), message.len());
    }
    abort()
}

/// Index of the entry for `name` (the part before '=') in `environ`.
///
/// # Safety
/// `environ` must be a valid NULL-terminated array of NUL-terminated strings.
unsafe fn find_variable(name: &[u8]) -> Option<usize> {
    let table = environ.get();
    if table.is_null() {
        return None;
    }
    let mut index = 0;
    // SAFETY: environ is a NULL-terminated array of NUL-terminated strings.
    unsafe {
        loop {
            let entry = *table.add(index);
            if entry.is_null() {
                return None;
            }
            let text = c_string(entry);
            if text.len() > name.len() && text[name.len()] == b'=' && &text[..name.len()] == name {
                return Some(index);
            }
            index += 1;
        }
    }
}

/// # Safety
/// As `find_variable`.
unsafe fn environment_length() -> usize {
    let table = environ.get();
    let mut count = 0;
    // SAFETY: NULL-terminated array.
    unsafe {
        while !table.is_null() && !(*table.add(count)).is_null() {
            count += 1;
        }
    }
    count
}

#[no_mangle]
pub unsafe extern "C" fn getenv(name: *const u8) -> *mut u8 {
    // SAFETY: NUL-terminated name; environ entries are valid.
    unsafe {
        let name = c_string(name);
        match find_variable(name) {
            Some(index) => (*environ.get().add(index)).add(name.len() + 1),
            None => ptr::null_mut(),
        }
    }
}

/// Puts `entry` ("NAME=value", kept by pointer) in the environment.
///
/// # Safety
/// As `find_variable`; `entry` must stay valid while it is in the environment.
unsafe fn install_entry(name: &[u8], entry: *mut u8) -> i32 {
    // SAFETY: environ is valid; we only write to arrays we allocated.
    unsafe {
        if let Some(index) = find_variable(name) {
            if environ.get() != OWNED_ENVIRONMENT.get() && copy_environment(0) != 0 {
                return -1;
            }
            *environ.get().add(index) = entry;
            return 0;
        }
        let count = environment_length();
        if copy_environment(1) != 0 {
            return -1;
        }
        let table = environ.get();
        *table.add(count) = entry;
        *table.add(count + 1) = ptr::null_mut();
        0
    }
}

/// Moves the environment into a malloc'ed array with `extra` spare slots.
///
/// # Safety
/// As `find_variable`.
unsafe fn copy_environment(extra: usize) -> i32 {
    // SAFETY: environ is a valid NULL-terminated array.
    unsafe {
        let count = environment_length();
        let table = malloc((count + 1 + extra) * 8) as *mut *mut u8;
        if table.is_null() {
            set_errno(ENOMEM);
            return -1;
        }
        if count > 0 {
            memcpy(table as *mut u8, environ.get() as *const u8, count * 8);
        }
        *table.add(count) = ptr::null_mut();
        let previous = OWNED_ENVIRONMENT.get();
        environ.set(table);
        OWNED_ENVIRONMENT.set(table);
        free(previous as *mut u8);
        0
    }
}

fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && !name.contains(&b'=')
}

#[no_mangle]
pub unsafe extern "C" fn setenv(name: *const u8, value: *const u8, overwrite: i32) -> i32 {
    if name.is_null() || value.is_null() {
        set_errno(EINVAL);
        return -1;
    }
    // SAFETY: NUL-terminated arguments.
    unsafe {
        let name_bytes = c_string(name);
        if !valid_name(name_bytes) {
            set_errno(EINVAL);
            return -1;
        }
        if overwrite == 0 && find_variable(name_bytes).is_some() {
            return 0;
        }
        let value_bytes = c_string(value);
        let entry = malloc(name_bytes.len() + value_bytes.len() + 2);
        if entry.is_null() {
            return -1;
        }
        memcpy(entry, name, name_bytes.len());
        *entry.add(name_bytes.len()) = b'=';
        memcpy(entry.add(name_bytes.len() + 1), value, value_bytes.len() + 1);
        install_entry(name_bytes, entry)
    }
}

#[no_mangle]
pub unsafe extern "C" fn putenv(entry: *mut u8) -> i32 {
    // SAFETY: NUL-terminated.
    unsafe {
        let text = c_string(entry);
        match text.iter().position(|&b| b == b'=') {
            Some(split) if split > 0 => install_entry(&text[..split], entry),
            _ => unsetenv(entry),
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn unsetenv(name: *const u8) -> i32 {
    // SAFETY: NUL-terminated name; environ valid.
    unsafe {
        if name.is_null() || !valid_name(c_string(name)) {
            set_errno(EINVAL);
            return -1;
        }
        let name_bytes = c_string(name);
        while let Some(index) = find_variable(name_bytes) {
            if environ.get() != OWNED_ENVIRONMENT.get() && copy_environment(0) != 0 {
                return -1;
            }
            let table = environ.get();
            let count = environment_length();
            for slot in index..count {
                *table.add(slot) = *table.add(slot + 1);
            }
        }
        0
    }
}

#[no_mangle]
pub unsafe extern "C" fn clearenv() -> i32 {
    // SAFETY: our own array or the original; we only replace the pointer.
    unsafe {
        if copy_environment(0) != 0 {
            return -1;
        }
        *environ.get() = ptr::null_mut();
    }
    0
}

/// The words of saved registers at the start of a `jmp_buf` (<setjmp.h>);
/// the sigsetjmp "mask saved" flag and the mask follow.
#[cfg(target_arch = "x86_64")]
const JMP_BUF_REGISTERS: usize = 8;
#[cfg(target_arch = "aarch64")]
const JMP_BUF_REGISTERS: usize = 22;

// setjmp/longjmp: jmp_buf holds rbx, rbp, r12-r15, the caller's rsp and the
// return address (8 words), then the sigsetjmp "mask saved" flag and mask.
#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".globl setjmp", ".globl _setjmp", ".type setjmp,@function", ".type _setjmp,@function",
    "setjmp:", "_setjmp:",
    "mov [rdi], rbx", "mov [rdi+8], rbp", "mov [rdi+16], r12", "mov [rdi+24], r13",
    "mov [rdi+32], r14", "mov [rdi+40], r15",
    "lea rdx, [rsp+8]", "mov [rdi+48], rdx",
    "mov rdx, [rsp]", "mov [rdi+56], rdx",
    "xor eax, eax", "ret",
    ".globl longjmp", ".globl _longjmp", ".type longjmp,@function", ".type _longjmp,@function",
    "longjmp:", "_longjmp:",
    "mov eax, esi", "test eax, eax", "jnz 2f", "inc eax", "2:",
    "mov rbx, [rdi]", "mov rbp, [rdi+8]", "mov r12, [rdi+16]", "mov r13, [rdi+24]",
    "mov r14, [rdi+32]", "mov r15, [rdi+40]", "mov rsp, [rdi+48]",
    "jmp qword ptr [rdi+56]",
    ".globl sigsetjmp", ".type sigsetjmp,@function",
    "sigsetjmp:",
    "mov [rdi+64], esi", "test esi, esi", "jz setjmp",
    "push rdi", "call {save}", "pop rdi", "jmp setjmp",
    ".globl __sigsetjmp", "__sigsetjmp = sigsetjmp",
    save = sym save_signal_mask,
);

// aarch64: jmp_buf holds x19-x28, x29, x30 (the return address), the
// caller's sp and d8-d15 (22 words), then the flag (word 22) and the mask
// (word 23). longjmp returns `value`, or 1 for 0.
#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".globl setjmp", ".globl _setjmp", ".type setjmp,@function", ".type _setjmp,@function",
    "setjmp:", "_setjmp:",
    "stp x19, x20, [x0]", "stp x21, x22, [x0, #16]", "stp x23, x24, [x0, #32]",
    "stp x25, x26, [x0, #48]", "stp x27, x28, [x0, #64]", "stp x29, x30, [x0, #80]",
    "mov x2, sp", "str x2, [x0, #96]",
    "stp d8, d9, [x0, #104]", "stp d10, d11, [x0, #120]", "stp d12, d13, [x0, #136]", "stp d14, d15, [x0, #152]",
    "mov x0, #0", "ret",
    ".globl longjmp", ".globl _longjmp", ".type longjmp,@function", ".type _longjmp,@function",
    "longjmp:", "_longjmp:",
    "ldp x19, x20, [x0]", "ldp x21, x22, [x0, #16]", "ldp x23, x24, [x0, #32]",
    "ldp x25, x26, [x0, #48]", "ldp x27, x28, [x0, #64]", "ldp x29, x30, [x0, #80]",
    "ldr x2, [x0, #96]", "mov sp, x2",
    "ldp d8, d9, [x0, #104]", "ldp d10, d11, [x0, #120]", "ldp d12, d13, [x0, #136]", "ldp d14, d15, [x0, #152]",
    "cmp w1, #0", "csinc w0, w1, wzr, ne", "ret",
    ".globl sigsetjmp", ".type sigsetjmp,@function",
    "sigsetjmp:",
    "str w1, [x0, #176]", "cbz w1, setjmp",
    "stp x0, x30, [sp, #-16]!", "bl {save}", "ldp x0, x30, [sp], #16", "b setjmp",
    ".globl __sigsetjmp", "__sigsetjmp = sigsetjmp",
    save = sym save_signal_mask,
);

/// Stores the current signal mask in a `sigjmp_buf` (the word after the flag).
unsafe extern "C" fn save_signal_mask(buffer: *mut u64) {
    // SAFETY: `buffer` is a sigjmp_buf, JMP_BUF_REGISTERS + 2 words.
    unsafe {
        let _ = platform::sigprocmask(0, ptr::null(), buffer.add(JMP_BUF_REGISTERS + 1));
    }
}

extern "C" {
    fn longjmp(buffer: *mut u64, value: i32) -> !;
}

#[no_mangle]
pub unsafe extern "C" fn siglongjmp(buffer: *mut u64, value: i32) -> ! {
    // SAFETY: a buffer filled by sigsetjmp.
    unsafe {
        if *(buffer.add(JMP_BUF_REGISTERS) as *const i32) != 0 {
            let _ = platform::sigprocmask(2, buffer.add(JMP_BUF_REGISTERS + 1), ptr::null_mut());
        }
        longjmp(buffer, value)
    }
}

#[no_mangle]
pub extern "C" fn __minilibc_program_name() -> *mut u8 {
    PROGRAM_NAME.get()
}

/// `getprogname` (BSD).
#[no_mangle]
pub unsafe extern "C" fn getprogname() -> *const u8 {
    let name = PROGRAM_NAME.get();
    if name.is_null() {
        return c"".as_ptr().cast::<u8>();
    }
    // SAFETY: argv[0] is NUL-terminated.
    unsafe {
        let length = c_string_length(name);
        let bytes = core::slice::from_raw_parts(name, length);
        match bytes.iter().rposition(|&b| b == b'/') {
            Some(slash) => name.add(slash + 1),
            None => name,
        }
    }
}
