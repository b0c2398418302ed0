//! The committed C header must equal the rendered one, and must compile.

use std::path::{Path, PathBuf};
use std::process::Command;

fn header_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(mach_abi::C_HEADER_PATH)
}

fn rendered() -> String {
    let mut text = String::new();
    mach_abi::render_c_header(&mut text).unwrap();
    text
}

#[test]
fn header_is_current() {
    let expected = rendered();
    if std::env::var_os("UPDATE_HEADERS").is_some() {
        std::fs::write(header_path(), &expected).unwrap();
    }
    let committed = std::fs::read_to_string(header_path()).unwrap_or_default();
    assert!(
        committed == expected,
        "{} is stale: regenerate it with `cargo run -p mach-abi --example render-header` \
         (or `UPDATE_HEADERS=1 cargo test -p mach-abi`) and commit it",
        mach_abi::C_HEADER_PATH
    );
}

#[test]
fn header_compiles_with_gcc_and_its_asserts_hold() {
    let directory = std::env::temp_dir().join(format!("mach-abi-header-{}", std::process::id()));
    std::fs::create_dir_all(directory.join("mach")).unwrap();
    std::fs::write(directory.join("mach/mach_abi.h"), rendered()).unwrap();
    let source = directory.join("check.c");
    std::fs::write(
        &source,
        r#"#include <mach/mach_abi.h>
/* A C client's view: build an RPC request header and a port descriptor. */
typedef struct {
    mach_msg_header_t header;
    mach_msg_body_t body;
    mach_msg_port_descriptor_t port;
    mach_msg_ool_descriptor_t memory;
    uint32_t value;
} request_t;
_Static_assert(sizeof(request_t) == 24 + 4 + 16 + 16 + 4, "request layout");
_Static_assert(offsetof(request_t, memory) == 44, "ool descriptor at 44");
_Static_assert(MACH_MSG_TYPE_MOVE_RECEIVE == 16 && MACH_MSG_TYPE_MAKE_SEND_ONCE == 21, "dispositions");
_Static_assert(MACH_NOTIFY_DEAD_NAME == 72 && MACH_NOTIFY_PORT_DELETED == 65, "octal ids");
_Static_assert(MACH_SEND_INVALID_DEST == 0x10000003 && MACH_RCV_TIMED_OUT == 0x10004003, "msg returns");
_Static_assert(KERN_INVALID_RIGHT == 17 && KERN_UREFS_OVERFLOW == 19, "kern returns");
int build(request_t *request) {
    request->header.msgh_bits = MACH_MSGH_BITS_SET(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE, 0, MACH_MSGH_BITS_COMPLEX);
    request->header.msgh_size = sizeof *request;
    request->body.msgh_descriptor_count = 2;
    request->port.type = MACH_MSG_PORT_DESCRIPTOR;
    request->memory.type = MACH_MSG_OOL_DESCRIPTOR;
    return MACH_MSGH_BITS_IS_COMPLEX(request->header.msgh_bits);
}
"#,
    )
    .unwrap();
    let output = match Command::new("gcc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-I"])
        .arg(&directory)
        .arg(&source)
        .output()
    {
        Ok(output) => output,
        Err(error) => panic!("gcc is required for this test (apt-get install gcc): {error}"),
    };
    let _ = std::fs::remove_dir_all(&directory);
    assert!(output.status.success(), "gcc rejected the header:\n{}", String::from_utf8_lossy(&output.stderr));
}
