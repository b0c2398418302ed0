//! The header-only RPC through `send_direct`, both legs, and nothing else:
//! run under `valgrind --tool=callgrind` to see where a leg's instructions
//! go (`RPC_PROFILE_CALLS`, default 10,000).

use mach_abi::*;
use mach_ipc::*;

mod common;
use common::NoMemory;

fn header(remote: PortName, remote_disposition: Disposition, local: PortName, local_disposition: u32) -> [u8; 24] {
    let header = MachMsgHeader {
        bits: msgh_bits(remote_disposition as u32, local_disposition),
        size: 24,
        remote_port: remote,
        local_port: local,
        voucher_port: 0,
        id: 1,
    };
    let mut bytes = [0u8; 24];
    for (index, word) in [header.bits, header.size, header.remote_port, header.local_port, 0, 1].iter().enumerate() {
        bytes[index * 4..index * 4 + 4].copy_from_slice(&word.to_le_bytes());
    }
    bytes
}

fn main() {
    let calls: u32 = std::env::var("RPC_PROFILE_CALLS").ok().and_then(|text| text.parse().ok()).unwrap_or(10_000);
    let mut ipc = Ipc::new();
    let server = ipc.create_space(1, SpaceLimits::default());
    let client = ipc.create_space(2, SpaceLimits::default());
    let service = ipc.allocate(server, PortRight::Receive).expect("allocate");
    ipc.insert_right(client, 0x100, server, service, Disposition::MakeSend as u32).expect("grant");
    let reply = ipc.allocate(client, PortRight::Receive).expect("allocate");
    let request = header(0x100, Disposition::CopySend, reply, Disposition::MakeSendOnce as u32);
    for _ in 0..calls {
        let received = ipc
            .send_direct(
                client,
                &request,
                &mut NoMemory,
                server,
                service,
                256,
                ReceiveOptions::default(),
                &mut NoMemory,
            )
            .expect("request");
        // The server answers on the send-once right it received.
        let reply_name = u32::from_le_bytes(received.bytes[8..12].try_into().expect("4 bytes"));
        let answer = header(reply_name, Disposition::MoveSendOnce, 0, 0);
        ipc.send_direct(server, &answer, &mut NoMemory, client, reply, 256, ReceiveOptions::default(), &mut NoMemory)
            .expect("reply");
    }
}
