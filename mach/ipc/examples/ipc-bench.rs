//! Host micro-benchmarks of the IPC core (no kernel, no traps): the cost of
//! the object-model work per message. Run: `scripts/benches/ipc`.

use std::time::Instant;

use mach_abi::*;
use mach_ipc::*;

mod common;
use common::NoMemory;

fn encode(
    destination: (PortName, Disposition),
    reply: Option<(PortName, Disposition)>,
    descriptors: &[Descriptor],
    data: &[u8],
) -> Vec<u8> {
    let (reply_name, reply_bits) = reply.map_or((MACH_PORT_NULL, 0), |(name, disposition)| (name, disposition as u32));
    let header = MachMsgHeader {
        bits: msgh_bits(destination.1 as u32, reply_bits),
        remote_port: destination.0,
        local_port: reply_name,
        id: 1,
        ..Default::default()
    };
    let mut buffer = vec![0u8; 4096];
    let mut encoder = MessageEncoder::new(&mut buffer, header, false);
    for descriptor in descriptors {
        encoder.descriptor(*descriptor).expect("descriptor fits");
    }
    encoder.inline_data(data).expect("data fits");
    let length = encoder.finish().expect("message fits");
    buffer.truncate(length);
    buffer
}

fn measure(label: &str, iterations: u32, mut body: impl FnMut()) -> String {
    for _ in 0..iterations / 10 {
        body();
    }
    let start = Instant::now();
    for _ in 0..iterations {
        body();
    }
    let nanoseconds = start.elapsed().as_nanos() as f64 / iterations as f64;
    format!("{label:<48} {nanoseconds:>10.0} ns/op  ({:.0} ops/s)", 1e9 / nanoseconds)
}

fn main() {
    let iterations =
        std::env::var("IPC_BENCH_ITERATIONS").ok().and_then(|text| text.parse().ok()).unwrap_or(200_000u32);
    let mut ipc = Ipc::new();
    let server = ipc.create_space(1, SpaceLimits::default());
    let client = ipc.create_space(2, SpaceLimits::default());
    let service = ipc.allocate(server, PortRight::Receive).expect("allocate");
    ipc.insert_right(client, 0x100, server, service, Disposition::MakeSend as u32).expect("grant");
    let reply = ipc.allocate(client, PortRight::Receive).expect("allocate");
    let carried: Vec<PortName> = (0..8)
        .map(|_| {
            let name = ipc.allocate(client, PortRight::Receive).expect("allocate");
            ipc.insert_right(client, name, client, name, Disposition::MakeSend as u32).expect("make send");
            name
        })
        .collect();
    let buffer_size = 4096;
    let mut lines = Vec::new();

    let simple = encode((0x100, Disposition::CopySend), None, &[], &[0u8; 32]);
    lines.push(measure("send + receive, 32 bytes inline", iterations, || {
        ipc.send(client, &simple, &mut NoMemory).expect("send");
        ipc.receive(server, service, buffer_size, ReceiveOptions::default(), &mut NoMemory).expect("receive");
    }));

    let request = encode((0x100, Disposition::CopySend), Some((reply, Disposition::MakeSendOnce)), &[], &[0u8; 32]);
    lines.push(measure("RPC via queues (request, reply, 2 receives)", iterations, || {
        ipc.send(client, &request, &mut NoMemory).expect("send");
        let received =
            ipc.receive(server, service, buffer_size, ReceiveOptions::default(), &mut NoMemory).expect("receive");
        let reply_name = u32::from_le_bytes(received.bytes[8..12].try_into().expect("4 bytes"));
        let answer = encode((reply_name, Disposition::MoveSendOnce), None, &[], &[0u8; 16]);
        ipc.send(server, &answer, &mut NoMemory).expect("reply");
        ipc.receive(client, reply, buffer_size, ReceiveOptions::default(), &mut NoMemory).expect("receive reply");
    }));

    lines.push(measure("RPC via direct handoff (both directions)", iterations, || {
        let received = ipc
            .send_direct(
                client,
                &request,
                &mut NoMemory,
                server,
                service,
                buffer_size,
                ReceiveOptions::default(),
                &mut NoMemory,
            )
            .expect("handoff");
        let reply_name = u32::from_le_bytes(received.bytes[8..12].try_into().expect("4 bytes"));
        let answer = encode((reply_name, Disposition::MoveSendOnce), None, &[], &[0u8; 16]);
        ipc.send_direct(
            server,
            &answer,
            &mut NoMemory,
            client,
            reply,
            buffer_size,
            ReceiveOptions::default(),
            &mut NoMemory,
        )
        .expect("handoff reply");
    }));

    let descriptors: Vec<Descriptor> =
        carried.iter().map(|name| Descriptor::Port { name: *name, disposition: Disposition::CopySend }).collect();
    let rights = encode((0x100, Disposition::CopySend), None, &descriptors, &[]);
    lines.push(measure("send + receive, 8 send rights (then deallocated)", iterations / 4, || {
        ipc.send(client, &rights, &mut NoMemory).expect("send");
        let received =
            ipc.receive(server, service, buffer_size, ReceiveOptions::default(), &mut NoMemory).expect("receive");
        let (view, _) = parse_received(&received.bytes).expect("parse");
        for descriptor in view.descriptors() {
            if let Descriptor::Port { name, .. } = descriptor {
                ipc.deallocate(server, name).expect("deallocate");
            }
        }
    }));

    let validate = encode((0x100, Disposition::CopySend), None, &descriptors, &[0u8; 256]);
    lines.push(measure("parse (validate) 8 descriptors + 256 bytes", iterations * 5, || {
        std::hint::black_box(parse(std::hint::black_box(&validate)).expect("valid"));
    }));

    lines.push(measure("check_invariants (small state)", iterations / 100, || {
        ipc.check_invariants().expect("consistent");
    }));

    for line in &lines {
        println!("{line}");
    }
}
