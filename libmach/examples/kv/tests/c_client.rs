//! The generated C header: compiled with gcc (`-Wall -Wextra -Werror`, with
//! the traps and with a custom transport), and RUN: `tests/c/kv_client.c`
//! calls the generated C stubs, its transport pipes every `mach_msg` to this
//! test, which performs it in a fake task where the generated Rust server
//! answers.

use std::cell::RefCell;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::rc::Rc;

use libmach::abi::{Descriptor, MachMsgHeader, PortName, PortRight, MACH_RCV_MSG, MACH_SEND_MSG};
use libmach::fake::{FakeKernel, FakeSystem};
use libmach::{PortKernel, ReceiveRight};
use mach_kv_example::kv;
use mach_kv_example::store::Store;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

fn scratch_directory(name: &str) -> PathBuf {
    let directory = std::env::temp_dir().join(format!("mach-idl-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    std::fs::write(directory.join("kv.h"), mach_kv_example::C_HEADER).unwrap();
    directory
}

fn gcc(arguments: &[&str]) -> std::process::Output {
    Command::new("gcc")
        .args(arguments)
        .output()
        .unwrap_or_else(|error| panic!("gcc is required for this test (apt-get install gcc): {error}"))
}

#[test]
fn the_c_header_compiles_with_the_traps_and_with_a_custom_transport() {
    let directory = scratch_directory("syntax");
    let root = repository();
    let abi = format!("-I{}", root.join("mach/abi/include").display());
    let runtime = format!("-I{}", root.join("libmach/include").display());
    let header = directory.join("kv.h").display().to_string();
    for definitions in [&[][..], &["-DMACH_IDL_CUSTOM_TRANSPORT"][..]] {
        let mut arguments = vec!["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-fsyntax-only"];
        arguments.extend_from_slice(definitions);
        arguments.extend_from_slice(&[&abi, &runtime, "-x", "c", &header]);
        let output = gcc(&arguments);
        assert!(output.status.success(), "gcc {arguments:?}:\n{}", String::from_utf8_lossy(&output.stderr));
    }
    // Against minilibc's headers instead of the host's: what mcc uses.
    let minilibc = format!("-I{}", root.join("minilibc/include").display());
    let arguments = [
        "-std=c11",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-nostdinc",
        "-fsyntax-only",
        &minilibc,
        &abi,
        &runtime,
        "-x",
        "c",
        &header,
    ];
    let output = gcc(&arguments);
    assert!(output.status.success(), "gcc against minilibc:\n{}", String::from_utf8_lossy(&output.stderr));
    let _ = std::fs::remove_dir_all(directory);
}

fn read_words<const N: usize>(input: &mut impl Read) -> Option<[u32; N]> {
    let mut bytes = vec![0u8; N * 4];
    input.read_exact(&mut bytes).ok()?;
    let mut words = [0u32; N];
    for (index, word) in words.iter_mut().enumerate() {
        *word = u32::from_le_bytes(bytes[index * 4..index * 4 + 4].try_into().unwrap());
    }
    Some(words)
}

/// Performs one piped `mach_msg` of the C program in `task`.
fn perform_mach_msg(task: &FakeKernel, input: &mut impl Read, output: &mut impl Write) -> Option<()> {
    let [option, send_size, receive_size, receive_name, timeout] = read_words::<5>(input)?;
    let length = if option & MACH_RCV_MSG != 0 { receive_size.max(send_size) } else { send_size } as usize;
    let mut buffer = vec![0u8; length];
    input.read_exact(&mut buffer[..send_size as usize]).ok()?;
    // Out-of-line regions come after the message: copy them here and point
    // the descriptors at the copies, which live until the call returns.
    let mut regions: Vec<Vec<u8>> = Vec::new();
    if option & MACH_SEND_MSG != 0 && send_size >= 28 {
        let header = MachMsgHeader::read_from(&buffer)?;
        if libmach::abi::msgh_bits_is_complex(header.bits) {
            let count = u32::from_le_bytes(buffer[24..28].try_into().unwrap()) as usize;
            for index in 0..count {
                let start = 28 + index * 16;
                let Some(raw) = buffer.get(start..start + 16) else { break };
                let raw: [u8; 16] = raw.try_into().unwrap();
                if let Ok(Descriptor::OutOfLineMemory { .. }) = Descriptor::decode(&raw, index) {
                    let [size] = read_words::<1>(input)?;
                    let mut region = vec![0u8; size as usize];
                    input.read_exact(&mut region).ok()?;
                    let address = if size == 0 { 0 } else { region.as_ptr() as u64 };
                    buffer[start..start + 8].copy_from_slice(&address.to_le_bytes());
                    regions.push(region);
                }
            }
        }
    }
    let result = task.mach_msg(&mut buffer, option, send_size as usize, receive_name, timeout);
    drop(regions);
    let code = match result {
        Ok(()) => 0,
        Err(code) => code as u32,
    };
    let delivered =
        option & MACH_RCV_MSG != 0 && matches!(result, Ok(()) | Err(libmach::abi::MachMsgReturn::ReceiveBodyError));
    let answer_length = if delivered {
        let size = MachMsgHeader::read_from(&buffer)?.size as usize + libmach::abi::MACH_MSG_TRAILER_SIZE;
        size.min(buffer.len())
    } else {
        0
    };
    output.write_all(&code.to_le_bytes()).ok()?;
    output.write_all(&(answer_length as u32).to_le_bytes()).ok()?;
    output.write_all(&buffer[..answer_length]).ok()?;
    // Out-of-line regions the message brought: their bytes follow, and the
    // C program's copies replace them (this task's mapping is released).
    if delivered {
        if let Ok((view, _)) = libmach::abi::parse_received(&buffer[..answer_length]) {
            for descriptor in view.descriptors() {
                if let Descriptor::OutOfLineMemory { address, size, .. } = descriptor {
                    output.write_all(&size.to_le_bytes()).ok()?;
                    if size > 0 {
                        output.write_all(task.out_of_line_bytes(address, size).unwrap_or(&[])).ok()?;
                        task.vm_deallocate(address, size as u64).ok()?;
                    }
                }
            }
        }
    }
    output.flush().ok()
}

fn answer(output: &mut impl Write, value: u32) -> Option<()> {
    output.write_all(&value.to_le_bytes()).ok()?;
    output.flush().ok()
}

/// Serves the C program's transport requests until it closes the pipe.
fn serve_pipe(task: &FakeKernel, input: &mut impl Read, output: &mut impl Write) {
    while let Some([operation]) = read_words::<1>(input) {
        let served = match operation {
            1 => perform_mach_msg(task, input, output),
            2 => answer(output, task.reply_port().unwrap_or(0)),
            3 => read_words::<2>(input).and_then(|[name, right]| {
                let result = if right == PortRight::Receive as u32 {
                    task.port_mod_refs(name, PortRight::Receive, -1)
                } else {
                    task.port_deallocate(name)
                };
                answer(output, result.err().map_or(0, |code| code as u32))
            }),
            4 => {
                let port = ReceiveRight::allocate(task).unwrap();
                port.make_send().unwrap().into_name();
                answer(output, port.into_name())
            }
            5 => read_words::<1>(input).and_then(|[name]| answer(output, task.port_type(name).unwrap_or(0))),
            _ => None,
        };
        if served.is_none() {
            break;
        }
    }
}

#[test]
fn the_c_stubs_call_the_rust_server() {
    let directory = scratch_directory("run");
    let root = repository();
    let program = directory.join("kv_client");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/kv_client.c");
    let arguments = [
        "-std=c11".to_string(),
        "-Wall".into(),
        "-Wextra".into(),
        "-Werror".into(),
        "-O1".into(),
        format!("-I{}", directory.display()),
        format!("-I{}", root.join("mach/abi/include").display()),
        format!("-I{}", root.join("libmach/include").display()),
        source.display().to_string(),
        "-o".into(),
        program.display().to_string(),
    ];
    let arguments: Vec<&str> = arguments.iter().map(String::as_str).collect();
    let output = gcc(&arguments);
    assert!(output.status.success(), "gcc:\n{}", String::from_utf8_lossy(&output.stderr));

    let system = FakeSystem::new();
    let server_task = system.task();
    let client_task = system.task();
    let service = ReceiveRight::allocate(&server_task).unwrap();
    let store = Rc::new(RefCell::new(Store::new(&server_task)));
    let handler_store = store.clone();
    let handler_kernel = server_task.clone();
    system.attach_server(&server_task, service.name(), kv::BUFFER_SIZE, move |request, reply| {
        kv::dispatch(&mut *handler_store.borrow_mut(), &handler_kernel, request, reply)
    });
    let server_send: PortName = system.give_send_right(&server_task, service.name(), &client_task).unwrap();
    let names_before = system.name_count(&client_task);

    let mut child = Command::new(&program)
        .arg(server_send.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child_output = child.stdout.take().unwrap();
    let mut child_input = child.stdin.take().unwrap();
    serve_pipe(&client_task, &mut child_output, &mut child_input);
    drop(child_input);
    let status = child.wait().unwrap();
    let mut report = String::new();
    child.stderr.take().unwrap().read_to_string(&mut report).unwrap();
    print!("{report}");
    assert!(status.success(), "the C client failed:\n{report}");
    assert!(report.trim_end().ends_with("passed, 0 failed"), "{report}");
    assert!(report.lines().filter(|line| line.starts_with("ok ")).count() >= 20, "{report}");

    // The Rust server saw what the C client did.
    system.run_servers();
    let store = store.borrow();
    assert_eq!(store.log_lines, 1);
    assert_eq!(store.last_log.1.as_str(), "hello from C");
    drop(store);
    // The C program released its reply ports and the rights it was given;
    // what remains is the receive right it made for `watch` (and its send right).
    assert_eq!(system.name_count(&client_task), names_before + 1);
    assert_eq!(system.live_regions(), 0);
    system.check_invariants().unwrap();
    let _ = std::fs::remove_dir_all(directory);
}

#[test]
fn the_c_stubs_survive_random_replies_under_the_sanitizers() {
    let directory = scratch_directory("fuzz");
    let root = repository();
    let program = directory.join("fuzz_replies");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/fuzz_replies.c");
    let arguments = [
        "-std=c11".to_string(),
        "-Wall".into(),
        "-Wextra".into(),
        "-Werror".into(),
        "-O1".into(),
        "-g".into(),
        "-fsanitize=address,undefined".into(),
        "-fno-sanitize-recover=all".into(),
        format!("-I{}", directory.display()),
        format!("-I{}", root.join("mach/abi/include").display()),
        format!("-I{}", root.join("libmach/include").display()),
        source.display().to_string(),
        "-o".into(),
        program.display().to_string(),
    ];
    let arguments: Vec<&str> = arguments.iter().map(String::as_str).collect();
    let output = gcc(&arguments);
    assert!(output.status.success(), "gcc:\n{}", String::from_utf8_lossy(&output.stderr));
    let rounds = std::env::var("MACH_PROPTEST_CASES").unwrap_or_else(|_| "2000".into());
    let run = Command::new(&program).arg(&rounds).output().unwrap();
    let report = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "the C stubs misbehaved on a random reply:\n{report}");
    assert!(report.contains("replies accepted"), "{report}");
    let _ = std::fs::remove_dir_all(directory);
}
